//! The web pages: server-rendered HTML in Danish (English on request) for citizens,
//! coordinators and companies, signed in with a session cookie. Every page calls the same
//! use cases (`services`) as the JSON API, through the same transactions and audit log; a
//! page only parses a form, calls one use case and renders its outcome or its refusal.
//!
//! Templates are [maud](https://maud.lambda.xyz/) macros: they are Rust code, checked and
//! escaped at compile time, with no template files to ship and no build step. The one style
//! sheet is compiled into the binary. No page needs JavaScript: forms post and redirect.

// A request that does not get through to its page is answered with another page (the sign-in
// page, most often): that response is the `Err` of the checks, not worth a box.
#![allow(clippy::result_large_err)]

pub mod citizen;
pub mod company;
pub mod coordinator;
pub mod layout;
pub mod session;
pub mod sign_in;
pub mod text;

use std::net::IpAddr;

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::Markup;
use serde::Deserialize;
use smaajob_persistence::BackendKind;

use crate::error::ApiError;
use crate::services::principal::Principal;
use session::{Found, Sealer, Session, SessionUser};
use text::Lang;

/// Whether the development sign-in may be offered, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevSignIn {
    /// Offered: no identity provider is configured, the server listens on loopback only and
    /// the database is the embedded SQLite.
    Available,
    /// An identity provider is configured: people sign in there.
    IssuerConfigured,
    /// The server listens on an address other machines can reach.
    NotLoopback,
    /// The database is PostgreSQL, i.e. a real installation.
    Postgres,
}

impl DevSignIn {
    /// The decision for a server bound to `ip` on `backend`.
    pub fn decide(ip: IpAddr, backend: BackendKind, issuer_configured: bool) -> DevSignIn {
        if issuer_configured {
            DevSignIn::IssuerConfigured
        } else if !ip.is_loopback() {
            DevSignIn::NotLoopback
        } else if backend != BackendKind::Sqlite {
            DevSignIn::Postgres
        } else {
            DevSignIn::Available
        }
    }
}

/// What the pages need beyond the application state.
#[derive(Clone)]
pub struct Pages {
    /// Seals and opens the session cookie.
    pub sealer: Sealer,
    /// Whether the development sign-in is offered.
    pub dev_sign_in: DevSignIn,
    /// The identity providers people sign in at.
    pub sign_ins: std::sync::Arc<crate::oidc::SignIns>,
}

/// Registers the pages and the style sheet.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::FormConfig::default().limit(16 * 1024).error_handler(|err, req| {
        // A form that cannot be read gets a page, not a problem document.
        let lang = Lang::of(req);
        let t = lang.t();
        let body = layout::page(lang, t.error_title, None, layout::message(t.bad_form, lang));
        actix_web::error::InternalError::from_response(err, html(StatusCode::BAD_REQUEST, body)).into()
    }))
    .route("/", web::get().to(sign_in::home))
    .route("/static/app.css", web::get().to(style_sheet))
    .route("/log-ind", web::get().to(sign_in::page))
    .route("/log-ind/udvikler", web::post().to(sign_in::dev_sign_in))
    .route("/log-ind/oidc/{kind}", web::get().to(sign_in::start_oidc))
    .route("/log-ind/oidc/{kind}/retur", web::get().to(sign_in::oidc_return))
    .route("/log-ud", web::post().to(sign_in::sign_out))
    .route("/borger", web::get().to(citizen::start))
    .route("/borger/tilbud/{id}/{answer}", web::post().to(citizen::answer_offer))
    .route("/koordinator", web::get().to(coordinator::start))
    .route("/koordinator/placeringer/{id}/godkend", web::post().to(coordinator::approve))
    .route("/koordinator/placeringer/{id}/afvis", web::post().to(coordinator::reject))
    .route("/virksomhed", web::get().to(company::start))
    .route("/virksomhed/opgaver/ny", web::get().to(company::new_task_form))
    .route("/virksomhed/opgaver", web::post().to(company::create_task))
    .route("/virksomhed/opgaver/{id}/slaa-op", web::post().to(company::publish_task))
    .route("/virksomhed/timer/{id}/bekraeft", web::post().to(company::confirm_hours));
}

/// The style sheet, compiled in.
const STYLE: &str = include_str!("../../assets/app.css");

async fn style_sheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(STYLE)
}

/// An HTML response: never cached (pages show personal data), no scripts, no framing.
pub fn html(status: StatusCode, body: Markup) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ));
    res.body(body.into_string())
}

/// A 303 to `location` after a form was handled (post, redirect, get).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// The pages' settings from the app data.
fn pages(req: &HttpRequest) -> Result<&Pages, HttpResponse> {
    req.app_data::<web::Data<Pages>>().map(|p| p.get_ref()).ok_or_else(|| {
        tracing::error!("the pages are not configured");
        html(
            StatusCode::INTERNAL_SERVER_ERROR,
            layout::page(Lang::Da, Lang::Da.t().error_title, None, layout::message(Lang::Da.t().error, Lang::Da)),
        )
    })
}

/// A signed-in request: who, in which language, and the session to carry on.
pub struct SignedIn {
    /// The page's language.
    pub lang: Lang,
    /// The session.
    pub session: Session,
    /// Who is signed in.
    pub user: SessionUser,
    /// The principal the use cases act for.
    pub principal: Principal,
    refreshed: Option<Cookie<'static>>,
}

impl SignedIn {
    /// `res` with the session's idle clock reset, when due.
    pub fn finish(&self, mut res: HttpResponse) -> HttpResponse {
        if let Some(c) = &self.refreshed {
            let _ = res.add_cookie(c);
        }
        res
    }

    /// A page of this session, with its header.
    pub fn page(&self, status: StatusCode, title: &str, body: Markup) -> HttpResponse {
        self.finish(html(status, layout::page(self.lang, title, Some((&self.user, &self.session.csrf)), body)))
    }

    /// The page for a failed use case that has no form to re-render: 404, 403, or an error.
    pub fn failure(&self, err: ApiError) -> HttpResponse {
        let t = self.lang.t();
        let (status, title, text) = match &err {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, t.not_found_title, t.not_found),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, t.forbidden_title, t.forbidden),
            ApiError::Conflict { code, .. } | ApiError::Unprocessable { code, .. } => (
                StatusCode::from_u16(if matches!(err, ApiError::Conflict { .. }) { 409 } else { 422 })
                    .unwrap_or(StatusCode::CONFLICT),
                t.refused,
                self.lang.refusal(code.as_str()).unwrap_or(t.refused),
            ),
            _ => {
                tracing::error!(error = %err, "a page's use case failed");
                (StatusCode::INTERNAL_SERVER_ERROR, t.error_title, t.error)
            }
        };
        self.page(status, title, layout::message(text, self.lang))
    }
}

/// Why a request did not get through to its page.
fn refusal_notice(found: &Found, t: &text::Texts) -> &'static str {
    match found {
        Found::Expired => t.session_expired,
        Found::Invalid => t.session_invalid,
        _ => t.session_missing,
    }
}

/// The signed-in session of `req`, or the sign-in page (401) when there is none, it was
/// tampered with, or it has expired.
pub async fn signed_in(req: &HttpRequest) -> Result<SignedIn, HttpResponse> {
    let pages = pages(req)?.clone();
    let lang = Lang::of(req);
    let now = session::now();
    let found = pages.sealer.open(req, now);
    match found {
        Found::Live(session) => match session.user.clone().and_then(|u| u.principal().map(|p| (u, p))) {
            Some((user, principal)) => {
                let refreshed =
                    session.needs_refresh(now).then(|| pages.sealer.seal(&Session { seen_at: now, ..session.clone() }));
                Ok(SignedIn { lang, session, user, principal, refreshed })
            }
            None => Err(sign_in::refused(req, &pages, lang, StatusCode::UNAUTHORIZED, lang.t().session_missing).await),
        },
        other => {
            Err(sign_in::refused(req, &pages, lang, StatusCode::UNAUTHORIZED, refusal_notice(&other, lang.t())).await)
        }
    }
}

/// Every form's token field.
#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    /// The session's form token.
    #[serde(default)]
    pub csrf: String,
}

/// A signed-in request posting a form with the session's token; otherwise the sign-in page
/// (401 without a live session, 403 with a missing or wrong token), and nothing is done.
pub async fn signed_in_form(req: &HttpRequest, csrf: &str) -> Result<SignedIn, HttpResponse> {
    let s = signed_in(req).await?;
    if s.session.csrf_matches(csrf) {
        Ok(s)
    } else {
        let pages = pages(req)?.clone();
        Err(sign_in::refused(req, &pages, s.lang, StatusCode::FORBIDDEN, s.lang.t().csrf_failed).await)
    }
}

/// The start page of a role.
pub fn start_of(user: &SessionUser) -> &'static str {
    use crate::services::principal::Role;
    match user.role {
        Role::Citizen => "/borger",
        Role::Coordinator => "/koordinator",
        Role::Company => "/virksomhed",
        Role::Operator => "/log-ind",
    }
}

/// A notice named in the query string after a redirect (`?ok=…`); only known names are shown.
#[derive(Debug, Default, Deserialize)]
pub struct NoticeQuery {
    /// The notice's name.
    #[serde(default)]
    pub ok: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_sign_in_needs_loopback_sqlite_and_no_issuer() {
        let lo: IpAddr = [127, 0, 0, 1].into();
        let any: IpAddr = [0, 0, 0, 0].into();
        let lan: IpAddr = [192, 168, 1, 5].into();
        assert_eq!(DevSignIn::decide(lo, BackendKind::Sqlite, false), DevSignIn::Available);
        assert_eq!(
            DevSignIn::decide(std::net::Ipv6Addr::LOCALHOST.into(), BackendKind::Sqlite, false),
            DevSignIn::Available
        );
        assert_eq!(DevSignIn::decide(any, BackendKind::Sqlite, false), DevSignIn::NotLoopback);
        assert_eq!(DevSignIn::decide(lan, BackendKind::Sqlite, false), DevSignIn::NotLoopback);
        assert_eq!(DevSignIn::decide(lo, BackendKind::Postgres, false), DevSignIn::Postgres);
        assert_eq!(DevSignIn::decide(lo, BackendKind::Sqlite, true), DevSignIn::IssuerConfigured);
    }
}
