//! Every conversion between the WIT types of `wit/view.wit` (the wasmtime bindings) and the
//! host's own types: the render result to the protocol crate's [`Update`] (through
//! [`livewasm_protocol::update_from_wit!`], the one field mapping the guest SDK's tests use
//! too), template statics, the manifest, mount and HTTP requests and responses, navigation
//! kinds. Nothing else in the runtime builds or takes apart a WIT record.

use livewasm_protocol::rendered::Statics;
use livewasm_protocol::update::Update;
use serde_json::Value;

use crate::assets::AssetDecl;
use crate::bindings::livewasm::view::types;
use crate::capabilities::effects::NavigationKind;
use crate::error::CallError;
use crate::manifest::{ClientHook, Container, HttpRoute, LiveSession, Manifest, RootLayout, Route};
use crate::requests::{HttpRequest, HttpResponse, MountRequest};

/// A guest's render result as the protocol crate's flat update.
pub(crate) fn update(rendered: types::Rendered) -> Update {
    livewasm_protocol::update_from_wit!(types, rendered)
}

/// The statics of template `id` as the guest sent them.
pub(crate) fn statics(id: u64, template: types::Template) -> Statics {
    Statics {
        id,
        parts: template
            .statics
            .into_iter()
            .map(String::into_boxed_str)
            .collect(),
        root: template.root,
    }
}

/// The app's manifest, without asset bytes, and the assets it declares; tags are lower-cased
/// and methods upper-cased (checked later by [`Manifest::check`]).
pub(crate) fn manifest(raw: types::AppManifest) -> (Manifest, Vec<AssetDecl>) {
    let assets = raw
        .assets
        .into_iter()
        .map(|a| AssetDecl {
            name: a.name,
            size: a.size,
        })
        .collect();
    let manifest = Manifest {
        name: raw.name,
        assets: Vec::new(),
        root_layout: raw.root_layout.map(|l| RootLayout {
            stylesheets: l.stylesheets,
            icon: l.icon,
            title_suffix: l.title_suffix,
            body_class: l.body_class,
        }),
        sql_migrations: raw.sql_migrations,
        content_security_policy: raw.content_security_policy,
        client_hooks: raw
            .client_hooks
            .into_iter()
            .map(|h| ClientHook {
                name: h.name,
                source: h.source,
            })
            .collect(),
        live_sessions: raw
            .live_sessions
            .into_iter()
            .map(|s| LiveSession {
                name: s.name,
                on_mount: s.on_mount,
                layout: s.layout,
            })
            .collect(),
        http_routes: raw
            .http_routes
            .into_iter()
            .map(|r| HttpRoute {
                method: r.method.to_ascii_uppercase(),
                path: r.path,
            })
            .collect(),
        routes: raw
            .routes
            .into_iter()
            .map(|r| Route {
                path: r.path,
                view: r.view,
                action: r.action,
                live_session: r.live_session,
                container: r.container.map(|c| Container {
                    tag: c.tag.to_ascii_lowercase(),
                    attrs: c.attrs,
                }),
            })
            .collect(),
    };
    (manifest, assets)
}

/// A mount request, its JSON values as text.
pub(crate) fn mount_request(request: &MountRequest) -> types::MountRequest {
    types::MountRequest {
        view: request.view.clone(),
        action: request.action.clone(),
        params: request.params.to_string(),
        session: request.session.to_string(),
        url: request.url.clone(),
        connected: request.connected,
        live_session: request.live_session.clone(),
        flash: request.flash.to_string(),
    }
}

/// An HTTP request, its JSON values as text.
pub(crate) fn http_request(request: &HttpRequest) -> types::HttpRequest {
    types::HttpRequest {
        method: request.method.clone(),
        route: request.route.clone(),
        params: request.params.to_string(),
        session: request.session.to_string(),
    }
}

/// The app's HTTP answer; its session and flash must be JSON objects.
pub(crate) fn http_response(response: types::HttpResponse) -> Result<HttpResponse, CallError> {
    let object = |text: &str, what: &str| -> Result<Value, CallError> {
        match serde_json::from_str(text) {
            Ok(Value::Object(map)) => Ok(Value::Object(map)),
            Ok(_) => Err(CallError::Json(format!("{what} is not an object"))),
            Err(e) => Err(CallError::Json(format!("{what}: {e}"))),
        }
    };
    Ok(HttpResponse {
        status: response.status,
        headers: response.headers,
        redirect: response.redirect,
        body: response.body,
        session: response
            .session
            .as_deref()
            .map(|s| object(s, "session"))
            .transpose()?,
        flash: object(&response.flash, "flash")?,
    })
}

impl From<types::NavigationKind> for NavigationKind {
    fn from(kind: types::NavigationKind) -> NavigationKind {
        match kind {
            types::NavigationKind::Patch => NavigationKind::Patch,
            types::NavigationKind::Navigate => NavigationKind::Navigate,
            types::NavigationKind::Redirect => NavigationKind::Redirect,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use livewasm_protocol::update::{StreamInsert, StreamOps, UpdateDynamic, UpdateList};

    #[test]
    fn a_render_result_keeps_its_shape() {
        let rendered = types::Rendered {
            nodes: vec![types::Node {
                template: 7,
                dynamics: vec![
                    types::Dynamic::Unchanged,
                    types::Dynamic::Html("a".into()),
                    types::Dynamic::Comprehension(0),
                    types::Dynamic::Component(3),
                ],
            }],
            lists: vec![types::Comprehension {
                template: 8,
                entries: vec![],
                stream_ops: Some(types::StreamOps {
                    stream_ref: "0".into(),
                    inserts: vec![types::StreamInsert {
                        dom_id: "x-1".into(),
                        at: -1,
                        limit: Some(5),
                        update_only: false,
                    }],
                    deletes: vec!["x-0".into()],
                    reset: true,
                }),
            }],
            title: Some("T".into()),
            components: vec![],
        };
        let update = update(rendered);
        assert_eq!(
            update.nodes[0].dynamics,
            vec![
                UpdateDynamic::Unchanged,
                UpdateDynamic::Html("a".into()),
                UpdateDynamic::List(0),
                UpdateDynamic::Component(3),
            ]
        );
        assert_eq!(
            update.lists,
            vec![UpdateList {
                template: 8,
                entries: vec![],
                stream: Some(StreamOps {
                    stream_ref: "0".into(),
                    inserts: vec![StreamInsert {
                        dom_id: "x-1".into(),
                        at: -1,
                        limit: Some(5),
                        update_only: false,
                    }],
                    deletes: vec!["x-0".into()],
                    reset: true,
                }),
            }]
        );
        assert_eq!(update.title.as_deref(), Some("T"));
    }

    #[test]
    fn http_session_and_flash_must_be_objects() {
        let response = |session: Option<&str>, flash: &str| types::HttpResponse {
            status: 200,
            headers: vec![],
            redirect: None,
            body: String::new(),
            session: session.map(str::to_string),
            flash: flash.into(),
        };
        assert!(http_response(response(None, "{}")).is_ok());
        assert!(http_response(response(Some("[]"), "{}")).is_err());
        assert!(http_response(response(None, "nope")).is_err());
    }
}
