//! The operator dashboard the host serves itself on its base domain (`livewasm serve
//! --dashboard target/components/operator-dashboard.wasm`), after Phoenix LiveDashboard: live
//! per-tenant charts (instances, events/s, errors, memory, fuel/s) refreshed once a second, the
//! apps with their active versions and counters, the recent deploys and audit entries.
//!
//! Routes: `/ops/login` (a form taking an API token: `login.rs`), `/ops` (the dashboard:
//! `view.rs`), `POST /ops/login` and `POST /ops/logout`. Everything it shows comes from the
//! host's `operator` capability (`livewasm_sdk::operator`), which the host grants this app
//! alone and which checks the token as the platform API does: an operator token sees every
//! tenant, a tenant token only its own apps. The charts are uPlot (npm), bundled with esbuild
//! into `hooks/charts.js` and shipped as the `OpsCharts` client hook; `sample.rs` turns two
//! consecutive overviews into rates and the hook's samples.

pub mod login;
pub mod sample;
pub mod view;

use login::{LoginLive, log_in, log_out};
use view::OpsDashboard;

livewasm_sdk::app! {
    name: "operator-dashboard",
    routes: {
        "/ops" => OpsDashboard;
        "/ops/login" => LoginLive;
    },
    http: {
        POST "/ops/login" => log_in;
        POST "/ops/logout" => log_out;
    },
    hooks: {
        "OpsCharts" => include_str!("../hooks/charts.js");
    },
    assets: [
        ("uplot.css", include_bytes!("../assets/uplot.css")),
        ("app.css", include_bytes!("../assets/app.css")),
    ],
    root_layout: {
        stylesheets: ["uplot.css", "app.css"],
        title_suffix: " · Livewasm",
    },
}
