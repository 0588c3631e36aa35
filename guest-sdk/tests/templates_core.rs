//! Golden tests: the core components (`livewasm_sdk::components`) and JS commands.

use livewasm_sdk::components::{UploadConfig, UploadEntry};
use livewasm_sdk::prelude::*;
use livewasm_sdk::{Attrs, Dyn};
use serde_json::Map;

fn form() -> Form {
    let Value::Object(params) =
        json!({"email": "a@b.c", "agree": "true", "role": "admin", "bio": "hi"})
    else {
        panic!("object")
    };
    let mut errors = std::collections::BTreeMap::new();
    errors.insert("email".to_string(), vec!["is invalid".to_string()]);
    Form::new("user", params).with_errors(errors)
}

#[test]
fn button_and_link() {
    let r = html!(r#"<.button phx-click="save" disabled>Save</.button>"#);
    assert_eq!(
        r.to_html(),
        r#"<button class="button" phx-click="save" disabled>Save</button>"#
    );
    let r = html!(r#"<.button type="submit" class="primary">Go</.button>"#);
    assert_eq!(
        r.to_html(),
        r#"<button type="submit" class="button primary">Go</button>"#
    );
    let r = html!(r#"<.link navigate="/users">Users</.link>"#);
    assert_eq!(
        r.to_html(),
        r#"<a href="/users" data-phx-link="redirect" data-phx-link-state="push">Users</a>"#
    );
    let page = 2;
    let r = html!(
        r#"<.link patch={format!("/users?page={}", page + 1)} replace class="next">Next</.link>"#
    );
    assert_eq!(
        r.to_html(),
        r#"<a href="/users?page=3" data-phx-link="patch" data-phx-link-state="replace" class="next">Next</a>"#
    );
    let r = html!(r#"<.link href="https://example.com/?a=1&b=2" target="_blank">Out</.link>"#);
    assert_eq!(
        r.to_html(),
        r#"<a href="https://example.com/?a=1&amp;b=2" target="_blank">Out</a>"#
    );
}

#[test]
fn header_with_slots() {
    let r = html!(
        r#"<.header>Listing Users<:subtitle>All of them</:subtitle><:actions><.link patch="/users/new">New User</.link></:actions></.header>"#
    );
    assert_eq!(
        r.to_html(),
        r#"<header class="header header-with-actions"><div><h1 class="header-title">Listing Users</h1><p class="header-subtitle">All of them</p></div><div class="header-actions"><a href="/users/new" data-phx-link="patch" data-phx-link-state="push">New User</a></div></header>"#
    );
    let r = html!(r#"<.header class="x">Plain</.header>"#);
    assert_eq!(
        r.to_html(),
        r#"<header class="header x"><div><h1 class="header-title">Plain</h1></div></header>"#
    );
}

#[test]
fn form_and_inputs() {
    let form = form();
    let r = html!(
        r#"<.form for={form} id="user-form" phx-change="validate" phx-submit="save" :let={f}><.input field={f.field("email")} type="email" label="Email" phx-debounce="300" /><.error for="email">Oops</.error></.form>"#
    );
    assert_eq!(
        r.to_html(),
        r#"<form id="user-form" phx-change="validate" phx-submit="save"><div class="field"><label for="user_email">Email</label><input type="email" id="user_email" name="user[email]" value="a@b.c" phx-debounce="300"><p class="error" data-for="email">is invalid</p></div><p class="error" data-for="email">Oops</p></form>"#
    );
    // The form's own id, and an HTTP action (method defaults to post) with phx-trigger-action.
    let trigger = true;
    let r =
        html!(r#"<.form for={form} action="/users/log_in" phx-trigger-action={trigger}></.form>"#);
    assert_eq!(
        r.to_html(),
        r#"<form id="user" action="/users/log_in" method="post" phx-trigger-action></form>"#
    );
    // `<:actions>` (the seed's registration form): after the fields, each in its own div,
    // with the form as the slot's argument.
    let r = html!(
        r#"<.form for={form} phx-submit="save" :let={f}><.input field={f.field("bio")} /><:actions :let={g}><.button phx-disable-with="Creating account...">Create {g.id.as_str()}</.button></:actions><:actions><a href="/">Back</a></:actions></.form>"#
    );
    assert_eq!(
        r.to_html(),
        r#"<form id="user" phx-submit="save"><div class="field"><label for="user_bio"></label><input type="text" id="user_bio" name="user[bio]" value="hi"></div><div class="form-actions"><button class="button" phx-disable-with="Creating account...">Create user</button></div><div class="form-actions"><a href="/">Back</a></div></form>"#
    );
    let f = form.field("agree");
    let r = html!(r#"<.input field={f} type="checkbox" label="I agree" />"#);
    assert_eq!(
        r.to_html(),
        r#"<div class="field"><label><input type="hidden" name="user[agree]" value="false"><input type="checkbox" id="user_agree" name="user[agree]" value="true" checked>I agree</label></div>"#
    );
    let options = vec![
        ("Admin".to_string(), "admin".to_string()),
        ("User".to_string(), "user".to_string()),
    ];
    let r = html!(
        r#"<.input field={form.field("role")} type="select" label="Role" prompt="Pick one" options={options} />"#
    );
    assert_eq!(
        r.to_html(),
        r#"<div class="field"><label for="user_role">Role</label><select id="user_role" name="user[role]"><option value="">Pick one</option><option value="admin" selected>Admin</option><option value="user">User</option></select></div>"#
    );
    let r = html!(r#"<.input field={form.field("bio")} type="textarea" label="Bio" rows="3" />"#);
    assert_eq!(
        r.to_html(),
        "<div class=\"field\"><label for=\"user_bio\">Bio</label><textarea id=\"user_bio\" name=\"user[bio]\" rows=\"3\">\nhi</textarea></div>"
    );
    let r = html!(r#"<.input field={form.field("id")} type="hidden" value="7" />"#);
    assert_eq!(
        r.to_html(),
        r#"<input type="hidden" id="user_id" name="user[id]" value="7">"#
    );
    let r = html!(r#"<.input field={form.field("age")} type="number" label="Age" min="0" />"#);
    assert_eq!(
        r.to_html(),
        r#"<div class="field"><label for="user_age">Age</label><input type="number" id="user_age" name="user[age]" min="0"></div>"#
    );
    let plain = Form::new("", Map::new());
    let r = html!(r#"<.input field={plain.field("q")} />"#);
    assert_eq!(
        r.to_html(),
        r#"<div class="field"><label for="q"></label><input type="text" id="q" name="q"></div>"#
    );
}

#[test]
fn flash_group_clears_by_key() {
    let mut flash = Flash::new();
    flash.put("info", "Saved <ok>");
    flash.put("error", "Nope");
    let r = html!(r#"<.flash_group flash={flash} />"#);
    assert_eq!(
        r.to_html(),
        r#"<div id="flash-group"><div id="flash-error" class="flash flash-error" role="alert" phx-click="lv:clear-flash" phx-value-key="error"><p>Nope</p></div><div id="flash-info" class="flash flash-info" role="alert" phx-click="lv:clear-flash" phx-value-key="info"><p>Saved &lt;ok&gt;</p></div></div>"#
    );
}

#[derive(Clone)]
struct User {
    id: u32,
    name: String,
}

#[test]
fn table_with_columns_actions_row_id_and_click() {
    let users = vec![
        User {
            id: 1,
            name: "Ann".into(),
        },
        User {
            id: 2,
            name: "Bob".into(),
        },
    ];
    let r = html!(
        r#"<.table id="users" rows={users} row_id={row_fn(|u: &User| format!("user-{}", u.id))} row_click={row_fn(|u: &User| JS::navigate(&format!("/users/{}", u.id)))}>
  <:col :let={u} label="Id">{u.id}</:col>
  <:col :let={u} label="Name">{u.name}</:col>
  <:action :let={u}><.link navigate={format!("/users/{}/edit", u.id)}>Edit</.link></:action>
</.table>"#
    );
    assert_eq!(
        r.to_html(),
        concat!(
            r#"<table class="table"><thead><tr><th>Id</th><th>Name</th><th><span class="sr-only">Actions</span></th></tr></thead><tbody id="users">"#,
            r#"<tr id="user-1"><td phx-click="[[&quot;navigate&quot;,{&quot;href&quot;:&quot;/users/1&quot;}]]" class="clickable">1</td><td phx-click="[[&quot;navigate&quot;,{&quot;href&quot;:&quot;/users/1&quot;}]]" class="clickable">Ann</td><td class="actions"><a href="/users/1/edit" data-phx-link="redirect" data-phx-link-state="push">Edit</a></td></tr>"#,
            r#"<tr id="user-2"><td phx-click="[[&quot;navigate&quot;,{&quot;href&quot;:&quot;/users/2&quot;}]]" class="clickable">2</td><td phx-click="[[&quot;navigate&quot;,{&quot;href&quot;:&quot;/users/2&quot;}]]" class="clickable">Bob</td><td class="actions"><a href="/users/2/edit" data-phx-link="redirect" data-phx-link-state="push">Edit</a></td></tr>"#,
            r#"</tbody></table>"#
        )
    );
    let r =
        html!(r#"<.table id="t" rows={users}><:col :let={u} label="N">{u.name}</:col></.table>"#);
    assert_eq!(
        r.to_html(),
        r#"<table class="table"><thead><tr><th>N</th></tr></thead><tbody id="t"><tr><td>Ann</td></tr><tr><td>Bob</td></tr></tbody></table>"#
    );
}

#[test]
fn modal_and_focus_wrap() {
    let r = html!(r#"<.modal id="m" show on_cancel={JS::patch("/users")}>Hi</.modal>"#);
    let html = r.to_html();
    let show = show_modal("m").to_json().replace('"', "&quot;");
    let hide = hide_modal("m").to_json().replace('"', "&quot;");
    let cancel = JS::patch("/users")
        .exec("phx-remove", "")
        .to_json()
        .replace('"', "&quot;");
    let close = JS::exec("data-cancel", "#m")
        .to_json()
        .replace('"', "&quot;");
    assert_eq!(
        html,
        format!(
            r#"<div id="m" phx-mounted="{show}" phx-remove="{hide}" data-cancel="{cancel}" class="modal" style="display: none;"><div id="m-bg" class="modal-backdrop" aria-hidden="true"></div><div class="modal-dialog" aria-labelledby="m-title" aria-describedby="m-description" role="dialog" aria-modal="true" tabindex="0"><div id="m-container" phx-hook="Phoenix.FocusWrap" phx-window-keydown="{close}" phx-key="escape" phx-click-away="{close}" class="modal-container"><span id="m-container-start" tabindex="0" aria-hidden="true"></span><div class="modal-close"><button phx-click="{close}" type="button" aria-label="close">&times;</button></div><div id="m-content">Hi</div><span id="m-container-end" tabindex="0" aria-hidden="true"></span></div></div></div>"#
        )
    );
    assert_eq!(
        show_modal("m").to_json(),
        r##"[["show",{"to":"#m"}],["show",{"to":"#m-bg","transition":[["fade-in"],["opacity-0"],["opacity-100"]]}],["show",{"to":"#m-container","transition":[["fade-in"],["opacity-0"],["opacity-100"]]}],["add_class",{"names":["overflow-hidden"],"to":"body"}],["focus_first",{"to":"#m-content"}]]"##
    );
    // Shown by default (the seed's usage); show={false} renders it hidden, without phx-mounted.
    let r = html!(r#"<.modal id="m">Hi</.modal>"#);
    assert!(r.to_html().contains(&format!("phx-mounted=\"{show}\"")));
    let r = html!(r#"<.modal id="m" show={false}>Hi</.modal>"#);
    assert!(!r.to_html().contains("phx-mounted"), "{}", r.to_html());
}

#[test]
fn async_result_states() {
    let loading: AsyncResult<String> = AsyncResult::loading();
    let ok = AsyncResult::ok("Acme".to_string());
    let failed: AsyncResult<String> = AsyncResult::failed("timeout");
    let reloading = AsyncResult::ok("Acme".to_string()).reload();
    for (state, expected) in [
        (&loading, "<p>Loading</p>"),
        (&ok, "<b>Acme</b>"),
        (&failed, "<p>Failed: timeout</p>"),
        (&reloading, "<b>Acme</b>"),
    ] {
        let r = html!(
            r#"<.async_result assign={state} :let={org}><:loading><p>Loading</p></:loading><:failed :let={reason}><p>Failed: {reason}</p></:failed><b>{org}</b></.async_result>"#
        );
        assert_eq!(r.to_html(), expected);
    }
}

#[test]
fn uploads_render_what_the_client_reads() {
    let upload = UploadConfig {
        name: "avatar".into(),
        upload_ref: "phx-F1".into(),
        accept: vec![".jpg".into(), ".png".into()],
        max_entries: 2,
        auto_upload: true,
        entries: vec![
            UploadEntry {
                upload_ref: "phx-F1".into(),
                entry_ref: "0".into(),
                done: true,
                preflighted: true,
                progress: 100,
                ..UploadEntry::default()
            },
            UploadEntry {
                upload_ref: "phx-F1".into(),
                entry_ref: "1".into(),
                errors: vec!["too_large".into()],
                ..UploadEntry::default()
            },
        ],
        ..UploadConfig::default()
    };
    let r = html!(r#"<.live_file_input upload={upload} class="file" />"#);
    assert_eq!(
        r.to_html(),
        r#"<input id="phx-F1" type="file" name="avatar" accept=".jpg,.png" multiple data-phx-hook="Phoenix.LiveFileUpload" data-phx-update="ignore" data-phx-upload-ref="phx-F1" data-phx-active-refs="0,1" data-phx-done-refs="0" data-phx-preflighted-refs="0" data-phx-error-refs="1" data-phx-auto-upload class="file">"#
    );
    let entry = &upload.entries[0];
    let r = html!(r#"<.live_img_preview entry={entry} width="60" />"#);
    assert_eq!(
        r.to_html(),
        r#"<img id="phx-preview-0" data-phx-upload-ref="phx-F1" data-phx-entry-ref="0" data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore" width="60">"#
    );
}

#[test]
fn js_commands_in_attributes() {
    let r = html!(r##"<button phx-click={JS::hide("#m").push("close")}>x</button>"##);
    assert_eq!(
        r.to_html(),
        r#"<button phx-click="[[&quot;hide&quot;,{&quot;to&quot;:&quot;#m&quot;}],[&quot;push&quot;,{&quot;event&quot;:&quot;close&quot;}]]">x</button>"#
    );
    let js = JS::toggle("#menu")
        .with_display("flex")
        .dispatch("#menu", "opened")
        .with_detail(json!({"a": 1}))
        .focus("#q")
        .transition("#q", "shake")
        .with_time(300)
        .remove_class("#q", "bad")
        .exec("data-x", "#y");
    assert_eq!(
        js.to_json(),
        r##"[["toggle",{"display":"flex","to":"#menu"}],["dispatch",{"detail":{"a":1},"event":"opened","to":"#menu"}],["focus",{"to":"#q"}],["transition",{"time":300,"to":"#q","transition":[["shake"],[],[]]}],["remove_class",{"names":["bad"],"to":"#q"}],["exec",{"attr":"data-x","to":"#y"}]]"##
    );
    // An attribute bag spreads JS too.
    let attrs = Attrs::new().with("phx-click", JS::push("go"));
    let r = html!(r#"<a {attrs}>go</a>"#);
    assert_eq!(
        r.to_html(),
        r#"<a phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;go&quot;}]]">go</a>"#
    );
    assert!(matches!(r.dynamics.as_slice(), [Dyn::Html(_)]));
}

/// The typed push and toggle options in a template: `target: @myself` as the cid number, a
/// selector target, `loading:`, `page_loading:`, and toggle's `in:`/`out:` as `ins`/`outs`.
#[test]
fn typed_js_options_render_into_attributes() {
    let myself = Myself(7);
    let r = html!(
        r##"<button phx-click={JS::push("inc").with_target(myself).with_loading("#count")}>+</button><form phx-submit={JS::push("save").with_target("#form").with_page_loading()}></form>"##
    );
    assert_eq!(
        r.to_html(),
        r##"<button phx-click="[[&quot;push&quot;,{&quot;event&quot;:&quot;inc&quot;,&quot;loading&quot;:&quot;#count&quot;,&quot;target&quot;:7}]]">+</button><form phx-submit="[[&quot;push&quot;,{&quot;event&quot;:&quot;save&quot;,&quot;page_loading&quot;:true,&quot;target&quot;:&quot;#form&quot;}]]"></form>"##
    );
    let toggle = JS::toggle("#menu")
        .with_in3("ease-out", "opacity-0", "opacity-100")
        .with_out("fade-out")
        .with_blocking(false);
    assert_eq!(
        toggle.to_json(),
        r##"[["toggle",{"blocking":false,"ins":[["ease-out"],["opacity-0"],["opacity-100"]],"outs":[["fade-out"],[],[]],"to":"#menu"}]]"##
    );
}
