//! The multi-tenant platform's glue between the registry and the serving host: checking an
//! uploaded component, compiling it once, serving an app's active version, loading every
//! active version at start, and the operator's first token.

use livewasm_registry::{App as RegistryApp, NewToken, Principal, Registry, RegistryError, Scope};
use livewasm_runtime::{App, InstanceLimits, RuntimeError};

use crate::fetch::AllowedBy;
use crate::host::Host;
use crate::routes::RouteTable;
use crate::sites::{Served, SiteId, Sites};

/// Why a component was refused, as the API reports it (422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Rejection {
    /// Stable snake_case code: `not_wasm`, `core_module`, `invalid_component`,
    /// `incompatible_component` or `bad_manifest`.
    pub code: &'static str,
    /// What is wrong, in a sentence.
    pub message: String,
}

/// Loading the platform's apps failed.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The host was built without a registry.
    #[error("this host has no registry")]
    NoRegistry,
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Creates an operator token acting as `system:cli`, for the first API calls of a new host
/// (`livewasm token create --operator`). The token's text is shown only in the result.
pub async fn bootstrap_operator_token(registry: &Registry) -> Result<NewToken, RegistryError> {
    registry
        .create_token(&Principal::system("cli"), "operator", Scope::Operator)
        .await
}

/// What the first bytes say the upload is, before compiling it.
fn check_header(bytes: &[u8]) -> Result<(), Rejection> {
    const MAGIC: &[u8; 4] = b"\0asm";
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(Rejection {
            code: "not_wasm",
            message: "The upload is not WebAssembly (it does not start with the \\0asm header)."
                .into(),
        });
    }
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(Rejection {
            code: "core_module",
            message: "The upload is a core WebAssembly module, not a component; turn it into a \
                      component with `wit-component` (cargo xtask build does)."
                .into(),
        });
    }
    Ok(())
}

/// Checks and compiles an upload (CPU-heavy: call it off the async threads). Refuses what is
/// not wasm, core modules, broken or truncated components, components that import anything
/// but the `livewasm:view` capabilities (WASI included) or miss its exports, and apps whose
/// manifest or routes are unusable.
pub fn compile(host: &Host, bytes: &[u8]) -> Result<App, Rejection> {
    check_header(bytes)?;
    let app = host.runtime().load_app(bytes).map_err(|e| match e {
        RuntimeError::Compile(reason) => Rejection {
            code: "invalid_component",
            message: format!("The component does not compile: {reason}"),
        },
        RuntimeError::Instantiate(reason) => Rejection {
            code: "incompatible_component",
            message: format!(
                "The component does not fit the livewasm:view world (only its capabilities may \
                 be imported; WASI is not available): {reason}"
            ),
        },
        RuntimeError::Manifest(reason) => Rejection {
            code: "bad_manifest",
            message: format!("The app's manifest is unusable: {reason}"),
        },
        RuntimeError::Asset(reason) => Rejection {
            code: "bad_assets",
            message: format!("The app's static files are refused: {reason}"),
        },
        other => Rejection {
            code: "invalid_component",
            message: format!("The component could not be loaded: {other}"),
        },
    })?;
    RouteTable::of_app(&app).map_err(|e| Rejection {
        code: "bad_manifest",
        message: format!("The app's routes are unusable: {e}"),
    })?;
    Ok(app)
}

/// Why [`compiled_once`] has no component.
#[derive(Debug)]
pub(crate) enum Unavailable {
    /// The component is refused (not one this host serves).
    Rejected(Rejection),
    /// Its bytes could not be read, or the compile did not finish.
    Failed(String),
}

/// The compiled component with hex sha256 `sha256`: the one this host compiled before, else
/// `bytes` (awaited only then) compiled on a blocking thread and kept. Callers asking for the
/// same component at once (a deploy and the registry sync, one component deployed to many
/// apps) compile it once: the others wait for that compile and share its result.
pub(crate) async fn compiled_once(
    host: &std::sync::Arc<Host>,
    sha256: &str,
    bytes: impl std::future::Future<Output = Result<Vec<u8>, String>>,
) -> Result<App, Unavailable> {
    if let Some(app) = host.sites.compiled(sha256) {
        host.metrics().compiled_lookup(true);
        return Ok(app);
    }
    let gate = host.sites.compile_gate(sha256);
    let turn = gate.lock().await;
    let compiled = match host.sites.compiled(sha256) {
        Some(app) => {
            host.metrics().compiled_lookup(true);
            Ok(app)
        }
        None => {
            host.metrics().compiled_lookup(false);
            match bytes.await {
                Ok(bytes) => match compile_blocking(host, bytes).await {
                    Ok(Ok(app)) => {
                        host.sites.remember(sha256, app.clone());
                        Ok(app)
                    }
                    Ok(Err(rejection)) => Err(Unavailable::Rejected(rejection)),
                    Err(error) => Err(Unavailable::Failed(error.to_string())),
                },
                Err(error) => Err(Unavailable::Failed(error)),
            }
        }
    };
    drop(turn);
    host.sites.compile_gate_done(sha256, gate);
    compiled
}

/// [`compile`] on a blocking thread.
pub(crate) async fn compile_blocking(
    host: &std::sync::Arc<Host>,
    bytes: Vec<u8>,
) -> Result<Result<App, Rejection>, tokio::task::JoinError> {
    let host = host.clone();
    tokio::task::spawn_blocking(move || compile(&host, &bytes)).await
}

/// Serves version `number` (with hex sha256 `sha256`) of `app` from now on, compiling its
/// stored bytes unless this host compiled them before.
pub(crate) async fn serve_version(
    host: &std::sync::Arc<Host>,
    registry: &Registry,
    app: &RegistryApp,
    number: u64,
    sha256: &str,
) -> Result<(), String> {
    let started = std::time::Instant::now();
    let bytes = async {
        registry
            .component_bytes(sha256)
            .await
            .map_err(|e| e.to_string())
    };
    let component = compiled_once(host, sha256, bytes)
        .await
        .map_err(|e| match e {
            Unavailable::Rejected(rejection) => rejection.message,
            Unavailable::Failed(error) => error,
        })?;
    // The app may have been deleted while its component compiled: serve nothing then.
    match registry.app_by_id(&app.id).await {
        Ok(_) => {}
        Err(RegistryError::NotFound { .. }) => {
            tracing::info!(tenant = %app.tenant_name, app = %app.name, "deleted meanwhile: not served");
            return Ok(());
        }
        Err(error) => return Err(error.to_string()),
    }
    let quotas = registry
        .quotas(&app.tenant_id)
        .await
        .map_err(|e| e.to_string())?;
    // The tenant's HTTP allowlist, read once per tenant (the API and the registry sync
    // update it after).
    if !host.http_allowlist_known(&app.tenant_id) {
        let hosts = registry
            .http_allowlist(&app.tenant_id)
            .await
            .map_err(|e| e.to_string())?;
        host.set_http_allowlist(&app.tenant_id, hosts);
    }
    // The tenant's memory and fuel quotas become this app's instance limits.
    let component = host
        .with_app_data(
            &component,
            app.id.as_str(),
            AllowedBy::Tenant(app.tenant_id.as_str().to_string()),
            (&app.tenant_name, &app.name),
        )
        .map_err(|e| e.to_string())?;
    let component = component.with_limits(InstanceLimits {
        memory_bytes: usize::try_from(quotas.memory_mib_per_instance.saturating_mul(1 << 20))
            .unwrap_or(usize::MAX),
        fuel_per_callback: quotas.fuel_per_callback,
    });
    let usage = host
        .sites
        .usage(&app.tenant_name, quotas.max_concurrent_instances);
    let site = Sites::build(&app.tenant_name, &app.name, number, component, usage)
        .map_err(|e| e.to_string())?
        .with_served(Served {
            app_id: app.id.as_str().to_string(),
            sha256: sha256.to_string(),
            quotas,
        });
    // Install only what the registry says is active now: a change committed meanwhile, on
    // this host or another, wins (the registry sync serves it, if it has not yet).
    let _installing = host.install_lock.lock().await;
    match registry.active_version(app).await {
        Ok(Some(active)) if active.number == number && active.sha256 == sha256 => {}
        Ok(_) => {
            tracing::info!(tenant = %app.tenant_name, app = %app.name, version = number, "no longer active: not served");
            return Ok(());
        }
        Err(error) => return Err(error.to_string()),
    }
    host.sites.install(site);
    host.metrics()
        .registry_call("load_version", started.elapsed());
    // Live upgrade: the app's open views move onto the version served now.
    host.announce_upgrade(SiteId::app(&app.tenant_name, &app.name));
    if host.config().dev {
        // Dev live reload: the open pages of this app reload onto the version now served.
        let label = format!("{}/{}", app.tenant_name, app.name);
        host.dev_reloads().swapped(&label, &label);
    }
    tracing::info!(tenant = %app.tenant_name, app = %app.name, version = number, "serving");
    Ok(())
}

/// How many compiled versions `host` keeps in memory (served, used by running views, or idle
/// within the cache's bounds).
pub fn compiled_versions(host: &Host) -> usize {
    host.sites.compiled_count()
}

/// Loads and serves the active version of every app in the registry; returns how many apps
/// are served. An app whose stored component no longer loads is logged and skipped.
pub async fn load_active_apps(host: &std::sync::Arc<Host>) -> Result<usize, PlatformError> {
    let registry = host.registry().ok_or(PlatformError::NoRegistry)?.clone();
    let started = std::time::Instant::now();
    let compiled_before = host.runtime().compilations();
    let mut served = 0;
    for tenant in registry.tenants().await? {
        for app in registry.apps(&tenant.id).await? {
            let Some(version) = registry.active_version(&app).await? else {
                continue;
            };
            match serve_version(host, &registry, &app, version.number, &version.sha256).await {
                Ok(()) => served += 1,
                Err(reason) => tracing::error!(
                    tenant = %tenant.name,
                    app = %app.name,
                    version = version.number,
                    "cannot serve the active version: {reason}"
                ),
            }
        }
    }
    tracing::info!(
        served,
        compiled = host.runtime().compilations() - compiled_before,
        ms = started.elapsed().as_millis() as u64,
        "active versions loaded"
    );
    Ok(served)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers() {
        assert_eq!(
            check_header(b"hello world").map_err(|e| e.code),
            Err("not_wasm")
        );
        assert_eq!(check_header(b"\0asm").map_err(|e| e.code), Err("not_wasm"));
        assert_eq!(
            check_header(b"\0asm\x01\0\0\0").map_err(|e| e.code),
            Err("core_module")
        );
        assert!(check_header(b"\0asm\x0d\0\x01\0").is_ok());
    }
}
