//! `OpsDashboard` (`/ops`): the overview the signed-in token may see, refreshed every second
//! by a timer. Each refresh assigns the tables (tenants, apps with their active version,
//! recent deploys and audit entries) and pushes `ops:sample` to the `OpsCharts` hook, which
//! draws one line per tenant. No token in the session: the login page; a token the host
//! refuses at mount: the login page with the host's reason; one refused later (revoked while
//! the page is open): the reason above the tables, which keep their last figures.

use livewasm_sdk::operator::{self, AuditLine};
use livewasm_sdk::prelude::*;
use livewasm_sdk::time;

use crate::login::TOKEN_KEY;
use crate::sample::{AppRow, TenantRow, Totals, mib, rate, sample};

/// The refresh timer's message.
const TICK: &str = "ops_tick";
/// Milliseconds between refreshes.
pub const REFRESH_MS: u32 = 1000;

/// The dashboard's assigns.
#[derive(Assigns, Default)]
pub struct OpsDashboard {
    csrf: String,
    /// "Operator" or "Tenant acme".
    who: String,
    tenants: Vec<TenantRow>,
    apps: Vec<AppRow>,
    deploys: Vec<AuditLine>,
    audit: Vec<AuditLine>,
    apps_left_out: usize,
    /// Why the last refresh failed, if it did.
    error: Option<String>,
    /// When the figures were read (`HH:MM:SS`, UTC).
    updated: String,
    /// The session's API token (never rendered).
    token: String,
    /// What the next rates are computed against (never rendered).
    totals: Option<Totals>,
}

impl OpsDashboard {
    /// Reads the overview and assigns it; `Err` carries the host's reason.
    fn refresh(socket: &mut Socket<Self>) -> std::result::Result<(), String> {
        let overview = operator::overview(&socket.assigns().token).map_err(|e| e.to_string())?;
        let now = time::now_ms();
        let sampled = sample(&overview, socket.assigns().totals.as_ref(), now);
        if socket.connected() {
            socket.push_event("ops:sample", sampled.chart_event());
        }
        let who = match &overview.tenant {
            Some(tenant) => format!("Tenant {tenant}"),
            None => "Operator".to_string(),
        };
        socket.assigns_mut().totals = Some(sampled.totals);
        assign!(
            socket,
            who = who,
            tenants = sampled.tenants,
            apps = sampled.apps,
            deploys = overview.deploys,
            audit = overview.audit,
            apps_left_out = overview.apps_left_out,
            error = None,
            updated = time::format_hms(now)
        );
        Ok(())
    }
}

fn version(v: Option<u64>) -> String {
    v.map_or_else(|| "none".to_string(), |v| v.to_string())
}

fn when(at: i64) -> String {
    time::format_hms(u64::try_from(at).unwrap_or(0))
}

impl LiveView for OpsDashboard {
    fn mount(socket: &mut Socket<Self>, _params: &Params, session: &Session) -> Result {
        let Some(token) = session.str(TOKEN_KEY).filter(|t| !t.is_empty()) else {
            socket.redirect("/ops/login");
            return Ok(());
        };
        let csrf = session.str("_csrf_token").unwrap_or_default().to_string();
        socket.assigns_mut().token = token.to_string();
        assign!(socket, csrf = csrf);
        socket.page_title("Dashboard");
        if let Err(reason) = Self::refresh(socket) {
            socket.put_flash("error", reason);
            socket.redirect("/ops/login");
            return Ok(());
        }
        if socket.connected() {
            timers::send_interval(REFRESH_MS, TICK);
        }
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        if message.as_str() == Some(TICK)
            && let Err(reason) = Self::refresh(socket)
        {
            assign!(socket, error = Some(reason));
        }
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        let info = assigns.flash().get("info").unwrap_or_default().to_string();
        html!(
            r#"
<main id="ops-dashboard" class="ops">
  <header class="ops-header">
    <h1>Livewasm dashboard</h1>
    <span id="ops-who">{@who}</span>
    <span class="ops-updated">updated <span id="ops-updated">{@updated}</span> UTC</span>
    <form id="logout-form" action="/ops/logout" method="post">
      <input type="hidden" name="_csrf_token" value={@csrf.clone()}>
      <button type="submit">Sign out</button>
    </form>
  </header>
  <p :if={!info.is_empty()} id="flash-info" class="flash flash-info" role="status">{info.as_str()}</p>
  <p :if={@error.is_some()} id="ops-error" class="flash flash-error" role="alert">{@error.clone().unwrap_or_default()}</p>

  <section>
    <h2>Tenants</h2>
    <div id="ops-charts" class="ops-charts" phx-hook="OpsCharts" phx-update="ignore"></div>
    <table id="tenants">
      <thead><tr><th>Tenant</th><th>Apps</th><th>Instances</th><th>Events/s</th><th>Errors</th><th>Traps</th><th>Memory (MiB)</th><th>Fuel/s</th></tr></thead>
      <tbody>
        <tr :for={t in @tenants.iter()} id={format!("tenant-{}", t.name)}>
          <td class="name">{t.name.as_str()}</td>
          <td class="apps">{t.apps}</td>
          <td class="instances">{t.instances}</td>
          <td class="events">{rate(t.events_per_sec)}</td>
          <td class="errors">{t.errors}</td>
          <td class="traps">{t.traps}</td>
          <td class="memory">{mib(t.memory)}</td>
          <td class="fuel">{rate(t.fuel_per_sec)}</td>
        </tr>
      </tbody>
    </table>
  </section>

  <section>
    <h2>Apps</h2>
    <table id="apps">
      <thead><tr><th>App</th><th>Active version</th><th>Instances</th><th>Events</th><th>Errors</th><th>Traps</th><th>Memory (MiB)</th><th>Fuel</th></tr></thead>
      <tbody>
        <tr :for={a in @apps.iter()} id={format!("app-{}-{}", a.tenant, a.name)}>
          <td class="name">{format!("{}/{}", a.tenant, a.name)}</td>
          <td class="version">{version(a.version)}</td>
          <td class="instances">{a.instances}</td>
          <td class="events">{a.events}</td>
          <td class="errors">{a.errors}</td>
          <td class="traps">{a.traps}</td>
          <td class="memory">{mib(a.memory)}</td>
          <td class="fuel">{a.fuel}</td>
        </tr>
      </tbody>
    </table>
    <p :if={@apps_left_out > 0} id="apps-left-out">{@apps_left_out} more apps not shown.</p>
  </section>

  <section class="ops-logs">
    <div>
      <h2>Recent deploys</h2>
      <ul id="deploys">
        <li :for={d in @deploys.iter()}>{when(d.at)} {d.action.as_str()} {d.target.as_str()} <span class="actor">{d.actor.as_str()}</span></li>
      </ul>
    </div>
    <div>
      <h2>Audit log</h2>
      <ul id="audit">
        <li :for={e in @audit.iter()}>{when(e.at)} {e.action.as_str()} {e.target.as_str()} <span class="actor">{e.actor.as_str()}</span></li>
      </ul>
    </div>
  </section>
</main>
"#
        )
    }
}
