//! The shell every page shares (language, header with sign-out, skip link, style sheet) and
//! the pieces forms are made of: fields with their label, hint and error tied together for
//! screen readers.

use maud::{DOCTYPE, Markup, html};

use crate::pages::session::SessionUser;
use crate::pages::text::Lang;
use crate::services::principal::Role;

/// A whole page. `signed_in` is the user and the session's form token, for the header's
/// sign-out button.
pub fn page(lang: Lang, title: &str, signed_in: Option<(&SessionUser, &str)>, body: Markup) -> Markup {
    let t = lang.t();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (t.site) }
                link rel="stylesheet" href="/static/app.css";
            }
            body {
                a.skip href="#indhold" { (t.skip_to_content) }
                header.site {
                    a.brand href="/" { (t.site) }
                    @if let Some((user, csrf)) = signed_in {
                        span.who { (t.signed_in_as) " " (user.name) " (" (role_name(lang, user.role)) ")" }
                        form method="post" action="/log-ud" {
                            (csrf_field(csrf))
                            button type="submit" { (t.sign_out) }
                        }
                    }
                }
                main id="indhold" tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// A role's name.
pub fn role_name(lang: Lang, role: Role) -> &'static str {
    let t = lang.t();
    match role {
        Role::Citizen => t.role_citizen,
        Role::Coordinator => t.role_coordinator,
        Role::Company => t.role_company,
        Role::Operator => "operator",
    }
}

/// A paragraph of text and a link back to the start page.
pub fn message(text: &str, lang: Lang) -> Markup {
    html! {
        p.problem role="alert" { (text) }
        p { a href="/" { (lang.t().back_to_start) } }
    }
}

/// A notice after a redirect, announced politely.
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p.notice role="status" { (text) }
        }
    }
}

/// The form token, in every form.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// One input with its label, an optional hint and its error next to it.
pub struct Field<'a> {
    /// The form field's name (and the id, prefixed).
    pub name: &'a str,
    /// The label.
    pub label: &'a str,
    /// The input type.
    pub kind: &'a str,
    /// What was typed (kept when the form is shown again).
    pub value: &'a str,
    /// A hint below the label.
    pub hint: Option<&'a str>,
    /// The error, if the value was refused.
    pub error: Option<&'a str>,
    /// Whether the field must be filled.
    pub required: bool,
    /// The browser's autocomplete hint.
    pub autocomplete: Option<&'a str>,
}

impl Field<'_> {
    /// The field's markup.
    pub fn render(&self) -> Markup {
        let id = format!("f-{}", self.name);
        let hint_id = format!("{id}-hint");
        let error_id = format!("{id}-error");
        let described = match (self.hint.is_some(), self.error.is_some()) {
            (true, true) => Some(format!("{hint_id} {error_id}")),
            (true, false) => Some(hint_id.clone()),
            (false, true) => Some(error_id.clone()),
            (false, false) => None,
        };
        html! {
            div.field {
                label for=(id) {
                    (self.label)
                    @if let Some(h) = self.hint { span.hint id=(hint_id) { (h) } }
                }
                @if self.kind == "textarea" {
                    textarea id=(id) name=(self.name) rows="4" required[self.required]
                        aria-invalid=[self.error.map(|_| "true")] aria-describedby=[described.as_deref()] { (self.value) }
                } @else {
                    input id=(id) type=(self.kind) name=(self.name) value=(self.value) required[self.required]
                        autocomplete=[self.autocomplete] aria-invalid=[self.error.map(|_| "true")]
                        aria-describedby=[described.as_deref()];
                }
                @if let Some(e) = self.error { p.field-error id=(error_id) { (e) } }
            }
        }
    }
}
