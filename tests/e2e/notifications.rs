//! Notifications over HTTP: the change and its outbox messages commit together; the dispatcher
//! delivers signed webhooks to a local receiver and e-mail to a local SMTP server (both run
//! here), retries a failing or slow receiver with backoff, and makes the message a dead letter a
//! coordinator can send again. Webhook subscriptions: a company keeps only its own, URLs must be
//! https and public unless the operator allows loopback or private networks.

use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use awc::http::Method;
use serde_json::{Value, json};
use smaajob_api::Settings;
use smaajob_api::dispatch::{MESSAGE_ID_HEADER, SIGNATURE_HEADER, verify_signature};
use smaajob_domain::notification::{EventType, MessageId, MessageState, RecipientKind};
use smaajob_persistence::repo::outbox::{self, OutboxRow};

use crate::fixtures::*;
#[allow(unused_imports)]
use crate::on_both_backends;
#[allow(unused_imports)]
use crate::support::*;

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Delivery {
    message_id: String,
    signature: String,
    body: Vec<u8>,
}

const OK: u8 = 0;
const FAIL: u8 = 1;
const SLOW: u8 = 2;

/// A webhook receiver on a free loopback port: answers 204, 500 or (slow) after 3 s, as `mode` says.
struct Receiver {
    url: String,
    mode: Arc<AtomicU8>,
    seen: Arc<Mutex<Vec<Delivery>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let mode = Arc::new(AtomicU8::new(OK));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (m, s) = (mode.clone(), seen.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (m, s) = (m.clone(), s.clone());
            App::new().route(
                "/hook",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let (m, s) = (m.clone(), s.clone());
                    async move {
                        let header =
                            |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                        match m.load(Ordering::SeqCst) {
                            FAIL => return HttpResponse::InternalServerError().finish(),
                            SLOW => {
                                actix_web::rt::time::sleep(Duration::from_secs(3)).await;
                                return HttpResponse::NoContent().finish();
                            }
                            _ => {}
                        }
                        s.lock().unwrap().push(Delivery {
                            message_id: header(MESSAGE_ID_HEADER),
                            signature: header(SIGNATURE_HEADER),
                            body: body.to_vec(),
                        });
                        HttpResponse::NoContent().finish()
                    }
                }),
            )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Receiver { url: format!("http://127.0.0.1:{port}/hook"), mode, seen }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.seen.lock().unwrap().clone()
    }
}

/// A minimal SMTP server on a free loopback port that keeps every message's DATA.
struct SmtpServer {
    port: u16,
    mails: Arc<Mutex<Vec<String>>>,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let kept = mails.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut out) = stream else { return };
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let mut lines = BufReader::new(out.try_clone().unwrap());
                    let _ = out.write_all(b"220 localhost ESMTP\r\n");
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if lines.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "DATA" => {
                                let _ = out.write_all(b"354 end with .\r\n");
                                let mut data = String::new();
                                loop {
                                    line.clear();
                                    if lines.read_line(&mut line).unwrap_or(0) == 0 || line == ".\r\n" {
                                        break;
                                    }
                                    data.push_str(&line);
                                }
                                kept.lock().unwrap().push(data);
                                b"250 queued\r\n"
                            }
                            "QUIT" => {
                                let _ = out.write_all(b"221 bye\r\n");
                                return;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = out.write_all(answer);
                    }
                });
            }
        });
        SmtpServer { port, mails }
    }

    fn mails(&self) -> Vec<String> {
        self.mails.lock().unwrap().clone()
    }
}

/// A test server whose dispatcher runs fast: polls every 20 ms, 3 attempts 100 ms then 200 ms
/// apart, a 1 s time-out; webhooks to the loopback address allowed; `tweak` changes more.
async fn notifying(backend: Backend, test: &str, tweak: impl FnOnce(&mut Settings)) -> Option<TestApp> {
    spawn_with(backend, test, |s| {
        let d = &mut s.notify.dispatch;
        d.in_process = true;
        d.poll_interval = Duration::from_millis(20);
        d.retry.max_attempts = 3;
        d.retry.base_delay = Duration::from_millis(100);
        d.retry.max_delay = Duration::from_secs(1);
        d.send_timeout = Duration::from_secs(1);
        s.notify.webhook_urls.allow_loopback = true;
        tweak(s);
    })
    .await
}

/// Waits up to 15 s for `done`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(15), "timed out waiting for {what}");
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
}

fn messages(app: &TestApp, kind: RecipientKind, recipient: &str) -> Vec<OutboxRow> {
    outbox::of_recipient(&mut app.pool.get().unwrap(), kind, recipient).unwrap()
}

fn message(app: &TestApp, id: &MessageId) -> OutboxRow {
    outbox::find(&mut app.pool.get().unwrap(), id).unwrap()
}

fn of_type(rows: &[OutboxRow], t: EventType) -> Vec<OutboxRow> {
    rows.iter().filter(|m| m.event_type == t).cloned().collect()
}

async fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> Resp {
    app.post("/api/v1/webhook-subscriptions", token, &json!({ "url": url, "event_types": types })).await
}

/// A task of the hiring company offered to a card holder and accepted: (hiring, citizen, placement).
async fn accepted_offer(app: &TestApp) -> (Hiring, String, String) {
    let w = hiring(app).await;
    let t = open_task(app, &w.company, &shift(day(10), "08:00", "12:00", "4", "140.00")).await;
    let citizen = holder(app, &w.coord, 1).await;
    let p = accepted(app, &w.coord, &t, &citizen).await;
    (w, citizen, p)
}

on_both_backends!(
    an_approval_is_delivered_to_the_companys_webhook_signed_and_named_by_its_message_id,
    the_messages_of_a_change_commit_with_it_and_a_refused_change_writes_none,
    a_receiver_answering_500_is_retried_with_backoff_then_a_coordinator_sends_the_dead_letter_again,
    a_slow_receiver_times_out_into_dead_letters_without_slowing_the_api,
    a_company_with_a_contact_address_gets_its_notice_by_e_mail_through_the_relay,
    subscription_urls_must_be_https_and_public_and_name_known_event_types,
    a_company_keeps_only_its_own_subscriptions_and_can_replace_a_secret,
    each_share_of_the_cap_is_told_once_a_year_to_the_citizen_and_the_coordinator,
);

async fn an_approval_is_delivered_to_the_companys_webhook_signed_and_named_by_its_message_id(backend: Backend) {
    let Some(app) = notifying(backend, "webhook_delivery", |_| {}).await else { return };
    let receiver = Receiver::start();
    let w = hiring(&app).await;
    let r = subscribe(&app, &w.company, &receiver.url, &["placement.approved"]).await;
    r.expect(201);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let t = open_task(&app, &w.company, &shift(day(10), "08:00", "12:00", "4", "140.00")).await;
    let citizen = holder(&app, &w.coord, 1).await;
    let p = accepted(&app, &w.coord, &t, &citizen).await;
    approval(&app, &w.coord, &p).await;
    until("the delivery", || !receiver.deliveries().is_empty()).await;
    let d = receiver.deliveries()[0].clone();
    let now = chrono::Utc::now().timestamp();
    verify_signature(&secret, &d.signature, &d.body, now, Duration::from_secs(300)).expect("the signature verifies");
    let body: Value = serde_json::from_slice(&d.body).unwrap();
    assert_eq!(body["id"], d.message_id.as_str(), "the body names the message id of the header");
    assert_eq!(body["type"], "placement.approved");
    assert_eq!(body["data"]["placement_id"], p.as_str());
    assert_eq!(body["data"]["citizen_id"], citizen.as_str());
    assert!(!d.body.windows(6).any(|w| w == b"010190"), "no CPR in the body");
    let id = MessageId::parse(&d.message_id).unwrap();
    until("the delivery to be recorded", || message(&app, &id).state == MessageState::Delivered).await;
    let m = message(&app, &id);
    assert_eq!((m.attempts, m.failures), (1, 0));
    let attempts = outbox::attempts_of(&mut app.pool.get().unwrap(), &id).unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].succeeded);
    // Only the event type subscribed to is posted.
    assert_eq!(receiver.deliveries().len(), 1);
}

async fn the_messages_of_a_change_commit_with_it_and_a_refused_change_writes_none(backend: Backend) {
    let Some(app) = notifying(backend, "outbox_in_transaction", |s| s.notify.dispatch.in_process = false).await else {
        return;
    };
    let (w, citizen, p) = accepted_offer(&app).await;
    let to_citizen = messages(&app, RecipientKind::Citizen, &citizen);
    let offers = of_type(&to_citizen, EventType::OfferMade);
    assert_eq!(offers.len(), 1, "the offer is told to the citizen");
    assert!(offers[0].text.contains("Du har fået tilbudt jobbet"), "{}", offers[0].text);
    assert!(offers[0].text.chars().count() <= 160);
    let to_coordinators = messages(&app, RecipientKind::Coordinator, "730");
    assert_eq!(of_type(&to_coordinators, EventType::OfferAccepted).len(), 1, "the answer is told to the coordinator");
    // A refused change (approving twice) writes no message.
    approval(&app, &w.coord, &p).await;
    approve(&app, &w.coord, &p).await.expect_problem(409, "illegal_transition");
    let to_company = messages(&app, RecipientKind::Company, &w.company_id);
    let approved = of_type(&to_company, EventType::PlacementApproved);
    assert_eq!(approved.len(), 1, "one approval, one message to the company's contact: {approved:?}");
    assert_eq!(approved[0].channel.as_str(), "email");
    assert_eq!(of_type(&messages(&app, RecipientKind::Citizen, &citizen), EventType::PlacementApproved).len(), 1);
    // Without a dispatcher nothing is sent: the e-mail waits.
    assert_eq!(message(&app, &approved[0].id).state, MessageState::Pending);
}

async fn a_receiver_answering_500_is_retried_with_backoff_then_a_coordinator_sends_the_dead_letter_again(
    backend: Backend,
) {
    let Some(app) = notifying(backend, "dead_letters", |_| {}).await else { return };
    let receiver = Receiver::start();
    receiver.mode.store(FAIL, Ordering::SeqCst);
    let w = hiring(&app).await;
    subscribe(&app, &w.coord, &receiver.url, &["offer.accepted"]).await.expect(201);
    accepted_offer_of(&app, &w).await;
    let hook = |app: &TestApp| {
        messages(app, RecipientKind::Coordinator, "730").into_iter().find(|m| m.channel.as_str() == "webhook").unwrap()
    };
    let id = hook(&app).id;
    until("the dead letter", || message(&app, &id).state == MessageState::Dead).await;
    let attempts = outbox::attempts_of(&mut app.pool.get().unwrap(), &id).unwrap();
    assert_eq!(attempts.len(), 3, "three attempts, then dead");
    assert!(attempts.iter().all(|a| !a.succeeded && a.error.as_deref() == Some("the receiver answered 500")));
    let gap = |i: usize| (attempts[i + 1].at - attempts[i].at).num_milliseconds();
    assert!(gap(0) >= 100 && gap(1) >= 200, "backoff doubles: {} ms, then {} ms", gap(0), gap(1));
    // The coordinator sees it; another municipality's does not, and cannot send it.
    let dead = app.get("/api/v1/dead-letters", &w.coord).await;
    dead.expect(200);
    assert_eq!(page_ids(&dead.body), vec![id.to_string()]);
    assert_eq!(dead.body["items"][0]["failures"], 3);
    let aarhus = app.coordinator("751");
    assert_eq!(app.get("/api/v1/dead-letters", &aarhus).await.body["total"], 0);
    app.post(&format!("/api/v1/dead-letters/{id}/resend"), &aarhus, &json!({})).await.expect_problem(404, "not_found");
    app.get("/api/v1/dead-letters", &app.company(&w.company_id)).await.expect_problem(403, "forbidden");
    // Sent again once the receiver is back: the same message id, delivered once.
    receiver.mode.store(OK, Ordering::SeqCst);
    let r = app.post(&format!("/api/v1/dead-letters/{id}/resend"), &w.coord, &json!({})).await;
    r.expect(200);
    until("the delivery", || message(&app, &id).state == MessageState::Delivered).await;
    let seen: Vec<String> = receiver.deliveries().into_iter().map(|d| d.message_id).collect();
    assert_eq!(seen, vec![id.to_string()]);
    assert_eq!(message(&app, &id).attempts, 4);
    app.post(&format!("/api/v1/dead-letters/{id}/resend"), &w.coord, &json!({}))
        .await
        .expect_problem(409, "not_a_dead_letter");
}

/// The hiring company's task offered to a new card holder and accepted.
async fn accepted_offer_of(app: &TestApp, w: &Hiring) -> String {
    let t = open_task(app, &w.company, &shift(day(10), "08:00", "12:00", "4", "140.00")).await;
    let citizen = holder(app, &w.coord, 1).await;
    accepted(app, &w.coord, &t, &citizen).await
}

async fn a_slow_receiver_times_out_into_dead_letters_without_slowing_the_api(backend: Backend) {
    let Some(app) = notifying(backend, "slow_receiver", |_| {}).await else { return };
    let receiver = Receiver::start();
    receiver.mode.store(SLOW, Ordering::SeqCst);
    let w = hiring(&app).await;
    subscribe(&app, &w.coord, &receiver.url, &["offer.accepted", "offer.made"]).await.expect(201);
    accepted_offer_of(&app, &w).await;
    // While the dispatcher waits on the receiver, requests that cause more messages answer at once.
    let t = open_task(&app, &w.company, &shift(day(12), "08:00", "12:00", "4", "140.00")).await;
    let other = holder(&app, &w.coord, 2).await;
    let started = Instant::now();
    offer(&app, &w.coord, &t, &other).await;
    assert!(started.elapsed() < Duration::from_millis(900), "an offer took {:?}", started.elapsed());
    let id = messages(&app, RecipientKind::Coordinator, "730")
        .into_iter()
        .find(|m| m.channel.as_str() == "webhook" && m.event_type == EventType::OfferAccepted)
        .unwrap()
        .id;
    until("the dead letter", || message(&app, &id).state == MessageState::Dead).await;
    let attempts = outbox::attempts_of(&mut app.pool.get().unwrap(), &id).unwrap();
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts.iter().all(|a| a.duration_ms >= 900 && a.error.as_deref().is_some_and(|e| e.contains("POST failed")))
    );
    assert!(receiver.deliveries().is_empty());
}

async fn a_company_with_a_contact_address_gets_its_notice_by_e_mail_through_the_relay(backend: Backend) {
    let smtp = SmtpServer::start();
    let port = smtp.port;
    let Some(app) = notifying(backend, "email", |s| {
        s.notify.dispatch.smtp = Some(smaajob_api::mail::SmtpRelay {
            host: "127.0.0.1".into(),
            port,
            from: "Småjob <noreply@smaajob.invalid>".into(),
        });
    })
    .await
    else {
        return;
    };
    let (w, _, p) = accepted_offer(&app).await;
    approval(&app, &w.coord, &p).await;
    let id =
        of_type(&messages(&app, RecipientKind::Company, &w.company_id), EventType::PlacementApproved)[0].id.clone();
    until("the e-mail", || message(&app, &id).state == MessageState::Delivered).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("karen@bager.dk"), "{}", mails[0]);
    assert!(mails[0].contains(&format!("<{id}@smaajob>")), "the message id is the Message-ID: {}", mails[0]);
    assert!(mails[0].contains("Ansættelse godkendt") || mails[0].contains("=?utf-8?"), "{}", mails[0]);
}

async fn subscription_urls_must_be_https_and_public_and_name_known_event_types(backend: Backend) {
    let Some(app) = spawn(backend, "subscription_urls").await else { return };
    let w = hiring(&app).await;
    let refused = [
        ("http://127.0.0.1:9/hook", "not_https"),
        ("http://93.184.216.34/hook", "not_https"),
        ("ftp://93.184.216.34/hook", "not_https"),
        ("https://127.0.0.1/hook", "private_address"),
        ("https://10.0.0.1/hook", "private_address"),
        ("https://192.168.1.20/hook", "private_address"),
        ("https://169.254.169.254/latest", "private_address"),
        ("https://[fd00::1]/hook", "private_address"),
        ("https://user:pw@93.184.216.34/hook", "credentials_in_url"),
        ("not a url", "invalid_url"),
    ];
    for (url, code) in refused {
        let r = subscribe(&app, &w.company, url, &["payout.registered"]).await;
        r.expect_problem(422, "validation");
        expect_field_error(&r, "url", code);
    }
    let r = subscribe(&app, &w.company, "https://93.184.216.34/hook", &["payout.registered", "payout.made"]).await;
    r.expect_problem(422, "validation");
    expect_field_error(&r, "event_types[1]", "unknown_event_type");
    let r = subscribe(&app, &w.company, "https://93.184.216.34/hook", &[]).await;
    expect_field_error(&r, "event_types", "required");
    subscribe(&app, &w.company, "https://93.184.216.34/hook", &["payout.registered"]).await.expect(201);
    // Where the operator allows it: loopback over http (development) and private networks.
    let dev = app
        .another_instance(|s| {
            s.notify.webhook_urls.allow_loopback = true;
            s.notify.webhook_urls.allow_private = true;
        })
        .await;
    subscribe(&dev, &w.company, "http://127.0.0.1:9/hook", &["payout.registered"]).await.expect(201);
    subscribe(&dev, &w.company, "https://10.0.0.1/hook", &["payout.registered"]).await.expect(201);
    let r = subscribe(&dev, &w.company, "http://10.0.0.1/hook", &["payout.registered"]).await;
    expect_field_error(&r, "url", "not_https");
}

async fn a_company_keeps_only_its_own_subscriptions_and_can_replace_a_secret(backend: Backend) {
    let Some(app) = spawn(backend, "own_subscriptions").await else { return };
    let w = hiring(&app).await;
    let (other_id, other) = self_registered_company(&app, &w.coord, 2, "Tømrer Olsen").await;
    let r = subscribe(&app, &w.company, "https://93.184.216.34/hook", &["payout.registered"]).await;
    r.expect(201);
    let (id, secret) = (id(&r.body), r.body["secret"].as_str().unwrap().to_owned());
    assert_eq!(r.body["event_types"], json!(["payout.registered"]));
    let mine = app.get("/api/v1/webhook-subscriptions", &w.company).await;
    assert_eq!(page_ids(&mine.body), vec![id.clone()]);
    assert!(mine.body["items"][0].get("secret").is_none(), "a listing never shows the secret");
    assert_eq!(app.get("/api/v1/webhook-subscriptions", &other).await.body["total"], 0);
    assert_eq!(app.get("/api/v1/webhook-subscriptions", &w.coord).await.body["total"], 0);
    // Another company's (and the coordinator's) view of it: not found.
    for token in [&other, &w.coord] {
        app.post(&format!("/api/v1/webhook-subscriptions/{id}/secret"), token, &json!({}))
            .await
            .expect_problem(404, "not_found");
        app.request(&Method::DELETE, &format!("/api/v1/webhook-subscriptions/{id}"), Some(token), None)
            .await
            .expect_problem(404, "not_found");
    }
    let _ = other_id;
    let citizen = holder(&app, &w.coord, 1).await;
    subscribe(&app, &app.citizen(&citizen), "https://93.184.216.34/hook", &["payout.registered"])
        .await
        .expect_problem(403, "forbidden");
    app.get("/api/v1/webhook-subscriptions", &app.operator()).await.expect_problem(403, "forbidden");
    // Its owner replaces the secret: a new one, shown once.
    let r = app.post(&format!("/api/v1/webhook-subscriptions/{id}/secret"), &w.company, &json!({})).await;
    r.expect(200);
    let new = r.body["secret"].as_str().unwrap();
    assert!(new.starts_with("whsec_") && new != secret);
    assert!(r.body["secret_rotated_at"].is_string());
    app.request(&Method::DELETE, &format!("/api/v1/webhook-subscriptions/{id}"), Some(&w.company), None)
        .await
        .expect(204);
    assert_eq!(app.get("/api/v1/webhook-subscriptions", &w.company).await.body["total"], 0);
}

async fn each_share_of_the_cap_is_told_once_a_year_to_the_citizen_and_the_coordinator(backend: Backend) {
    let Some(app) = spawn(backend, "cap_thresholds").await else { return };
    let e = employee(&app, "2024-01-01").await;
    // 2024's cap is 41,280 kr: 75 % is 30,960 kr, 90 % 37,152 kr.
    e.pay(&app, "2024-02-01", "2024-01-01", "2024-01-31", "31000.00").await;
    e.pay(&app, "2024-03-01", "2024-02-01", "2024-02-28", "100.00").await;
    let told = |app: &TestApp| -> Vec<i64> {
        of_type(&messages(app, RecipientKind::Citizen, &e.citizen), EventType::CapThresholdReached)
            .iter()
            .map(|m| serde_json::from_str::<Value>(&m.payload).unwrap()["data"]["percent"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(told(&app), vec![75], "75 % is told once, not again with the next payout");
    e.pay(&app, "2024-04-01", "2024-03-01", "2024-03-31", "20000.00").await;
    assert_eq!(told(&app), vec![75, 90, 100]);
    let coordinators = of_type(&messages(&app, RecipientKind::Coordinator, "730"), EventType::CapThresholdReached);
    assert_eq!(coordinators.len(), 3);
    assert!(coordinators.iter().all(|m| !m.text.contains(e.cpr) && !m.payload.contains(&e.cpr.replace('-', ""))));
    let payouts = of_type(&messages(&app, RecipientKind::Citizen, &e.citizen), EventType::PayoutRegistered);
    assert_eq!(payouts.len(), 3, "each payout is told to the citizen");
    assert!(payouts[0].text.starts_with("Der er registreret en udbetaling på "), "{}", payouts[0].text);
}
