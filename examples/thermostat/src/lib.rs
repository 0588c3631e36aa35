//! ThermostatLive from the seed: shows a house's temperature, raises or lowers it with buttons
//! or the arrow keys, and refreshes the "last updated" time every second while connected.
//!
//! `?page=N` is read by `handle_params`, as in the seed. Add `tick=off` to the URL to mount
//! without the 1 s timer (used by density benchmarks).

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
}

/// The message the 1 s timer delivers.
const TICK: &str = "tick";

fn now() -> String {
    time::format_hms(time::now_ms())
}

impl LiveView for Thermostat {
    fn mount(socket: &mut Socket<Self>, params: &Params, session: &Session) -> Result {
        if socket.connected() && params.str("tick") != Some("off") {
            timers::send_interval(1000, TICK);
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
        Ok(())
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
