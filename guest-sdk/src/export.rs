//! The glue between the component exports and the app's views (used by [`crate::app!`]).

use std::cell::RefCell;
use std::collections::HashMap;

use serde_json::Value;

use crate::bindings::livewasm::view::types as wit;
use crate::{Dyn, LiveView, Params, Rendered, Session, Socket};

/// A view with its type erased, so one component can host several views.
pub trait ErasedView {
    /// `mount`.
    fn mount(&mut self, request: &wit::MountRequest) -> Result<(), String>;
    /// `handle-params`.
    fn handle_params(&mut self, params: &str, url: &str) -> Result<(), String>;
    /// `handle-event`.
    fn handle_event(&mut self, event: &str, value: &str) -> Result<Option<String>, String>;
    /// `handle-info`.
    fn handle_info(&mut self, message: &str) -> Result<(), String>;
    /// `render`.
    fn render(&mut self) -> (Rendered, Option<String>);
}

/// Hosts one [`LiveView`] type.
pub struct Holder<V: LiveView> {
    socket: Socket<V>,
}

impl<V: LiveView> Holder<V> {
    /// A boxed, not yet mounted view.
    pub fn boxed(request: &wit::MountRequest) -> Box<dyn ErasedView> {
        Box::new(Holder::<V> {
            socket: Socket::new(request.connected, request.action.clone()),
        })
    }
}

fn parse_value(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("bad JSON from host: {e}"))
}

impl<V: LiveView> ErasedView for Holder<V> {
    fn mount(&mut self, request: &wit::MountRequest) -> Result<(), String> {
        let params = Params::from_json(&request.params);
        let session = Session::from_json(&request.session);
        V::mount(&mut self.socket, &params, &session).map_err(|e| e.to_string())
    }

    fn handle_params(&mut self, params: &str, url: &str) -> Result<(), String> {
        let params = Params::from_json(params);
        V::handle_params(&mut self.socket, &params, url).map_err(|e| e.to_string())
    }

    fn handle_event(&mut self, event: &str, value: &str) -> Result<Option<String>, String> {
        let value = parse_value(value)?;
        V::handle_event(&mut self.socket, event, &value).map_err(|e| e.to_string())?;
        Ok(self.socket.__take_reply().map(|r| r.to_string()))
    }

    fn handle_info(&mut self, message: &str) -> Result<(), String> {
        let message = parse_value(message)?;
        V::handle_info(&mut self.socket, &message).map_err(|e| e.to_string())
    }

    fn render(&mut self) -> (Rendered, Option<String>) {
        let title = self.socket.__take_title();
        let tracked = self.socket.__begin_render();
        (V::render(&tracked), title)
    }
}

/// What [`crate::app!`] declares: the app's name, routes and view constructors.
pub trait App {
    /// App name.
    fn name() -> &'static str;
    /// `(path, view name, action, live session)` of each route.
    fn routes() -> Vec<(
        &'static str,
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
    )>;
    /// A fresh view by name.
    fn view(name: &str, request: &wit::MountRequest) -> Option<Box<dyn ErasedView>>;
}

thread_local! {
    static CURRENT: RefCell<Option<Box<dyn ErasedView>>> = const { RefCell::new(None) };
    static TEMPLATES: RefCell<HashMap<u64, &'static crate::Template>> = RefCell::new(HashMap::new());
}

fn with_view<T>(f: impl FnOnce(&mut dyn ErasedView) -> Result<T, String>) -> Result<T, String> {
    CURRENT.with(|current| match current.borrow_mut().as_mut() {
        Some(view) => f(view.as_mut()),
        None => Err("no view is mounted".into()),
    })
}

/// `app.manifest`.
pub fn manifest<A: App>() -> wit::AppManifest {
    wit::AppManifest {
        name: A::name().into(),
        routes: A::routes()
            .into_iter()
            .map(|(path, view, action, session)| wit::Route {
                path: path.into(),
                view: view.into(),
                action: action.map(Into::into),
                live_session: session.map(Into::into),
            })
            .collect(),
    }
}

/// `live.mount`.
pub fn mount<A: App>(request: wit::MountRequest) -> Result<(), String> {
    let mut view = A::view(&request.view, &request)
        .ok_or_else(|| format!("this app has no view `{}`", request.view))?;
    view.mount(&request)?;
    CURRENT.with(|current| *current.borrow_mut() = Some(view));
    Ok(())
}

/// `live.handle-params`.
pub fn handle_params(params: String, url: String) -> Result<(), String> {
    with_view(|view| view.handle_params(&params, &url))
}

/// `live.handle-event`.
pub fn handle_event(event: String, value: String) -> Result<Option<String>, String> {
    with_view(|view| view.handle_event(&event, &value))
}

/// `live.handle-info`.
pub fn handle_info(message: String) -> Result<(), String> {
    with_view(|view| view.handle_info(&message))
}

/// `live.render`: the view's tree flattened for the host.
pub fn render() -> wit::Rendered {
    let rendered = with_view(|view| Ok(view.render()));
    let mut out = wit::Rendered {
        nodes: Vec::new(),
        lists: Vec::new(),
        title: None,
    };
    if let Ok((root, title)) = rendered {
        out.title = title;
        TEMPLATES.with(|templates| {
            let mut templates = templates.borrow_mut();
            flatten_node(root, &mut out, &mut templates);
        });
    }
    out
}

/// `live.lookup-template`.
pub fn lookup_template(id: u64) -> Option<wit::Template> {
    TEMPLATES.with(|templates| {
        templates.borrow().get(&id).map(|t| wit::Template {
            statics: t.statics.iter().map(|s| (*s).to_string()).collect(),
            root: t.root,
        })
    })
}

fn flatten_node(
    node: Rendered,
    out: &mut wit::Rendered,
    templates: &mut HashMap<u64, &'static crate::Template>,
) -> u32 {
    templates.entry(node.template.id).or_insert(node.template);
    let index = out.nodes.len() as u32;
    out.nodes.push(wit::Node {
        template: node.template.id,
        dynamics: Vec::new(),
    });
    let dynamics = node
        .dynamics
        .into_iter()
        .map(|d| flatten_dyn(d, out, templates))
        .collect();
    out.nodes[index as usize].dynamics = dynamics;
    index
}

fn flatten_dyn(
    dynamic: Dyn,
    out: &mut wit::Rendered,
    templates: &mut HashMap<u64, &'static crate::Template>,
) -> wit::Dynamic {
    match dynamic {
        Dyn::Unchanged => wit::Dynamic::Unchanged,
        Dyn::Html(text) => wit::Dynamic::Html(text),
        Dyn::Node(node) => wit::Dynamic::Node(flatten_node(node, out, templates)),
        Dyn::List(list) => {
            templates.entry(list.template.id).or_insert(list.template);
            let index = out.lists.len() as u32;
            out.lists.push(wit::Comprehension {
                template: list.template.id,
                entries: Vec::new(),
            });
            let entries = list
                .entries
                .into_iter()
                .map(|entry| wit::Entry {
                    key: entry.key,
                    dynamics: entry
                        .dynamics
                        .into_iter()
                        .map(|d| flatten_dyn(d, out, templates))
                        .collect(),
                })
                .collect();
            out.lists[index as usize].entries = entries;
            wit::Dynamic::Comprehension(index)
        }
    }
}

/// Implements the component's export traits for `$component`, dispatching to app `$app`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_guest {
    ($component:ident, $app:ty) => {
        impl $crate::bindings::exports::livewasm::view::app::Guest for $component {
            fn manifest() -> $crate::bindings::livewasm::view::types::AppManifest {
                $crate::export::manifest::<$app>()
            }
        }

        impl $crate::bindings::exports::livewasm::view::live::Guest for $component {
            fn mount(
                request: $crate::bindings::livewasm::view::types::MountRequest,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::mount::<$app>(request)
            }
            fn handle_params(
                params: ::std::string::String,
                url: ::std::string::String,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::handle_params(params, url)
            }
            fn handle_event(
                event: ::std::string::String,
                value: ::std::string::String,
            ) -> ::core::result::Result<::core::option::Option<::std::string::String>, ::std::string::String>
            {
                $crate::export::handle_event(event, value)
            }
            fn handle_info(
                message: ::std::string::String,
            ) -> ::core::result::Result<(), ::std::string::String> {
                $crate::export::handle_info(message)
            }
            fn render() -> $crate::bindings::livewasm::view::types::Rendered {
                $crate::export::render()
            }
            fn lookup_template(
                id: u64,
            ) -> ::core::option::Option<$crate::bindings::livewasm::view::types::Template> {
                $crate::export::lookup_template(id)
            }
        }

        // Exported symbols only exist in the wasm32 component; native builds (tests) skip them.
        #[cfg(target_arch = "wasm32")]
        $crate::bindings::__export_view!($component with_types_in $crate::bindings);
    };
}

/// Declares the app: its name and routes, and emits the component's exports.
///
/// ```ignore
/// livewasm_sdk::app! {
///     name: "thermostat",
///     routes: {
///         "/thermostat" => Thermostat,
///         "/thermostat/:house" => Thermostat, action: "show",
///     }
/// }
/// ```
#[macro_export]
macro_rules! app {
    (
        name: $name:expr,
        routes: {
            $( $path:literal => $view:ident $(, action: $action:literal)? $(, live_session: $session:literal)? );+ $(;)?
        } $(,)?
    ) => {
        #[doc(hidden)]
        pub struct __LivewasmApp;

        impl $crate::export::App for __LivewasmApp {
            fn name() -> &'static str {
                $name
            }
            fn routes() -> ::std::vec::Vec<(
                &'static str,
                &'static str,
                ::core::option::Option<&'static str>,
                ::core::option::Option<&'static str>,
            )> {
                ::std::vec![$(
                    (
                        $path,
                        stringify!($view),
                        $crate::__opt!($($action)?),
                        $crate::__opt!($($session)?),
                    )
                ),+]
            }
            fn view(
                name: &str,
                request: &$crate::bindings::livewasm::view::types::MountRequest,
            ) -> ::core::option::Option<::std::boxed::Box<dyn $crate::export::ErasedView>> {
                $(
                    if name == stringify!($view) {
                        return ::core::option::Option::Some($crate::export::Holder::<$view>::boxed(request));
                    }
                )+
                ::core::option::Option::None
            }
        }

        #[doc(hidden)]
        pub struct __LivewasmComponent;

        $crate::__impl_guest!(__LivewasmComponent, __LivewasmApp);
    };
}

/// `Some(x)` or `None` from an optional macro fragment.
#[doc(hidden)]
#[macro_export]
macro_rules! __opt {
    () => {
        ::core::option::Option::None
    };
    ($value:expr) => {
        ::core::option::Option::Some($value)
    };
}
