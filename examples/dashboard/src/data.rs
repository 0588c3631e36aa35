//! The dashboard's data and the background tasks that load it. Tasks run in a fresh instance
//! of the component (listed in `app!`'s `tasks: [...]`), so they take and return plain data.

use serde::{Deserialize, Serialize};

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    /// Display name.
    pub name: String,
    /// One line about it.
    pub description: String,
}

/// The signed-in member's profile in an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The member's name.
    pub name: String,
}

/// What `fetch_profile` loads: one member per assign it fills (`[profile, rank]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileAndRank {
    /// The member's profile.
    pub profile: Profile,
    /// Their rank among the organization's members.
    pub rank: u32,
}

/// The organization's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Active users.
    pub users: u64,
    /// Revenue in dollars.
    pub revenue: u64,
}

/// The organizations this demo knows: slug, name, description, member, rank.
const ORGS: &[(&str, &str, &str, &str, u32)] = &[
    (
        "acme",
        "Acme Corp",
        "Rockets, anvils and portable holes.",
        "Wile E. Coyote",
        1,
    ),
    (
        "globex",
        "Globex Corporation",
        "World-class widgets.",
        "Hank Scorpio",
        3,
    ),
    (
        "crashy",
        "Crashy Inc",
        "Its metrics backend always explodes.",
        "Murphy",
        7,
    ),
];

fn find(
    slug: &str,
) -> Result<&'static (&'static str, &'static str, &'static str, &'static str, u32), String> {
    ORGS.iter()
        .find(|org| org.0 == slug)
        .ok_or_else(|| format!("no organization named `{slug}`"))
}

/// Where the service status comes from unless the page's `?status_url=` names another source
/// (which must be on the app's HTTP allowlist, like this one).
pub const STATUS_URL: &str = "https://status.example.com/api/v1/status";

/// The service status a status API reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceStatus {
    /// `ok`, `degraded` …
    pub status: String,
    /// One line for people.
    pub message: String,
}

/// Fetches the service status from `url` over HTTP (`assign_async` of `service`): a JSON
/// object `{"status", "message"}`. A host that does not allow the URL, a failed request or a
/// non-200 answer fail the assign with the reason.
pub fn fetch_status(url: String) -> Result<ServiceStatus, String> {
    let response = livewasm_sdk::fetch::get(&url).map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!("the status API answered HTTP {}", response.status));
    }
    response.json().map_err(|e| e.to_string())
}

/// Loads an organization (`assign_async` of `org`).
pub fn fetch_org(slug: String) -> Result<Org, String> {
    let (_, name, description, _, _) = find(&slug)?;
    Ok(Org {
        name: (*name).to_string(),
        description: (*description).to_string(),
    })
}

/// Loads the member's profile and rank (`assign_async` of `[profile, rank]`).
pub fn fetch_profile(slug: String) -> Result<ProfileAndRank, String> {
    let (_, _, _, member, rank) = find(&slug)?;
    Ok(ProfileAndRank {
        profile: Profile {
            name: (*member).to_string(),
        },
        rank: *rank,
    })
}

/// Computes the organization's metrics (`start_async` of `metrics_task`): some real work over
/// its ledger. Panics for `crashy` — a trap in the task instance, which the view sees as a
/// failed result, not a crash.
pub fn fetch_metrics(slug: String) -> Result<Metrics, String> {
    find(&slug)?;
    assert!(slug != "crashy", "the metrics backend exploded");
    // A deterministic ledger: 64 users, each with a few purchases derived from the slug.
    let seed = slug
        .bytes()
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let mut revenue = 0;
    let mut users = 0;
    for user in 0..64u64 {
        let purchases = (seed ^ user.wrapping_mul(2_654_435_761)) % 5;
        if purchases > 0 {
            users += 1;
            revenue += purchases * 25;
        }
    }
    Ok(Metrics { users, revenue })
}

/// The members of each organization's team: slug, names.
const TEAMS: &[(&str, &[&str])] = &[
    ("acme", &["Wile E. Coyote", "Road Runner", "Marvin"]),
    ("globex", &["Hank Scorpio", "Homer Simpson"]),
    ("crashy", &["Murphy"]),
];

/// Loads an organization's team (the team card's `start_async` of `members`, a live
/// component's own task).
pub fn fetch_team(slug: String) -> Result<Vec<String>, String> {
    find(&slug)?;
    let (_, names) = TEAMS
        .iter()
        .find(|team| team.0 == slug)
        .ok_or_else(|| format!("`{slug}` has no team"))?;
    Ok(names.iter().map(|name| (*name).to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_load_known_orgs_and_refuse_unknown_ones() {
        assert_eq!(
            fetch_org("acme".into()).map(|o| o.name),
            Ok("Acme Corp".into())
        );
        assert_eq!(fetch_profile("globex".into()).map(|p| p.rank), Ok(3));
        assert!(fetch_org("nope".into()).is_err());
        let metrics = fetch_metrics("acme".into()).expect("metrics");
        assert!(metrics.users > 0 && metrics.revenue >= metrics.users * 25);
        assert_eq!(fetch_metrics("acme".into()), Ok(metrics));
        assert_eq!(fetch_team("globex".into()).map(|t| t.len()), Ok(2));
        assert!(fetch_team("nope".into()).is_err());
    }
}
