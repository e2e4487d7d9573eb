//! The web pages over HTTP, as a browser without JavaScript uses them: the sign-in page, the
//! session cookie and its time-outs, the form token, the development sign-in and its refusals,
//! and each role's start page and forms, with the same tenancy as the API.

use awc::http::Method;
use serde_json::json;
use smaajob_api::auth::Role;
use smaajob_api::pages::session::{ABSOLUTE_TIMEOUT_SECONDS, IDLE_TIMEOUT_SECONDS, Sealer, Session, SessionUser};

use crate::both_backends;
use crate::fixtures::*;
use crate::support::*;

/// A page as read back.
struct Page {
    status: u16,
    location: Option<String>,
    set_cookie: Vec<String>,
    body: String,
}

impl Page {
    #[track_caller]
    fn expect(&self, status: u16) -> &Page {
        assert_eq!(self.status, status, "unexpected status; page: {}", self.body);
        self
    }

    #[track_caller]
    fn has(&self, text: &str) -> &Page {
        assert!(self.body.contains(text), "`{text}` missing from: {}", self.body);
        self
    }

    #[track_caller]
    fn lacks(&self, text: &str) -> &Page {
        assert!(!self.body.contains(text), "`{text}` should not be in: {}", self.body);
        self
    }

    /// The sign-in page, with this notice, and nothing of anyone's data.
    #[track_caller]
    fn is_sign_in(&self, status: u16, notice: &str) -> &Page {
        self.expect(status).has("<h1>Log ind</h1>").has(notice).lacks("Mit fribeløb").lacks("Log ud")
    }

    /// The form token on the page.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).map(|i| i + marker.len()).expect("a form token");
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

/// A browser: one cookie, sent back as it was set.
struct Browser {
    base: String,
    client: awc::Client,
    cookie: Option<String>,
    language: Option<String>,
}

/// The form token of forged sessions.
const CSRF: &str = "the-form-token-of-this-session";

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            client: awc::Client::builder().disable_redirects().finish(),
            cookie: None,
            language: None,
        }
    }

    /// A browser signed in as `user` (a session sealed as the server seals them), used `idle`
    /// seconds ago and begun `age` seconds ago.
    fn signed_in_aged(app: &TestApp, user: SessionUser, age: i64, idle: i64) -> Browser {
        let now = chrono::Utc::now().timestamp();
        let session =
            Session { user: Some(user), csrf: CSRF.into(), issued_at: now - age, seen_at: now - idle, pending: None };
        let sealed = Sealer::new(&app.data_key.session_key(), false).seal(&session);
        Browser { cookie: Some(sealed.value().to_owned()), ..Browser::new(app) }
    }

    fn signed_in(app: &TestApp, user: SessionUser) -> Browser {
        Browser::signed_in_aged(app, user, 0, 0)
    }

    async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(c) = &self.cookie {
            req = req.insert_header(("Cookie", format!("smaajob_session={c}")));
        }
        if let Some(l) = &self.language {
            req = req.insert_header(("Accept-Language", l.as_str()));
        }
        let mut res = match form {
            Some(fields) => req.send_form(&fields).await,
            None => req.send().await,
        }
        .expect("the server answers");
        let body = String::from_utf8(res.body().limit(1 << 20).await.expect("a body").to_vec()).expect("UTF-8");
        let set_cookie: Vec<String> =
            res.headers().get_all("set-cookie").filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        for c in &set_cookie {
            let value = c.split(';').next().unwrap().trim_start_matches("smaajob_session=").to_owned();
            self.cookie = if value.is_empty() || c.contains("Max-Age=0") { None } else { Some(value) };
        }
        let location = res.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Page { status: res.status().as_u16(), location, set_cookie, body }
    }

    async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Posts a form with the forged session's token.
    async fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut fields = vec![("csrf", CSRF)];
        fields.extend_from_slice(form);
        self.post(path, &fields).await
    }
}

fn citizen_user(id: &str) -> SessionUser {
    SessionUser {
        role: Role::Citizen,
        sub: format!("page-citizen-{id}"),
        name: "Borgeren".into(),
        municipality: None,
        company_id: None,
        citizen_id: Some(id.into()),
        issuer: None,
    }
}

fn coordinator_user(municipality: &str) -> SessionUser {
    SessionUser {
        role: Role::Coordinator,
        sub: format!("page-coordinator-{municipality}"),
        name: "Koordinatoren".into(),
        municipality: Some(municipality.into()),
        company_id: None,
        citizen_id: None,
        issuer: None,
    }
}

fn company_user(id: &str) -> SessionUser {
    SessionUser {
        role: Role::Company,
        sub: format!("page-company-{id}"),
        name: "Virksomheden".into(),
        municipality: None,
        company_id: Some(id.into()),
        citizen_id: None,
        issuer: None,
    }
}

/// The audit entries of `action` about `target`, as a coordinator of Randers reads them.
async fn audited(app: &TestApp, target: &str, action: &str) -> usize {
    audit_of(app, &app.coordinator(RANDERS), target).await.iter().filter(|e| e["action"] == action).count()
}

both_backends! {
    async fn the_front_page_is_the_sign_in_page_with_a_sealed_http_only_lax_cookie(app) {
        let mut b = Browser::new(&app);
        let page = b.get("/").await;
        page.expect(200).has("<html lang=\"da\">").has("<h1>Log ind</h1>").has("href=\"/static/app.css\"");
        let cookie = page.set_cookie.iter().find(|c| c.starts_with("smaajob_session=")).expect("a session cookie");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        assert!(!cookie.contains("Secure"), "a loopback server's cookie goes over plain HTTP: {cookie}");
        assert!(!cookie.contains("csrf"), "the session is sealed: {cookie}");
        // The development sign-in is there on SQLite and never on PostgreSQL.
        match app.backend {
            Backend::Sqlite => page.has("Udviklerlogin").has("action=\"/log-ind/udvikler\""),
            Backend::Postgres => page.lacks("action=\"/log-ind/udvikler\"").has("Der er ikke sat nogen login-udbyder op"),
        };
        let css = b.get("/static/app.css").await;
        css.expect(200).has(":focus-visible");
    }

    async fn english_is_served_when_the_browser_prefers_it_and_danish_otherwise(app) {
        let mut b = Browser::new(&app);
        b.language = Some("en-GB,en;q=0.9,da;q=0.5".into());
        b.get("/").await.expect(200).has("<html lang=\"en\">").has("<h1>Sign in</h1>");
        b.language = Some("da,en;q=0.8".into());
        b.get("/").await.expect(200).has("<html lang=\"da\">");
        b.language = Some("de-DE".into());
        b.get("/").await.expect(200).has("<html lang=\"da\">");
    }

    async fn a_citizen_reads_the_balance_in_danish_and_the_read_is_audited_like_the_api_read(app) {
        let p = placed(&app, RANDERS, 1, "140.00").await;
        // 3.5 hours at 140 kr plus 12.5 % holiday pay: 551.25 kr, tax-free.
        let report = reported(&app, &p.coordinator, &p.placement, -7, "3.5").await;
        confirm_and_pay(&app, &p.company, &p.coordinator, &report).await;
        let before = audited(&app, &p.citizen_id, "balance.read_self").await;
        let mut b = Browser::signed_in(&app, citizen_user(&p.citizen_id));
        let page = b.get("/borger").await;
        page.expect(200)
            .has("Mit fribeløb")
            .has("551,25 kr.")
            .has("Tilbage")
            .has("Skattepligtigt indtil nu")
            .has("Planlagt løn fra godkendte vagter")
            .has("<meter")
            .has("Hvad betyder det for mig?")
            .has("modregnet i dine ydelser")
            .has("Tallene bygger på den løn, Småjob kender")
            .has("Log ud");
        let api = app.get("/api/v1/me/balance", &p.citizen).await;
        api.expect(200);
        let remaining: i64 = ore(&api.body["remaining"]);
        assert!(page.body.contains(&format!("{},{:02} kr.", group(remaining / 100), remaining % 100)), "{}", page.body);
        assert_eq!(audited(&app, &p.citizen_id, "balance.read_self").await, before + 2, "the page and the API read");
    }

    async fn a_citizen_accepts_an_offer_on_the_page_and_never_sees_or_answers_another_citizens(app) {
        let w = hiring(&app).await;
        let mine = open_task(&app, &w.company, &with(shift(day(7), "08:00", "12:00", "4", "140.00"), json!({ "title": "Opvask" }))).await;
        let theirs = open_task(&app, &w.company, &with(shift(day(8), "08:00", "12:00", "4", "140.00"), json!({ "title": "Lager" }))).await;
        let me = holder(&app, &w.coord, 1).await;
        let other = holder(&app, &w.coord, 2).await;
        let my_offer = offer(&app, &w.coord, &mine, &me).await;
        let their_offer = offer(&app, &w.coord, &theirs, &other).await;
        let mut b = Browser::signed_in(&app, citizen_user(&me));
        b.get("/borger").await.expect(200).has("Opvask").has(&my_offer).lacks("Lager").lacks(&their_offer).lacks("Borger 2");
        b.submit(&format!("/borger/tilbud/{their_offer}/accepter"), &[]).await.expect(404).has("Ikke fundet");
        assert_eq!(placement(&app, &w.coord, &their_offer).await["state"], "offered");
        let done = b.submit(&format!("/borger/tilbud/{my_offer}/accepter"), &[]).await;
        done.expect(303);
        assert_eq!(done.location.as_deref(), Some("/borger?ok=ja"));
        assert_eq!(placement(&app, &w.coord, &my_offer).await["state"], "accepted");
        b.get("/borger?ok=ja").await.expect(200).has("Du har sagt ja").lacks(&my_offer);
        // Answering twice is a refusal in words, not an error.
        b.submit(&format!("/borger/tilbud/{my_offer}/afvis"), &[]).await.expect(409).has("Det kan ikke lade sig gøre");
        b.submit(&format!("/borger/tilbud/{my_offer}/ombestem"), &[]).await.expect(404);
        b.submit("/borger/tilbud/ikke-et-id/accepter", &[]).await.expect(404);
    }

    async fn a_coordinator_approves_from_the_queue_and_another_municipalitys_gets_nothing(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &with(shift(day(7), "08:00", "12:00", "4", "140.00"), json!({ "title": "Opvask" }))).await;
        let c = holder(&app, &w.coord, 1).await;
        let p = accepted(&app, &w.coord, &t, &c).await;
        let mut aarhus = Browser::signed_in(&app, coordinator_user(AARHUS));
        aarhus.get("/koordinator").await.expect(200).lacks(&p).lacks("Borger 1").has("Ingen placeringer venter");
        aarhus.submit(&format!("/koordinator/placeringer/{p}/godkend"), &[]).await.expect(404);
        aarhus.submit(&format!("/koordinator/placeringer/{p}/afvis"), &[(&format!("reason-{p}"), "nej")]).await.expect(404);
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
        let mut randers = Browser::signed_in(&app, coordinator_user(RANDERS));
        randers.get("/koordinator").await.expect(200).has("Venter på godkendelse (1)").has("Borger 1").has("Opvask").has(&p);
        let done = randers.submit(&format!("/koordinator/placeringer/{p}/godkend"), &[]).await;
        done.expect(303);
        assert_eq!(done.location.as_deref(), Some("/koordinator?ok=godkendt"));
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "approved");
        randers.get("/koordinator?ok=godkendt").await.expect(200).has("Placeringen er godkendt").lacks(&p);
        // Another role's page is not the coordinator's.
        Browser::signed_in(&app, citizen_user(&c)).get("/koordinator").await.expect(403).has("Ingen adgang").lacks(&p);
    }

    async fn an_approval_that_would_cross_the_cap_is_explained_and_can_be_approved_anyway(app) {
        let w = hiring(&app).await;
        // One 20-hour shift at 2,400 kr/h: 54,000 kr with holiday pay, above any cap so far.
        let t = open_task(&app, &w.company, &shift(day(7), "00:00", "20:00", "20", "2400.00")).await;
        let c = holder(&app, &w.coord, 1).await;
        let p = accepted(&app, &w.coord, &t, &c).await;
        let mut b = Browser::signed_in(&app, coordinator_user(RANDERS));
        let refused = b.submit(&format!("/koordinator/placeringer/{p}/godkend"), &[]).await;
        refused.expect(422).has(&format!("id=\"refusal-{p}\"")).has("bliver skattepligtigt").has("name=\"accept_taxable_excess\"");
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
        let done = b.submit(&format!("/koordinator/placeringer/{p}/godkend"), &[("accept_taxable_excess", "ja")]).await;
        done.expect(303);
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "approved");
    }

    async fn a_rejection_without_a_reason_comes_back_with_the_danish_error_next_to_the_field(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &shift(day(7), "08:00", "12:00", "4", "140.00")).await;
        let c = holder(&app, &w.coord, 1).await;
        let p = accepted(&app, &w.coord, &t, &c).await;
        let mut b = Browser::signed_in(&app, coordinator_user(RANDERS));
        let field = format!("reason-{p}");
        let again = b.submit(&format!("/koordinator/placeringer/{p}/afvis"), &[(&field, "   ")]).await;
        again.expect(422).has("Skal udfyldes.").has(&format!("id=\"f-{field}-error\"")).has("aria-invalid=\"true\"");
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "accepted");
        let done = b.submit(&format!("/koordinator/placeringer/{p}/afvis"), &[(&field, "Borgeren er syg")]).await;
        done.expect(303);
        let v = placement(&app, &w.coord, &p).await;
        assert_eq!((&v["state"], &v["reason"]), (&json!("rejected"), &json!("Borgeren er syg")));
    }

    async fn a_company_posts_a_task_and_bad_input_comes_back_in_danish_with_what_was_typed(app) {
        let w = hiring(&app).await;
        let mut b = Browser::signed_in(&app, company_user(&w.company_id));
        b.get("/virksomhed/opgaver/ny").await.expect(200).has("for=\"f-title\"").has("name=\"csrf\"");
        let date = date(7);
        let bad = [
            ("title", ""), ("description", "Opvask efter frokost"), ("date", date.as_str()), ("start", "10:00"),
            ("end", "14:00"), ("hours", "abc"), ("wage", "50,00"), ("positions", "to"), ("contact_name", "Karen Bager"),
        ];
        let again = b.submit("/virksomhed/opgaver", &bad).await;
        again
            .expect(422)
            .has("Ret de markerede felter")
            .has("id=\"f-title-error\"")
            .has("Skal udfyldes.")
            .has("id=\"f-wage-error\"")
            .has("id=\"f-hours-error\"")
            .has("id=\"f-positions-error\"")
            .has("Skriv et helt tal.")
            .has("value=\"50,00\"")
            .has("Opvask efter frokost")
            .has("value=\"Karen Bager\"");
        assert_eq!(app.get("/api/v1/tasks", &w.company).await.body["total"], 0);
        let good = [
            ("title", "Opvask"), ("description", "Opvask efter frokost"), ("date", date.as_str()), ("start", "10:00"),
            ("end", "14:00"), ("hours", "3,5"), ("wage", "145,50"), ("positions", "1"), ("contact_name", "Karen Bager"),
        ];
        let done = b.submit("/virksomhed/opgaver", &good).await;
        done.expect(303);
        assert_eq!(done.location.as_deref(), Some("/virksomhed?ok=gemt"));
        let tasks = app.get("/api/v1/tasks", &w.company).await;
        let task = &tasks.body["items"][0];
        assert_eq!((&task["title"], &task["hourly_wage"], &task["status"]), (&json!("Opvask"), &json!("145.50"), &json!("draft")));
        let start = b.get("/virksomhed?ok=gemt").await;
        start.expect(200).has("Opgaven er gemt").has("Opvask").has("145,50 kr. i timen").has("kladde");
        b.submit(&format!("/virksomhed/opgaver/{}/slaa-op", id(task)), &[]).await.expect(303);
        assert_eq!(app.get(&format!("/api/v1/tasks/{}", id(task)), &w.company).await.body["status"], "open");
    }

    async fn a_company_confirms_hours_and_never_sees_another_companys_placements(app) {
        let mine = placed(&app, RANDERS, 1, "140.00").await;
        let theirs = placed(&app, RANDERS, 2, "150.00").await;
        let my_report = reported(&app, &mine.coordinator, &mine.placement, -7, "3.5").await;
        let their_report = reported(&app, &theirs.coordinator, &theirs.placement, -7, "3.5").await;
        let mut b = Browser::signed_in(&app, company_user(&mine.company_id));
        b.get("/virksomhed").await.expect(200).has("Borger 1").has(&my_report).lacks("Borger 2").lacks(&their_report);
        b.submit(&format!("/virksomhed/timer/{their_report}/bekraeft"), &[]).await.expect(404);
        assert_eq!(hours_of(&app, &theirs.company, &theirs.placement).await[0]["status"], "reported");
        let done = b.submit(&format!("/virksomhed/timer/{my_report}/bekraeft"), &[]).await;
        done.expect(303);
        assert_eq!(hours_of(&app, &mine.company, &mine.placement).await[0]["status"], "confirmed");
        b.get("/virksomhed?ok=bekraeftet").await.expect(200).has("Timerne er bekræftet").lacks(&my_report);
    }

    async fn a_tampered_or_expired_session_or_a_missing_form_token_gets_the_sign_in_page_and_nothing_else(app) {
        let w = hiring(&app).await;
        let t = open_task(&app, &w.company, &shift(day(7), "08:00", "12:00", "4", "140.00")).await;
        let c = holder(&app, &w.coord, 1).await;
        let p = offer(&app, &w.coord, &t, &c).await;
        let offers = format!("/borger/tilbud/{p}/accepter");
        // No cookie at all.
        Browser::new(&app).get("/borger").await.is_sign_in(401, "Du skal logge ind");
        // A cookie changed by one character.
        let mut tampered = Browser::signed_in(&app, citizen_user(&c));
        let mut value = tampered.cookie.clone().unwrap().into_bytes();
        value[10] = if value[10] == b'A' { b'B' } else { b'A' };
        tampered.cookie = Some(String::from_utf8(value).unwrap());
        let page = tampered.get("/borger").await;
        page.is_sign_in(401, "Din session kunne ikke læses").lacks(&p);
        assert!(page.set_cookie.iter().any(|c| c.starts_with("smaajob_session=")), "the bad cookie is replaced");
        // A session sealed with another key.
        let mut foreign = Browser::new(&app);
        let other = Sealer::new(&[9; 64], false).seal(&Session::new(Some(citizen_user(&c)), chrono::Utc::now().timestamp()));
        foreign.cookie = Some(other.value().to_owned());
        foreign.get("/borger").await.is_sign_in(401, "Din session kunne ikke læses");
        // Idle for longer than the idle time-out, and older than the absolute one.
        let mut idle = Browser::signed_in_aged(&app, citizen_user(&c), IDLE_TIMEOUT_SECONDS + 5, IDLE_TIMEOUT_SECONDS + 5);
        idle.get("/borger").await.is_sign_in(401, "Du er blevet logget ud");
        let mut old = Browser::signed_in_aged(&app, citizen_user(&c), ABSOLUTE_TIMEOUT_SECONDS + 5, 0);
        old.get("/borger").await.is_sign_in(401, "Du er blevet logget ud");
        let mut idle = Browser::signed_in_aged(&app, citizen_user(&c), IDLE_TIMEOUT_SECONDS + 5, IDLE_TIMEOUT_SECONDS + 5);
        idle.post(&offers, &[("csrf", CSRF)]).await.is_sign_in(401, "Du er blevet logget ud");
        // A live session without the form's token, or with another.
        let mut live = Browser::signed_in(&app, citizen_user(&c));
        live.post(&offers, &[]).await.is_sign_in(403, "Formularen kunne ikke godkendes");
        let mut live = Browser::signed_in(&app, citizen_user(&c));
        live.post(&offers, &[("csrf", "guessed")]).await.is_sign_in(403, "Formularen kunne ikke godkendes");
        assert_eq!(placement(&app, &w.coord, &p).await["state"], "offered", "nothing was done");
        // A body that is not a form at all gets a page too, never a problem document.
        let mut live = Browser::signed_in(&app, citizen_user(&c));
        let r = app.send(Method::POST, &offers, None, Some("application/json"), b"{}".to_vec()).await;
        assert_eq!(r.status, 400);
        assert!(r.content_type().starts_with("text/html"), "{}", r.content_type());
        live.get("/borger").await.expect(200).has(&p);
    }

    async fn signing_out_ends_the_session_in_this_browser(app) {
        let c = holder(&app, &app.coordinator(RANDERS), 1).await;
        let mut b = Browser::signed_in(&app, citizen_user(&c));
        b.get("/borger").await.expect(200);
        b.post("/log-ud", &[]).await.is_sign_in(403, "Formularen kunne ikke godkendes");
        let mut b = Browser::signed_in(&app, citizen_user(&c));
        let out = b.submit("/log-ud", &[]).await;
        out.expect(303);
        assert_eq!(out.location.as_deref(), Some("/log-ind?ok=ud"));
        assert!(out.set_cookie.iter().any(|c| c.contains("Max-Age=0")), "{:?}", out.set_cookie);
        assert!(b.cookie.is_none());
        b.get("/log-ind?ok=ud").await.expect(200).has("Du er logget ud.");
        b.get("/borger").await.is_sign_in(401, "Du skal logge ind");
    }

    async fn a_signed_in_person_is_sent_from_the_front_page_to_their_start_page(app) {
        let c = holder(&app, &app.coordinator(RANDERS), 1).await;
        let home = Browser::signed_in(&app, citizen_user(&c)).get("/").await;
        assert_eq!((home.status, home.location.as_deref()), (303, Some("/borger")));
        let home = Browser::signed_in(&app, coordinator_user(RANDERS)).get("/").await;
        assert_eq!((home.status, home.location.as_deref()), (303, Some("/koordinator")));
    }
}

/// Kroner grouped the Danish way (`42.766`).
fn group(kroner: i64) -> String {
    let digits = kroner.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

/// The development sign-in on SQLite and loopback: a person picks a demo user.
#[actix_web::test]
async fn the_development_sign_in_lets_a_person_pick_a_demo_user_on_a_loopback_sqlite_server() {
    let app = spawn(Backend::Sqlite, "dev_sign_in").await.expect("SQLite always runs");
    let mut b = Browser::new(&app);
    b.get("/log-ind").await.expect(200).has("Demodata er ikke indlæst");
    {
        let mut conn = app.pool.get().unwrap();
        smaajob_api::demo::load(&mut conn, &app.data_key).unwrap();
    }
    let page = b.get("/log-ind").await;
    page.expect(200).has("Mads Kristensen").has("Randers Kommune (730)").has("Bageriet på Torvet ApS");
    let marker = "value=\"citizen:";
    let at = page.body.find(marker).unwrap() + "value=\"".len();
    let mads = page.body[at..].split('"').next().unwrap().to_owned();
    let csrf = page.csrf();
    // A user not offered, and a missing token, sign nobody in.
    b.post("/log-ind/udvikler", &[("csrf", &csrf), ("user", &format!("citizen:{}", unknown_id()))]).await.expect(422);
    let csrf = b.get("/log-ind").await.csrf();
    b.post("/log-ind/udvikler", &[("user", &mads)]).await.is_sign_in(403, "Formularen kunne ikke godkendes");
    let csrf_after_refusal = b.get("/log-ind").await.csrf();
    assert_ne!(csrf, csrf_after_refusal, "every sign-in page starts a new anonymous session");
    let done = b.post("/log-ind/udvikler", &[("csrf", &csrf_after_refusal), ("user", &mads)]).await;
    done.expect(303);
    assert_eq!(done.location.as_deref(), Some("/borger"));
    let mine = b.get("/borger").await;
    mine.expect(200).has("Logget ind som Mads Kristensen").has("Mit fribeløb");
    assert_ne!(mine.csrf(), csrf_after_refusal, "signing in draws a new form token");
}

/// Never on PostgreSQL, even on loopback.
#[actix_web::test]
async fn the_development_sign_in_is_refused_on_postgresql() {
    let Some(app) = spawn(Backend::Postgres, "dev_sign_in_postgres").await else { return };
    let mut b = Browser::new(&app);
    let page = b.get("/log-ind").await;
    page.expect(200).lacks("/log-ind/udvikler");
    let csrf = page.csrf_or_none();
    let refused = b.post("/log-ind/udvikler", &[("csrf", csrf.as_str()), ("user", "coordinator:730")]).await;
    refused.is_sign_in(403, "Udviklerlogin er ikke tilladt på denne server");
    b.get("/koordinator").await.is_sign_in(401, "Du skal logge ind");
}

/// Never on an address other machines reach, and there the cookie is Secure.
#[actix_web::test]
async fn the_development_sign_in_is_refused_on_a_non_loopback_bind_and_the_cookie_is_secure() {
    let app = spawn_with(Backend::Sqlite, "dev_sign_in_any", |s| s.bind = "0.0.0.0:0".into())
        .await
        .expect("SQLite always runs");
    let mut b = Browser::new(&app);
    let page = b.get("/log-ind").await;
    page.expect(200).lacks("/log-ind/udvikler");
    let cookie = page.set_cookie.iter().find(|c| c.starts_with("smaajob_session=")).expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    let csrf = page.csrf_or_none();
    let refused = b.post("/log-ind/udvikler", &[("csrf", csrf.as_str()), ("user", "coordinator:730")]).await;
    refused.is_sign_in(403, "Udviklerlogin er ikke tilladt på denne server");
}

impl Page {
    /// The form token if the page has a form (the sign-in page without the development
    /// sign-in has none; the refusal is then tested with a made-up one).
    fn csrf_or_none(&self) -> String {
        if self.body.contains("name=\"csrf\"") { self.csrf() } else { "none".into() }
    }
}
