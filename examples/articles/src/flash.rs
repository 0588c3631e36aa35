//! The flash messages of a page, each clearing itself on click (`lv:clear-flash`).

use livewasm_sdk::prelude::*;

/// The `info` and `error` messages of `flash`.
pub fn flash_group(flash: &Flash) -> Rendered {
    let info = flash.get("info").map(str::to_string);
    let error = flash.get("error").map(str::to_string);
    html!(
        r#"
<div id="flash-group">
  <p :if={info.is_some()} id="flash-info" class="flash flash-info" role="alert"
     phx-click="lv:clear-flash" phx-value-key="info">{info.clone().unwrap_or_default()}</p>
  <p :if={error.is_some()} id="flash-error" class="flash flash-error" role="alert"
     phx-click="lv:clear-flash" phx-value-key="error">{error.clone().unwrap_or_default()}</p>
</div>
"#
    )
}
