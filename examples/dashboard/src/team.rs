//! `TeamCard`: a live component on the dashboard that loads its organization's team by itself
//! and guards its own events with runtime hooks, as a Phoenix component does with
//! `start_async/3` and `attach_hook/4` on its socket.
//!
//! - The team comes from a task the card starts (`socket.start_async("members", …)`), whose
//!   outcome reaches the card's own `handle_async`, not the dashboard's: the card shows
//!   "Loading team..." until then, and "Reload team" starts it again.
//! - `mount` attaches two `handle_event` hooks: `"audit"` counts every event the card gets and
//!   lets it through; `"limit"` refuses a reload past [`MAX_RELOADS`] and halts, so the card's
//!   `handle_event` never sees it.

use livewasm_sdk::prelude::*;

use crate::data::fetch_team;

/// How many reloads a card allows; the `"limit"` hook halts the ones after.
pub const MAX_RELOADS: u32 = 2;

/// The card's `start_async` name.
const MEMBERS_TASK: &str = "members";

/// What the dashboard passes: `slug={…}`.
#[derive(Debug, Clone, Default)]
pub struct TeamProps {
    /// The organization whose team the card shows.
    pub slug: String,
}

/// The team card's assigns.
#[derive(Assigns, Default)]
pub struct TeamCard {
    slug: String,
    members: AsyncResult<Vec<String>>,
    /// Loads that finished (successful or not).
    loads: u32,
    /// Reloads the card accepted.
    reloads: u32,
    /// Events the `"audit"` hook saw.
    events: u32,
    notice: String,
}

/// Starts loading the team in the background; the card shows its loading state meanwhile.
fn start_load(socket: &mut ComponentSocket<TeamCard>) -> Result {
    let slug = socket.assigns().slug.clone();
    update!(socket, members, |m| {
        m.loading = true;
        m.failed = None;
    });
    socket.start_async(MEMBERS_TASK, fetch_team, slug)
}

/// The `"audit"` hook: counts every event, then lets it through.
fn audit(socket: &mut Socket<TeamCard>, _event: &str, _value: &Value) -> Result<HookResult> {
    update!(socket, events, |n| *n += 1);
    Ok(HookResult::Cont)
}

/// The `"limit"` hook: past [`MAX_RELOADS`], answers a reload itself (a notice) and halts.
fn limit_reloads(socket: &mut Socket<TeamCard>, event: &str, _value: &Value) -> Result<HookResult> {
    if event != "reload" || socket.assigns().reloads < MAX_RELOADS {
        return Ok(HookResult::Cont);
    }
    assign!(socket, notice = "Reload limit reached".to_string());
    Ok(HookResult::Halt)
}

impl LiveComponent for TeamCard {
    type Props = TeamProps;

    fn mount(socket: &mut ComponentSocket<Self>) -> Result {
        socket.attach_hook("audit", Hook::HandleEvent(audit))?;
        socket.attach_hook("limit", Hook::HandleEvent(limit_reloads))?;
        Ok(())
    }

    fn update(socket: &mut ComponentSocket<Self>, props: TeamProps) -> Result {
        if props.slug == socket.assigns().slug {
            return Ok(());
        }
        assign!(socket, slug = props.slug);
        start_load(socket)
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, _value: &Value) -> Result {
        match event {
            "reload" => {
                update!(socket, reloads, |n| *n += 1);
                assign!(socket, notice = String::new());
                start_load(socket)
            }
            other => Err(format!("unknown event `{other}`").into()),
        }
    }

    fn handle_async(
        socket: &mut ComponentSocket<Self>,
        name: &str,
        outcome: AsyncOutcome,
    ) -> Result {
        if name != MEMBERS_TASK {
            return Err(format!("unknown task `{name}`").into());
        }
        let members = outcome.and_then(decode_async::<Vec<String>>);
        update!(socket, members, |m| {
            *m = match members {
                Ok(names) => AsyncResult::ok(names),
                Err(reason) => AsyncResult::failed(reason),
            }
        });
        update!(socket, loads, |n| *n += 1);
        Ok(())
    }

    fn render(assigns: &Tracked<'_, Self>) -> Rendered {
        html!(
            r#"
<section id="team" class="team-card">
  <h2>Team</h2>
  <.async_result assign={&@members} :let={members}>
    <:loading><p class="loading">Loading team...</p></:loading>
    <:failed :let={reason}><p class="error">Team unavailable: {reason}</p></:failed>
    <p id="team-members">{members.len()} members: {members.join(", ")}</p>
  </.async_result>
  <p :if={@members.loading && @members.result.is_some()} id="team-reloading">Reloading...</p>
  <p id="team-loads">Loaded {@loads} times</p>
  <p id="team-events">Events seen: {@events}</p>
  <p id="team-notice">{@notice}</p>
  <button id="team-reload" phx-click="reload" phx-target={@myself}>Reload team</button>
</section>
"#
        )
    }
}
