//! The seed's DashboardLive, and a sales console feeding it over PubSub.
//!
//! `/dashboard/:org_slug` (and `/dashboard`, for `acme`) mounts the dashboard: socket assigns
//! (`assign`, `assign_new`, `update`, `update_with`); the organization, and the member's
//! profile and rank (one task for two assigns), loaded with `assign_async!` (loading and failed
//! states, a Retry button); metrics computed with `start_async` and received in `handle_async`
//! (cancel with `cancel_async`; a crashing computation, org `crashy`, fails the metrics and
//! flashes an error, the view lives on); and live updates: every dashboard of an org subscribes
//! to `org:<slug>`, where the sales console (`/dashboard/:org_slug/sales`, any other socket)
//! broadcasts each sale, and where "Wave" reaches the other viewers (`broadcast_from`). The
//! service status comes from an HTTP API (`fetch`, in a task: `data::STATUS_URL`, or the page's
//! `?status_url=`), which only works when the host allows the app that host. Every route
//! renders in `<main class="dashboard-container">`. The team card (`team::TeamCard`) is a live
//! component that loads the team with its own `start_async` and guards its events with hooks
//! attached to its socket.

pub mod data;
pub mod team;

use livewasm_sdk::prelude::*;

use data::{
    Metrics, Org, Profile, STATUS_URL, ServiceStatus, fetch_metrics, fetch_org, fetch_profile,
    fetch_status, fetch_team,
};
use team::TeamCard;

/// The PubSub topic of an organization.
pub fn topic(slug: &str) -> String {
    format!("org:{slug}")
}

/// The dashboard's assigns.
#[derive(Assigns, Default)]
pub struct Dashboard {
    slug: String,
    name: String,
    count: i64,
    current_user: Option<String>,
    max_users: u64,
    errors: Vec<String>,
    org: AsyncResult<Org>,
    profile: AsyncResult<Profile>,
    rank: AsyncResult<u32>,
    metrics: AsyncResult<Metrics>,
    service: AsyncResult<ServiceStatus>,
    activity: Vec<String>,
}

/// The `start_async` name of the metrics computation.
const METRICS_TASK: &str = "metrics_task";

fn profile_line(profile: &AsyncResult<Profile>, rank: &AsyncResult<u32>) -> String {
    let name = profile.result.as_ref().map_or("", |p| p.name.as_str());
    match rank.result {
        Some(rank) => format!("{name} (rank #{rank})"),
        None => name.to_string(),
    }
}

fn metric(metrics: &AsyncResult<Metrics>, pick: fn(&Metrics) -> u64) -> u64 {
    metrics.result.as_ref().map(pick).unwrap_or_default()
}

fn start_metrics(socket: &mut Socket<Dashboard>) -> Result {
    let slug = socket.assigns().slug.clone();
    update!(socket, metrics, |m| {
        m.loading = true;
        m.failed = None;
    });
    socket.start_async(METRICS_TASK, fetch_metrics, slug)
}

impl LiveView for Dashboard {
    fn mount(socket: &mut Socket<Self>, params: &Params, session: &Session) -> Result {
        let slug = params.str("org_slug").unwrap_or("acme").to_string();
        assign!(
            socket,
            slug = slug.clone(),
            name = "Dashboard".to_string(),
            count = 0,
            errors = Vec::new()
        );
        assign_new!(socket, current_user, || session
            .str("user_id")
            .unwrap_or("guest")
            .to_string());
        update!(socket, count, |c| *c += 1);
        if socket.connected() {
            pubsub::subscribe(&topic(&slug))?;
        }
        assign_async!(socket, org, fetch_org, slug.clone());
        assign_async!(socket, [profile, rank], fetch_profile, slug);
        let status_url = params.str("status_url").unwrap_or(STATUS_URL).to_string();
        assign_async!(socket, service, fetch_status, status_url);
        start_metrics(socket)
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, _value: &Value) -> Result {
        let slug = socket.assigns().slug.clone();
        match event {
            "retry_org" => assign_async!(socket, org, fetch_org, slug),
            "refresh" => start_metrics(socket)?,
            "cancel" => {
                socket.cancel_async(METRICS_TASK);
            }
            "wave" => {
                let from = socket.assigns().current_user.clone().unwrap_or_default();
                pubsub::broadcast_from(&topic(&slug), &json!({"event": "wave", "from": from}))?;
            }
            other => return Err(format!("unknown event `{other}`").into()),
        }
        Ok(())
    }

    fn handle_async(socket: &mut Socket<Self>, name: &str, outcome: AsyncOutcome) -> Result {
        if name != METRICS_TASK {
            return Err(format!("unknown task `{name}`").into());
        }
        match outcome.and_then(decode_async::<Metrics>) {
            Ok(metrics) => {
                update!(socket, metrics, |m| {
                    *m = AsyncResult::ok(metrics);
                });
                update_with!(socket, max_users, |max: &u64, _| (*max).max(metrics.users));
            }
            Err(reason) => {
                update!(socket, metrics, |m| {
                    m.loading = false;
                    m.failed = Some(reason);
                });
                socket.put_flash("error", "Failed to load metrics");
            }
        }
        Ok(())
    }

    fn handle_info(socket: &mut Socket<Self>, message: &Value) -> Result {
        let line = match message.get("event").and_then(Value::as_str) {
            Some("sale") => {
                let amount = message.get("amount").and_then(Value::as_u64).unwrap_or(0);
                update!(socket, metrics, |m| {
                    if let Some(metrics) = m.result.as_mut() {
                        metrics.revenue += amount;
                    }
                });
                format!("Sale: ${amount}")
            }
            Some("wave") => {
                let from = message
                    .get("from")
                    .and_then(Value::as_str)
                    .unwrap_or("someone");
                format!("{from} waved")
            }
            _ => return Ok(()),
        };
        update!(socket, count, |c| *c += 1);
        update!(socket, activity, |a| {
            a.insert(0, line);
            a.truncate(10);
        });
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div class="dashboard" id="dashboard">
  <.flash_group flash={assigns.flash()} />
  <h1>{@name}</h1>
  <p id="count">Count: {@count}</p>
  <p id="current-user">Current user: {@current_user.as_deref().unwrap_or("")}</p>
  <p id="max-users">Max users: {@max_users}</p>
  <ul :for={error in @errors.iter()}><li class="error">{error}</li></ul>
  <section id="org">
    <.async_result assign={&@org} :let={org}>
      <:loading><div class="loading">Loading organization...</div></:loading>
      <:failed :let={reason}>
        <div class="error">Failed to load organization: {reason} <button id="retry-org" phx-click="retry_org">Retry</button></div>
      </:failed>
      <h2>{org.name}</h2>
      <p>{org.description}</p>
      <p class="loaded">Dashboard Data</p>
    </.async_result>
  </section>
  <section id="profile">
    <div :if={@profile.loading}>Loading profile...</div>
    <div :if={@profile.is_ok()}><p>Profile: {profile_line(&@profile, &@rank)}</p></div>
    <div :if={@profile.failed.is_some()} class="error">Error loading profile</div>
  </section>
  <section id="metrics">
    <div :if={@metrics.loading}>Calculating metrics... <button id="cancel" phx-click="cancel">Cancel</button></div>
    <div :if={@metrics.is_ok()}>
      <ul>
        <li id="users">Users: {metric(&@metrics, |m| m.users)}</li>
        <li id="revenue">Revenue: ${metric(&@metrics, |m| m.revenue)}</li>
      </ul>
    </div>
    <div :if={@metrics.failed.is_some()} id="metrics-failed" class="error">Metrics failed: {@metrics.failed.as_deref().unwrap_or("")}</div>
    <button id="refresh" phx-click="refresh">Refresh metrics</button>
    <button id="wave" phx-click="wave">Wave to other viewers</button>
  </section>
  <section id="service">
    <.async_result assign={&@service} :let={service}>
      <:loading><div class="loading">Checking service status...</div></:loading>
      <:failed :let={reason}><div class="error">Service status unavailable: {reason}</div></:failed>
      <p>Service: {service.status} ({service.message})</p>
    </.async_result>
  </section>
  <.live_component module={TeamCard} id="team" slug={@slug.clone()} />
  <ul id="activity"><li :for={line in @activity.iter()}>{line}</li></ul>
</div>
"#
        )
    }
}

/// The sales console's assigns.
#[derive(Assigns, Default)]
pub struct Sales {
    slug: String,
    recorded: u64,
}

impl LiveView for Sales {
    fn mount(socket: &mut Socket<Self>, params: &Params, _session: &Session) -> Result {
        let slug = params.str("org_slug").unwrap_or("acme").to_string();
        assign!(socket, slug = slug);
        Ok(())
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: &Value) -> Result {
        if event != "sale" {
            return Err(format!("unknown event `{event}`").into());
        }
        let amount: u64 = match value.get("amount") {
            Some(Value::String(text)) => text
                .parse()
                .map_err(|_| Error::new(format!("amount `{text}` is not a whole number")))?,
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
            _ => return Err("a sale needs an `amount`".into()),
        };
        let slug = socket.assigns().slug.clone();
        pubsub::broadcast(&topic(&slug), &json!({"event": "sale", "amount": amount}))?;
        update!(socket, recorded, |r| *r += 1);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<div id="sales">
  <h1>Sales console: {@slug}</h1>
  <button id="sale-10" phx-click="sale" phx-value-amount="10">Record a $10 sale</button>
  <button id="sale-250" phx-click="sale" phx-value-amount="250">Record a $250 sale</button>
  <p id="recorded">Recorded {@recorded} sales</p>
</div>
"#
        )
    }
}

livewasm_sdk::app! {
    name: "dashboard",
    routes: {
        "/dashboard" => Dashboard, container: ("main", "class" = "dashboard-container");
        "/dashboard/:org_slug" => Dashboard, container: ("main", "class" = "dashboard-container");
        "/dashboard/:org_slug/sales" => Sales, container: ("main", "class" = "dashboard-container");
    },
    tasks: [fetch_org, fetch_profile, fetch_metrics, fetch_status, fetch_team],
}
