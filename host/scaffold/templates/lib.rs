//! {{name}}: a counter, made from the Livewasm template. Edit it and save: `cargo xtask dev`
//! (or `livewasm serve --dev`) swaps the rebuilt component in and the page reloads.

use livewasm_sdk::prelude::*;

/// The view's assigns: what `render` shows.
#[derive(Assigns, Default)]
pub struct {{Type}} {
    count: i64,
}

impl LiveView for {{Type}} {
    fn mount(socket: &mut Socket<Self>, params: &Params, _session: &Session) -> Result {
        // `?count=5` in the URL starts the count at 5.
        let count = params
            .str("count")
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        assign!(socket, count = count);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: &Value) -> Result {
        let count = socket.assigns().count;
        match event {
            "inc" => assign!(socket, count = count + 1),
            "dec" => assign!(socket, count = count - 1),
            "reset" => assign!(socket, count = 0),
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="{{name}}">
  <h1>{{name}}</h1>
  <p>Count: <span class="count">{@count}</span></p>
  <button phx-click="dec">-</button>
  <button phx-click="inc">+</button>
  <button phx-click="reset">Reset</button>
</div>
"#
        )
    }
}

livewasm_sdk::app! {
    name: "{{name}}",
    routes: {
        "/{{name}}" => {{Type}};
    }
}
