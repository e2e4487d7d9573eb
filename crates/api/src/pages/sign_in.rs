//! Signing in and out. People sign in at the configured identity providers (OpenID Connect's
//! code flow with PKCE, see [`crate::oidc`]): the flow's state, nonce and PKCE verifier wait in
//! the sealed session cookie until the provider sends the browser back, and only a browser
//! holding that cookie can finish the sign-in it started. Who the provider's claims name here
//! is found by `services::sign_in`.
//!
//! Until an identity provider is configured, the only way in is the development sign-in:
//! offered only on a loopback address with SQLite (see [`DevSignIn`]), where a person picks
//! one of the demo data set's users.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::demo;
use crate::oidc::{Asserted, IssuerKind, SIGN_IN_TIMEOUT_SECONDS};
use crate::pages::layout::{self, csrf_field};
use crate::pages::session::{self, Found, Session, SessionUser};
use crate::pages::text::Lang;
use crate::pages::{DevSignIn, NoticeQuery, Pages, html as html_response, see_other, start_of};
use crate::services::principal::Role;
use crate::services::sign_in::{self as sign_in_service, Member, NotMember};
use crate::state::AppState;

/// One user the development sign-in offers.
#[derive(Debug, Clone)]
struct Choice {
    key: String,
    user: SessionUser,
}

/// The demo users in the database: the coordinators of the demo municipalities, and the demo
/// companies and citizens that `smaajob demo` loaded.
async fn choices(req: &HttpRequest) -> Vec<Choice> {
    let mut out: Vec<Choice> = demo::MUNICIPALITIES
        .iter()
        .map(|(code, name)| Choice {
            key: format!("coordinator:{code}"),
            user: SessionUser {
                role: Role::Coordinator,
                sub: format!("dev-coordinator-{code}"),
                name: format!("{name} Kommune ({code})"),
                municipality: Some((*code).into()),
                company_id: None,
                citizen_id: None,
                issuer: None,
            },
        })
        .collect();
    let Some(state) = req.app_data::<web::Data<AppState>>() else { return out };
    let key = state.data_key.clone();
    match state.read(move |conn| Ok(demo::users(conn, &key)?)).await {
        Ok(users) => {
            for (name, id) in users.companies {
                out.push(Choice {
                    key: format!("company:{id}"),
                    user: SessionUser {
                        role: Role::Company,
                        sub: format!("dev-company-{id}"),
                        name,
                        municipality: None,
                        company_id: Some(id),
                        citizen_id: None,
                        issuer: None,
                    },
                });
            }
            for (name, id) in users.citizens {
                out.push(Choice {
                    key: format!("citizen:{id}"),
                    user: SessionUser {
                        role: Role::Citizen,
                        sub: format!("dev-citizen-{id}"),
                        name,
                        municipality: None,
                        company_id: None,
                        citizen_id: Some(id),
                        issuer: None,
                    },
                });
            }
        }
        Err(e) => tracing::warn!(error = %e, "the demo users could not be read"),
    }
    out
}

/// The sign-in page's body.
fn body(
    lang: Lang,
    dev: DevSignIn,
    csrf: &str,
    choices: &[Choice],
    issuers: &[IssuerKind],
    notice: Option<&str>,
    problem: Option<&str>,
) -> Markup {
    let t = lang.t();
    let has_demo = choices.iter().any(|c| c.user.role != Role::Coordinator);
    html! {
        (layout::notice(notice))
        @if let Some(p) = problem { p.problem role="alert" { (p) } }
        p { (t.sign_in_intro) }
        @if !issuers.is_empty() {
            ul.sign-in {
                @for kind in issuers {
                    li { a.button href=(format!("/log-ind/oidc/{}", kind.slug())) { (issuer_label(lang, *kind)) } }
                }
            }
        }
        @match dev {
            DevSignIn::Available => {
                section.card aria-labelledby="dev-title" {
                    h2 id="dev-title" { (t.dev_sign_in_title) }
                    p.warning { (t.dev_sign_in_warning) }
                    @if !has_demo { p { (t.dev_sign_in_no_demo) } }
                    form method="post" action="/log-ind/udvikler" {
                        (csrf_field(csrf))
                        fieldset {
                            legend { (t.dev_sign_in_pick) }
                            @for (i, c) in choices.iter().enumerate() {
                                label.check for=(format!("u{i}")) {
                                    input type="radio" id=(format!("u{i}")) name="user" value=(c.key) required checked[i == 0];
                                    span { (c.user.name) " (" (layout::role_name(lang, c.user.role)) ")" }
                                }
                            }
                        }
                        p { button type="submit" { (t.dev_sign_in_button) } }
                    }
                }
            }
            _ if issuers.is_empty() => { p { (t.no_sign_in_configured) } }
            _ => {}
        }
    }
}

/// The sign-in page with `status`, a fresh anonymous session (replacing whatever the browser
/// sent) and a notice saying why it is shown.
pub async fn refused(req: &HttpRequest, pages: &Pages, lang: Lang, status: StatusCode, notice: &str) -> HttpResponse {
    render(req, pages, lang, status, None, Some(notice)).await
}

async fn render(
    req: &HttpRequest,
    pages: &Pages,
    lang: Lang,
    status: StatusCode,
    notice: Option<&str>,
    problem: Option<&str>,
) -> HttpResponse {
    let session = Session::new(None, session::now());
    let choices = if pages.dev_sign_in == DevSignIn::Available { choices(req).await } else { Vec::new() };
    let markup = layout::page(
        lang,
        lang.t().sign_in_title,
        None,
        body(lang, pages.dev_sign_in, &session.csrf, &choices, &pages.sign_ins.kinds(), notice, problem),
    );
    let mut res = html_response(status, markup);
    let _ = res.add_cookie(&pages.sealer.seal(&session));
    res
}

/// `GET /`: a signed-in person goes to their start page; anyone else gets the sign-in page.
pub async fn home(req: HttpRequest) -> HttpResponse {
    let pages = match super::pages(&req) {
        Ok(p) => p.clone(),
        Err(res) => return res,
    };
    if let Found::Live(Session { user: Some(user), .. }) = pages.sealer.open(&req, session::now()) {
        return see_other(start_of(&user));
    }
    render(&req, &pages, Lang::of(&req), StatusCode::OK, None, None).await
}

/// `GET /log-ind`: the sign-in page (after sign-out with a notice saying so).
pub async fn page(req: HttpRequest, q: web::Query<NoticeQuery>) -> HttpResponse {
    let pages = match super::pages(&req) {
        Ok(p) => p.clone(),
        Err(res) => return res,
    };
    let lang = Lang::of(&req);
    let notice = (q.ok.as_deref() == Some("ud")).then_some(lang.t().signed_out);
    render(&req, &pages, lang, StatusCode::OK, notice, None).await
}

/// The development sign-in form.
#[derive(Debug, Deserialize)]
pub struct DevForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
}

/// `POST /log-ind/udvikler`: signs in as the chosen demo user, in a new session.
pub async fn dev_sign_in(req: HttpRequest, form: web::Form<DevForm>) -> HttpResponse {
    let pages = match super::pages(&req) {
        Ok(p) => p.clone(),
        Err(res) => return res,
    };
    let lang = Lang::of(&req);
    let t = lang.t();
    if pages.dev_sign_in != DevSignIn::Available {
        return refused(&req, &pages, lang, StatusCode::FORBIDDEN, t.dev_sign_in_refused).await;
    }
    // The sign-in form carries the anonymous session's token too (against login CSRF).
    let Found::Live(before) = pages.sealer.open(&req, session::now()) else {
        return refused(&req, &pages, lang, StatusCode::FORBIDDEN, t.csrf_failed).await;
    };
    if !before.csrf_matches(&form.csrf) {
        return refused(&req, &pages, lang, StatusCode::FORBIDDEN, t.csrf_failed).await;
    }
    let Some(choice) = choices(&req).await.into_iter().find(|c| c.key == form.user) else {
        return render(&req, &pages, lang, StatusCode::UNPROCESSABLE_ENTITY, None, Some(t.dev_sign_in_pick)).await;
    };
    tracing::info!(sub = %choice.user.sub, role = choice.user.role.as_str(), "development sign-in");
    let location = start_of(&choice.user);
    // A new session (and form token) at sign-in: a token seen before is worth nothing after.
    let session = Session::new(Some(choice.user), session::now());
    let mut res = see_other(location);
    let _ = res.add_cookie(&pages.sealer.seal(&session));
    res
}

/// `POST /log-ud`: ends the session in this browser and, for a person who signed in at an
/// identity provider that offers it, sends the browser on to end the session there too.
pub async fn sign_out(req: HttpRequest, form: web::Form<super::CsrfOnly>) -> HttpResponse {
    let signed_in = match super::signed_in_form(&req, &form.csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let Ok(pages) = super::pages(&req) else { return see_other("/log-ind") };
    tracing::info!(sub = %signed_in.user.sub, "signed out");
    let at_provider = signed_in.user.issuer.and_then(|kind| pages.sign_ins.get(kind)).and_then(|provider| {
        let after = provider.post_logout_url()?;
        provider.end_session_url(&after)
    });
    let mut res = see_other(at_provider.as_deref().unwrap_or("/log-ind?ok=ud"));
    let _ = res.add_cookie(&pages.sealer.removal());
    res
}

/// The sign-in button's text for an issuer.
fn issuer_label(lang: Lang, kind: IssuerKind) -> &'static str {
    let t = lang.t();
    match kind {
        IssuerKind::Citizen => t.sign_in_citizen,
        IssuerKind::Company => t.sign_in_company,
        IssuerKind::Coordinator => t.sign_in_coordinator,
    }
}

/// `GET /log-ind/oidc/{kind}`: sends the browser to the kind's identity provider, keeping the
/// flow's state, nonce and PKCE verifier in the session cookie.
pub async fn start_oidc(req: HttpRequest, kind: web::Path<String>) -> HttpResponse {
    let pages = match super::pages(&req) {
        Ok(p) => p.clone(),
        Err(res) => return res,
    };
    let lang = Lang::of(&req);
    let Some(provider) = IssuerKind::from_slug(&kind).and_then(|k| pages.sign_ins.get(k)) else {
        return refused(&req, &pages, lang, StatusCode::NOT_FOUND, lang.t().sign_in_unknown_issuer).await;
    };
    let now = session::now();
    let (location, pending) = provider.start(now);
    // A new anonymous session: whoever was signed in here is not, once they sign in again.
    let session = Session { pending: Some(pending), ..Session::new(None, now) };
    let mut res = see_other(&location);
    let _ = res.add_cookie(&pages.sealer.seal(&session));
    res
}

/// What the identity provider sends back (RFC 6749 § 4.1.2).
#[derive(Debug, Deserialize)]
pub struct ProviderAnswer {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// `GET /log-ind/oidc/{kind}/retur`: finishes a sign-in the same browser started: the answer
/// must carry the `state` its session keeps, for the same issuer, within ten minutes; the code
/// is traded with the PKCE verifier, the ID token checked with the nonce. Anything else gets
/// the sign-in page with a reason, never a session.
pub async fn oidc_return(
    req: HttpRequest,
    kind: web::Path<String>,
    answer: web::Query<ProviderAnswer>,
) -> HttpResponse {
    let pages = match super::pages(&req) {
        Ok(p) => p.clone(),
        Err(res) => return res,
    };
    let lang = Lang::of(&req);
    let t = lang.t();
    let Some(provider) = IssuerKind::from_slug(&kind).and_then(|k| pages.sign_ins.get(k)) else {
        return refused(&req, &pages, lang, StatusCode::NOT_FOUND, t.sign_in_unknown_issuer).await;
    };
    let now = session::now();
    let found = pages.sealer.open(&req, now);
    let Found::Live(Session { pending: Some(pending), .. }) = found else {
        let notice = if found == Found::Invalid { t.session_invalid } else { t.sign_in_failed };
        return refused(&req, &pages, lang, StatusCode::UNAUTHORIZED, notice).await;
    };
    if pending.kind != provider.kind() || now - pending.started_at > SIGN_IN_TIMEOUT_SECONDS {
        return refused(&req, &pages, lang, StatusCode::UNAUTHORIZED, t.sign_in_failed).await;
    }
    let state_matches = answer
        .state
        .as_deref()
        .is_some_and(|sent| bool::from(subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), pending.state.as_bytes())));
    if !state_matches {
        tracing::warn!(issuer = provider.kind().slug(), "a sign-in answer did not carry the state it was sent");
        return refused(&req, &pages, lang, StatusCode::FORBIDDEN, t.sign_in_failed).await;
    }
    if let Some(error) = &answer.error {
        // The provider's own error code (access_denied, login_required, …): never a claim.
        tracing::info!(issuer = provider.kind().slug(), error = %error, "the identity provider ended the sign-in");
        return refused(&req, &pages, lang, StatusCode::UNAUTHORIZED, t.sign_in_cancelled).await;
    }
    let Some(code) = answer.code.clone() else {
        return refused(&req, &pages, lang, StatusCode::BAD_REQUEST, t.sign_in_failed).await;
    };
    let identity = match provider.finish(&pending, code, pages.sign_ins.claims()).await {
        Ok(identity) => identity,
        Err(e) => {
            // The error names claims, never their values.
            tracing::warn!(issuer = provider.kind().slug(), error = %e, "sign-in refused");
            return refused(&req, &pages, lang, StatusCode::UNAUTHORIZED, t.sign_in_failed).await;
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return refused(&req, &pages, lang, StatusCode::INTERNAL_SERVER_ERROR, t.error).await;
    };
    let key = state.data_key.clone();
    let asserted = identity.asserted.clone();
    let member = state
        .read(move |conn| {
            Ok(match &asserted {
                Asserted::Citizen(cpr) => sign_in_service::citizen_by_cpr(conn, &key, cpr)?,
                Asserted::Company(cvr) => sign_in_service::company_by_cvr(conn, cvr)?,
                Asserted::Coordinator(m) => Ok(Member::Coordinator { municipality: *m }),
            })
        })
        .await;
    let member = match member {
        Ok(Ok(member)) => member,
        Ok(Err(not)) => {
            tracing::info!(sub = %identity.sub, issuer = provider.kind().slug(), "signed in at the provider, unknown here");
            let notice = match not {
                NotMember::UnknownCitizen => t.sign_in_unknown_citizen,
                NotMember::UnknownCompany => t.sign_in_unknown_company,
            };
            return refused(&req, &pages, lang, StatusCode::FORBIDDEN, notice).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "the sign-in could not look up who signed in");
            return refused(&req, &pages, lang, StatusCode::SERVICE_UNAVAILABLE, t.error).await;
        }
    };
    let mut user = SessionUser {
        role: identity.kind.role(),
        sub: identity.sub,
        name: identity.name.unwrap_or_else(|| layout::role_name(lang, identity.kind.role()).to_owned()),
        municipality: None,
        company_id: None,
        citizen_id: None,
        issuer: Some(identity.kind),
    };
    match member {
        Member::Citizen { citizen_id } => user.citizen_id = Some(citizen_id),
        Member::Company { company_id, name } => {
            user.company_id = Some(company_id);
            user.name = name;
        }
        Member::Coordinator { municipality } => user.municipality = Some(municipality.to_string()),
    }
    tracing::info!(sub = %user.sub, role = user.role.as_str(), "signed in");
    let location = start_of(&user);
    // A new session (and form token) at sign-in; the pending flow is gone with the old one,
    // so the same answer cannot be used twice from this browser.
    let session = Session::new(Some(user), now);
    let mut res = see_other(location);
    let _ = res.add_cookie(&pages.sealer.seal(&session));
    res
}
