//! Signing in and out. Until an identity provider is configured, the only way in is the
//! development sign-in: offered only on a loopback address with SQLite (see [`DevSignIn`]),
//! where a person picks one of the demo data set's users.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use crate::demo;
use crate::pages::layout::{self, csrf_field};
use crate::pages::session::{self, Found, Session, SessionUser};
use crate::pages::text::Lang;
use crate::pages::{DevSignIn, NoticeQuery, Pages, html as html_response, see_other, start_of};
use crate::services::principal::Role;
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
    notice: Option<&str>,
    problem: Option<&str>,
) -> Markup {
    let t = lang.t();
    let has_demo = choices.iter().any(|c| c.user.role != Role::Coordinator);
    html! {
        (layout::notice(notice))
        @if let Some(p) = problem { p.problem role="alert" { (p) } }
        p { (t.sign_in_intro) }
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
            _ => { p { (t.no_sign_in_configured) } }
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
        body(lang, pages.dev_sign_in, &session.csrf, &choices, notice, problem),
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

/// `POST /log-ud`: ends the session in this browser.
pub async fn sign_out(req: HttpRequest, form: web::Form<super::CsrfOnly>) -> HttpResponse {
    let signed_in = match super::signed_in_form(&req, &form.csrf).await {
        Ok(s) => s,
        Err(res) => return res,
    };
    let Ok(pages) = super::pages(&req) else { return see_other("/log-ind") };
    tracing::info!(sub = %signed_in.user.sub, "signed out");
    let mut res = see_other("/log-ind?ok=ud");
    let _ = res.add_cookie(&pages.sealer.removal());
    res
}
