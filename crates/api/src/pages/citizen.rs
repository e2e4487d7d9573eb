//! The citizen's pages: "Mit fribeløb" (this year's balance in words and figures) and the
//! offers to accept or decline.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use smaajob_domain::Money;
use smaajob_persistence::repo::Page;

use crate::http::parse_id;
use crate::pages::layout::{self, csrf_field};
use crate::pages::text::Lang;
use crate::pages::{CsrfOnly, NoticeQuery, see_other, signed_in, signed_in_form};
use crate::services::balance::{self, Balance};
use crate::services::placements::{self, Placement};
use crate::state::AppState;

/// The offers shown at most on the start page.
const OFFERS_SHOWN: i64 = 50;

/// `GET /borger`: the balance and the offers. Reading the balance writes the same audit entry
/// as `GET /api/v1/me/balance`.
pub async fn start(req: HttpRequest, state: web::Data<AppState>, q: web::Query<NoticeQuery>) -> HttpResponse {
    let s = match signed_in(&req).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let principal = s.principal.clone();
    let read = state
        .read_audited(move |conn| {
            let balance = balance::my_balance(conn, &principal, None)?;
            let offers = placements::my_offers(conn, &principal, Page { limit: OFFERS_SHOWN, offset: 0 })?;
            let (balance, entries) = balance.into_parts();
            Ok(((balance, offers.0), entries))
        })
        .await;
    let (balance, offers) = match read {
        Ok(v) => v,
        Err(e) => return s.failure(e),
    };
    let t = s.lang.t();
    let notice = match q.ok.as_deref() {
        Some("ja") => Some(t.accepted_notice),
        Some("nej") => Some(t.declined_notice),
        _ => None,
    };
    let body = html! {
        (layout::notice(notice))
        (balance_card(s.lang, &balance))
        (offers_card(s.lang, &offers, &s.session.csrf))
    };
    s.page(StatusCode::OK, t.my_page, body)
}

fn balance_card(lang: Lang, b: &Balance) -> Markup {
    let t = lang.t();
    let cap = b.cap.amount.money();
    let used = b.details.as_ref().map_or(Money::from_ore((cap.ore() - b.remaining.ore()).max(0)), |d| d.exempt);
    html! {
        section.card aria-labelledby="fribeloeb" {
            h2 id="fribeloeb" { (t.my_allowance) " " (b.year) }
            @if b.cap.provisional { p.warning { (t.provisional_cap) } }
            meter.bar id="bar" min="0" max=(cap.ore()) value=(used.ore()) aria-label=(lang.used_of(used, cap)) {
                (lang.used_of(used, cap))
            }
            p { (lang.used_of(used, cap)) }
            dl.figures {
                dt { (t.cap_of_year) } dd { (lang.money(cap)) }
                dt { (t.used) } dd { (lang.money(used)) }
                dt { (t.left) } dd id="tilbage" { (lang.money(b.remaining)) }
                @if let Some(d) = &b.details {
                    dt { (t.taxable_so_far) } dd { (lang.money(d.taxable)) }
                    dt { (t.planned_pay) } dd { (lang.money(d.planned.amount)) }
                }
            }
            @if let Some(d) = &b.details {
                p id="tempo" { (lang.cap_reached_at_pace(d.projection.and_then(|p| p.cap_reached_on))) }
                @if d.planned.amount.is_positive() {
                    p id="plan" { (lang.cap_reached_by_plan(d.planned.cap_reached_on)) }
                }
            }
            h3 { (t.what_it_means_title) }
            p { (t.what_it_means) }
            p { (t.what_over_means) }
            h3 { (t.based_on_title) }
            p { (lang.based_on(b.reconciled_on)) }
        }
    }
}

fn offers_card(lang: Lang, offers: &[Placement], csrf: &str) -> Markup {
    let t = lang.t();
    html! {
        section.card aria-labelledby="tilbud" {
            h2 id="tilbud" { (t.offers) }
            @if offers.is_empty() {
                p { (t.no_offers) }
            } @else {
                ul.items {
                    @for o in offers {
                        li {
                            strong { (o.task_title) }
                            div.actions {
                                form method="post" action=(format!("/borger/tilbud/{}/accepter", o.row.id)) {
                                    (csrf_field(csrf))
                                    button type="submit" aria-label=(format!("{}: {}", t.accept, o.task_title)) { (t.accept) }
                                }
                                form method="post" action=(format!("/borger/tilbud/{}/afvis", o.row.id)) {
                                    (csrf_field(csrf))
                                    button.secondary type="submit" aria-label=(format!("{}: {}", t.decline, o.task_title)) { (t.decline) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `POST /borger/tilbud/{id}/accepter|afvis`: answers an offer through the same use case as
/// `POST /api/v1/placements/{id}/accept|decline`, then back to the start page.
pub async fn answer_offer(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> HttpResponse {
    let s = match signed_in_form(&req, &form.csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let (raw_id, answer) = path.into_inner();
    let accept = match answer.as_str() {
        "accepter" => true,
        "afvis" => false,
        _ => return s.failure(crate::error::ApiError::NotFound("no such answer".into())),
    };
    let id = match parse_id(&raw_id, "placement") {
        Ok(id) => id,
        Err(e) => return s.failure(e),
    };
    let principal = s.principal.clone();
    let done = state
        .write(move |conn| {
            Ok(if accept {
                placements::accept(conn, &principal, &id, None)?
            } else {
                placements::decline(conn, &principal, &id, None)?
            })
        })
        .await;
    match done {
        Ok(_) => s.finish(see_other(if accept { "/borger?ok=ja" } else { "/borger?ok=nej" })),
        Err(e) => s.failure(e),
    }
}
