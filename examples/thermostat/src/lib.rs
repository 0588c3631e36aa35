//! ThermostatLive from the seed: shows a house's temperature, raises or lowers it with buttons
//! or the arrow keys, and refreshes the "last updated" time every second while connected.
//!
//! `?page=N` is read by `handle_params`, as in the seed. Add `tick=off` to the URL to mount
//! without the 1 s timer (used by density benchmarks), or `tick=N` for a timer every N seconds
//! (a view whose timer is far enough off hibernates between ticks).
//!
//! The `v2` feature builds a second version of it (`thermostat-v2.wasm`), the one the live
//! upgrade tests activate over this one: it shows the temperature with a unit, a field the
//! first version lacks, which its `migrate` fills in for views coming from that version (and
//! it refuses, for the tests' sake, a house that is not a number: that view is remounted).

use livewasm_sdk::prelude::*;
use livewasm_sdk::time;

/// The thermostat's assigns. Serializable, so an idle thermostat hibernates (the host frees
/// its instance and restores it on the next event or tick).
#[derive(Assigns, Default, serde::Serialize, serde::Deserialize)]
pub struct Thermostat {
    house_id: String,
    temperature: i64,
    user: String,
    last_update: String,
    /// `?page=` of the URL (the seed's `handle_params`), 1 without one.
    page: u32,
    /// The unit shown after the temperature (new in `v2`).
    #[cfg(feature = "v2")]
    unit: String,
}

/// The message the 1 s timer delivers.
const TICK: &str = "tick";

fn now() -> String {
    time::format_hms(time::now_ms())
}

impl LiveView for Thermostat {
    fn mount(socket: &mut Socket<Self>, params: &Params, session: &Session) -> Result {
        let tick = params.str("tick");
        if socket.connected() && tick != Some("off") {
            let seconds = tick.and_then(|t| t.parse::<u32>().ok()).unwrap_or(1).max(1);
            timers::send_interval(seconds.saturating_mul(1000), TICK);
        }
        let house_id = params.str("house").unwrap_or("1").to_string();
        let user = session.str("user_id").unwrap_or("guest").to_string();
        assign!(
            socket,
            house_id = house_id,
            temperature = 70,
            user = user,
            last_update = now()
        );
        #[cfg(feature = "v2")]
        assign!(socket, unit = "°F".to_string());
        Ok(())
    }

    /// Version 2 takes over views of version 1: they get the unit they lack. A house that is
    /// not a number is refused (the host remounts that view on this version).
    #[cfg(feature = "v2")]
    fn migrate(mut assigns: Value, _from_version: &str) -> std::result::Result<Value, String> {
        let house = assigns
            .get("house_id")
            .and_then(Value::as_str)
            .unwrap_or("");
        if house.parse::<u64>().is_err() {
            return Err(format!("house `{house}` is not a number"));
        }
        if assigns.get("unit").is_none() {
            assigns["unit"] = Value::from("°F");
        }
        Ok(assigns)
    }

    /// The seed's `handle_params`: the page from the URL, on mount and on every live patch.
    fn handle_params(socket: &mut Socket<Self>, params: &Params, _url: &str) -> Result {
        let page = params
            .str("page")
            .and_then(|p| p.parse().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1);
        assign!(socket, page = page);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        let temperature = socket.assigns().temperature;
        match (event, value.get("key").and_then(Value::as_str)) {
            ("inc", _) | ("update_temp", Some("ArrowUp")) => {
                assign!(socket, temperature = temperature + 1, last_update = now());
            }
            ("dec", _) | ("update_temp", Some("ArrowDown")) => {
                assign!(socket, temperature = temperature - 1, last_update = now());
            }
            ("update_temp", _) => {}
            (other, _) => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        if message.as_str() == Some(TICK) {
            assign!(socket, last_update = now());
        } else if let Some(t) = message.get("temperature_update").and_then(Value::as_i64) {
            assign!(socket, temperature = t, last_update = now());
        }
        Ok(())
    }

    #[cfg(not(feature = "v2"))]
    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="thermostat" class="mx-auto mt-8 max-w-md rounded-lg bg-white p-6 shadow" phx-window-keyup="update_temp">
  <h1 class="text-2xl font-bold text-gray-900">House {@house_id} - {@temperature}°F</h1>
  <p class="temperature text-4xl font-semibold text-orange-600">Temperature: {@temperature}°F</p>
  <p>User: {@user}</p>
  <p id="page" class="text-sm text-gray-500">Page {@page}</p>
  <p class="text-sm text-gray-500">Last updated: <span id="last-update">{@last_update}</span></p>
  <button class="rounded border-0 bg-blue-600 px-4 py-2 text-white hover:bg-blue-700 cursor-pointer" phx-click="inc" phx-throttle="1000">+</button>
  <button class="rounded border-0 bg-blue-600 px-4 py-2 text-white hover:bg-blue-700 cursor-pointer" phx-click="dec" phx-throttle="1000">-</button>
</div>
"#
        )
    }

    #[cfg(feature = "v2")]
    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="thermostat" class="mx-auto mt-8 max-w-md rounded-lg bg-white p-6 shadow" phx-window-keyup="update_temp">
  <h1 class="text-2xl font-bold text-gray-900">House {@house_id} - {@temperature}{@unit}</h1>
  <p id="version" class="text-xs text-gray-400">Thermostat v2</p>
  <p class="temperature text-4xl font-semibold text-orange-600">Temperature: {@temperature}{@unit}</p>
  <p>User: {@user}</p>
  <p id="page" class="text-sm text-gray-500">Page {@page}</p>
  <p class="text-sm text-gray-500">Last updated: <span id="last-update">{@last_update}</span></p>
  <button class="rounded border-0 bg-blue-600 px-4 py-2 text-white hover:bg-blue-700 cursor-pointer" phx-click="inc" phx-throttle="1000">+</button>
  <button class="rounded border-0 bg-blue-600 px-4 py-2 text-white hover:bg-blue-700 cursor-pointer" phx-click="dec" phx-throttle="1000">-</button>
</div>
"#
        )
    }
}

livewasm_sdk::app! {
    name: "thermostat",
    routes: {
        "/thermostat" => Thermostat;
    },
    assets: [("app.css", include_bytes!("../assets/app.css"))],
    root_layout: {
        stylesheets: ["app.css"],
        title_suffix: " · Livewasm",
        body_class: "bg-gray-50 antialiased",
    },
}
