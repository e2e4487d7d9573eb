//! The coordinator's start page: the approval queue, with approve and reject (with a reason),
//! and what else waits in the municipality. A refusal of an approval is explained beside the
//! placement it concerns; one that would cross the citizen's cap offers to approve anyway.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::error::ApiError;
use crate::http::parse_id;
use crate::pages::layout::{self, Field, csrf_field};
use crate::pages::text::Lang;
use crate::pages::{NoticeQuery, SignedIn, see_other, signed_in, signed_in_form};
use crate::services::placements;
use crate::services::queue::{self, Queue};
use crate::state::AppState;

/// What the start page says beside one placement after a refused form.
#[derive(Debug, Clone, Default)]
struct Beside {
    placement_id: String,
    /// The refusal of an approval, in words.
    refusal: Option<&'static str>,
    /// Whether to offer approving although part of the pay becomes taxable.
    offer_taxable: bool,
    /// The reason typed in the reject form, and its error.
    reason: String,
    reason_error: Option<&'static str>,
}

/// `GET /koordinator`.
pub async fn start(req: HttpRequest, state: web::Data<AppState>, q: web::Query<NoticeQuery>) -> HttpResponse {
    let s = match signed_in(&req).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let t = s.lang.t();
    let notice = match q.ok.as_deref() {
        Some("godkendt") => Some(t.approved_notice),
        Some("afvist") => Some(t.rejected_notice),
        _ => None,
    };
    render(&s, &state, StatusCode::OK, notice, None).await
}

/// The start page with `beside` shown at its placement. The queue is read through the same
/// audited use case as `GET /api/v1/queue`.
async fn render(
    s: &SignedIn,
    state: &AppState,
    status: StatusCode,
    notice: Option<&str>,
    beside: Option<Beside>,
) -> HttpResponse {
    let principal = s.principal.clone();
    let q = match state.read_audited(move |conn| Ok(queue::queue(conn, &principal)?.into_parts())).await {
        Ok(q) => q,
        Err(e) => return s.failure(e),
    };
    let body = html! {
        (layout::notice(notice))
        (approvals(s.lang, &q, &s.session.csrf, beside.as_ref()))
        (others(s.lang, &q))
    };
    s.page(status, s.lang.t().coordinator_start, body)
}

fn approvals(lang: Lang, q: &Queue, csrf: &str, beside: Option<&Beside>) -> Markup {
    let t = lang.t();
    html! {
        section.card aria-labelledby="koe" {
            h2 id="koe" { (t.approval_queue) " (" (q.awaiting_approval.len()) ")" }
            @if q.awaiting_approval.is_empty() {
                p { (t.queue_empty) }
            } @else {
                ul.items {
                    @for w in &q.awaiting_approval {
                        @let id = &w.placement.id;
                        @let here = beside.filter(|b| &b.placement_id == id);
                        li id=(format!("p-{id}")) {
                            dl.figures {
                                dt { (t.citizen) } dd { (w.citizen_name) }
                                dt { (t.task) } dd { (w.task.title) }
                                dt { (t.date) } dd { (lang.shift(w.task.first_date, w.task.last_date)) }
                                dt { (t.hourly_wage) } dd { (lang.per_hour(w.task.hourly_wage)) }
                                dt { (t.waiting_hours) } dd { (w.age_hours) }
                            }
                            @if let Some(refusal) = here.and_then(|b| b.refusal) {
                                p.problem role="alert" id=(format!("refusal-{id}")) { (refusal) }
                            }
                            form method="post" action=(format!("/koordinator/placeringer/{id}/godkend")) {
                                (csrf_field(csrf))
                                @if here.is_some_and(|b| b.offer_taxable) {
                                    label.check for=(format!("tax-{id}")) {
                                        input type="checkbox" id=(format!("tax-{id}")) name="accept_taxable_excess" value="ja";
                                        span { (t.accept_taxable) }
                                    }
                                }
                                div.actions {
                                    button type="submit" aria-label=(format!("{}: {}, {}", t.approve, w.citizen_name, w.task.title)) { (t.approve) }
                                }
                            }
                            form method="post" action=(format!("/koordinator/placeringer/{id}/afvis")) {
                                (csrf_field(csrf))
                                (Field {
                                    name: &format!("reason-{id}"),
                                    label: t.reason,
                                    kind: "textarea",
                                    value: here.map_or("", |b| b.reason.as_str()),
                                    hint: Some(t.reason_hint),
                                    error: here.and_then(|b| b.reason_error),
                                    required: false,
                                    autocomplete: None,
                                }.render())
                                div.actions {
                                    button.secondary type="submit" aria-label=(format!("{}: {}, {}", t.reject, w.citizen_name, w.task.title)) { (t.reject) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn others(lang: Lang, q: &Queue) -> Markup {
    let t = lang.t();
    html! {
        section.card aria-labelledby="naer" {
            h2 id="naer" { (t.near_cap) }
            @if q.citizens_near_cap.is_empty() { p { (t.none) } } @else {
                ul.items { @for c in &q.citizens_near_cap {
                    li { (c.citizen_name) ": " (c.used_percent) " % · " (t.left) " " (lang.money(c.remaining)) }
                } }
            }
        }
        section.card aria-labelledby="kontrol" {
            h2 id="kontrol" { (t.controls_due) }
            @if q.cards_due_for_control.is_empty() { p { (t.none) } } @else {
                ul.items { @for c in &q.cards_due_for_control { li { (c.citizen_name) } } }
            }
        }
        section.card aria-labelledby="virk" {
            h2 id="virk" { (t.companies_waiting) }
            @if q.companies_awaiting_verification.is_empty() { p { (t.none) } } @else {
                ul.items { @for c in &q.companies_awaiting_verification { li { (c.company.name) } } }
            }
        }
    }
}

/// The approve form.
#[derive(Debug, Deserialize)]
pub struct ApproveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    accept_taxable_excess: Option<String>,
}

/// `POST /koordinator/placeringer/{id}/godkend`: the same use case as
/// `POST /api/v1/placements/{id}/approve`.
pub async fn approve(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<ApproveForm>,
) -> HttpResponse {
    let s = match signed_in_form(&req, &form.csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match parse_id(&path, "placement") {
        Ok(id) => id,
        Err(e) => return s.failure(e),
    };
    let accept = form.accept_taxable_excess.is_some();
    let principal = s.principal.clone();
    let placement = id.clone();
    match state.write(move |conn| Ok(placements::approve(conn, &principal, &placement, accept)?)).await {
        Ok(_) => s.finish(see_other("/koordinator?ok=godkendt")),
        Err(ApiError::Unprocessable { code, .. } | ApiError::Conflict { code, .. }) => {
            let lang = s.lang;
            let beside = Beside {
                placement_id: id,
                refusal: Some(lang.refusal(code.as_str()).unwrap_or(lang.t().refused)),
                offer_taxable: code.as_str() == "would_exceed_frikort",
                ..Beside::default()
            };
            render(&s, &state, StatusCode::UNPROCESSABLE_ENTITY, None, Some(beside)).await
        }
        Err(e) => s.failure(e),
    }
}

/// `POST /koordinator/placeringer/{id}/afvis`: the same use case as
/// `POST /api/v1/placements/{id}/reject`; the reason is a field named after the placement, so
/// each placement's form keeps its own.
pub async fn reject(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    form: web::Form<std::collections::HashMap<String, String>>,
) -> HttpResponse {
    let csrf = form.get("csrf").map_or("", String::as_str);
    let s = match signed_in_form(&req, csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let id = match parse_id(&path, "placement") {
        Ok(id) => id,
        Err(e) => return s.failure(e),
    };
    let typed = form.get(&format!("reason-{id}")).cloned().unwrap_or_default();
    let reason = Some(typed.trim().to_owned()).filter(|r| !r.is_empty());
    let principal = s.principal.clone();
    let placement = id.clone();
    match state.write(move |conn| Ok(placements::reject(conn, &principal, &placement, reason)?)).await {
        Ok(_) => s.finish(see_other("/koordinator?ok=afvist")),
        Err(ApiError::Validation(fields)) => {
            let lang = s.lang;
            let error = fields.iter().find(|f| f.field == "reason").map(|f| lang.field_error(&f.code));
            let beside = Beside {
                placement_id: id,
                reason: typed,
                reason_error: Some(error.unwrap_or(lang.t().err_invalid)),
                ..Beside::default()
            };
            render(&s, &state, StatusCode::UNPROCESSABLE_ENTITY, Some(lang.t().form_has_errors), Some(beside)).await
        }
        Err(ApiError::Unprocessable { code, .. } | ApiError::Conflict { code, .. }) => {
            let lang = s.lang;
            let beside = Beside {
                placement_id: id,
                refusal: Some(lang.refusal(code.as_str()).unwrap_or(lang.t().refused)),
                reason: typed,
                ..Beside::default()
            };
            render(&s, &state, StatusCode::CONFLICT, None, Some(beside)).await
        }
        Err(e) => s.failure(e),
    }
}
