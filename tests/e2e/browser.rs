//! The pages in a real browser: Debian's chromium, driven through chromedriver (WebDriver) at a
//! phone's window (360×800), against a server with the demo data and the development sign-in.
//! Screenshots of each page at 360×800 and 1280×800 go to `target/screenshots/`.
//!
//! Without chromium and chromedriver the tests say they are skipped, unless `CI` is set: then
//! they fail, because CI (`.ci/run`) installs both.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::fixtures::*;
use crate::support::*;

/// chromedriver, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

/// chromium and chromedriver, or `None` (after saying so) when the test is to be skipped.
fn tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    match (on_path("chromium"), on_path("chromedriver")) {
        (Some(browser), Some(driver)) => Some((browser, driver)),
        _ if std::env::var_os("CI").is_some() => {
            panic!("{test}: CI is set but chromium or chromedriver is missing (.ci/run installs them with apt)")
        }
        _ => {
            eprintln!("SKIPPED {test}: no chromium and chromedriver found (apt-get install chromium chromium-driver)");
            None
        }
    }
}

fn start_driver(driver: &Path) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Driver { child, url: format!("http://127.0.0.1:{port}") }
}

async fn browser(driver: &Driver, chromium: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=360,800", "--lang=da"],
            // A Danish browser: the pages answer its Accept-Language.
            "prefs": { "intl.accept_languages": "da" },
        }),
    );
    ClientBuilder::native().capabilities(caps).connect(&driver.url).await.expect("a browser session")
}

/// Writes the page's screenshots at 360×800 and 1280×800, and goes back to the phone's size.
async fn screenshots(c: &Client, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for (w, h) in [(1280, 800), (360, 800)] {
        c.set_window_size(w, h).await.unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{w}x{h}.png")), png).unwrap();
    }
}

/// Signs in through the development sign-in as the user whose radio button has `value`.
async fn sign_in_as(c: &Client, base: &str, value: &str) {
    c.goto(&format!("{base}/log-ind")).await.unwrap();
    c.find(Locator::Css(&format!("input[value='{value}']"))).await.unwrap().click().await.unwrap();
    c.find(Locator::Css("form[action='/log-ind/udvikler'] button")).await.unwrap().click().await.unwrap();
    // Signed in: the header has the sign-out button.
    c.wait().for_element(Locator::Css("form[action='/log-ud']")).await.unwrap();
}

/// The server with the demo data, a demo company's task, and the demo citizen Mads Kristensen
/// offered it; returns the server, Mads' id and the placement.
async fn demo_with_an_offer() -> (TestApp, String, String) {
    let app = spawn(Backend::Sqlite, "browser").await.expect("SQLite always runs");
    let users = {
        let mut conn = app.pool.get().unwrap();
        smaajob_api::demo::load(&mut conn, &app.data_key).unwrap();
        smaajob_api::demo::users(&mut conn, &app.data_key).unwrap()
    };
    let (_, bakery) = users.companies[0].clone();
    let (_, mads) = users.citizens.iter().find(|(n, _)| n == "Mads Kristensen").cloned().unwrap();
    let coordinator = app.coordinator(RANDERS);
    let task = with(shift(day(7), "08:00", "12:00", "4", "150.00"), json!({ "title": "Opvask i bageriet" }));
    let task = open_task(&app, &app.company(&bakery), &task).await;
    let placement = offer(&app, &coordinator, &task, &mads).await;
    (app, mads, placement)
}

#[actix_web::test]
async fn in_a_browser_a_citizen_accepts_an_offer_a_coordinator_approves_it_from_the_queue_and_the_citizen_reads_the_balance()
 {
    let Some((chromium, driver)) = tools("browser journeys") else { return };
    let (app, mads, placement) = demo_with_an_offer().await;
    let driver = start_driver(&driver);
    let c = browser(&driver, &chromium).await;

    c.goto(&app.base).await.unwrap();
    screenshots(&c, "sign-in").await;

    // The citizen says yes to the offer.
    sign_in_as(&c, &app.base, &format!("citizen:{mads}")).await;
    screenshots(&c, "citizen-offer").await;
    let notice = submit(&c, &format!("/borger/tilbud/{placement}/accepter")).await;
    assert_eq!(notice, "Du har sagt ja. Din koordinator godkender nu jobbet.");
    assert_eq!(placement_state(&app, &placement).await, "accepted");
    sign_out(&c).await;

    // The coordinator approves from the queue.
    sign_in_as(&c, &app.base, "coordinator:730").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/koordinator"));
    c.find(Locator::Id(&format!("p-{placement}"))).await.expect("the placement is in the queue");
    screenshots(&c, "coordinator").await;
    let notice = submit(&c, &format!("/koordinator/placeringer/{placement}/godkend")).await;
    assert_eq!(notice, "Placeringen er godkendt, og ansættelsen er registreret.");
    assert_eq!(placement_state(&app, &placement).await, "approved");
    sign_out(&c).await;

    // The citizen reads the balance, with the approved shift's planned pay.
    sign_in_as(&c, &app.base, &format!("citizen:{mads}")).await;
    assert!(c.current_url().await.unwrap().path().ends_with("/borger"));
    let heading = c.find(Locator::Id("fribeloeb")).await.unwrap().text().await.unwrap();
    assert!(heading.starts_with("Mit fribeløb"), "{heading}");
    let left = c.find(Locator::Id("tilbage")).await.unwrap().text().await.unwrap();
    let balance = app.get("/api/v1/me/balance", &app.citizen(&mads)).await;
    let remaining = ore(&balance.body["remaining"]);
    assert!(
        left.ends_with("kr.") && left.replace(['.', ','], "").starts_with(&(remaining).to_string()),
        "{left} vs {remaining}"
    );
    let plan = c.find(Locator::Id("plan")).await.unwrap().text().await.unwrap();
    assert_eq!(plan, "De godkendte vagter holder dig under grænsen.");
    let pace = c.find(Locator::Id("tempo")).await.unwrap().text().await.unwrap();
    assert!(!pace.is_empty());
    screenshots(&c, "citizen-balance").await;

    // The page fits the phone's width: nothing scrolls sideways.
    let overflow = c.execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![]).await.unwrap();
    assert_eq!(overflow, json!(false), "the balance page is wider than 360 px");
    c.close().await.unwrap();
}

/// Presses the button of the form posting to `action` and returns the notice the page answers with.
/// Presses the button of the form posting to `action` and returns the notice of the page it
/// leads to.
async fn submit(c: &Client, action: &str) -> String {
    press_and_load(c, action).await;
    c.wait().for_element(Locator::Css("p.notice")).await.unwrap().text().await.unwrap()
}

/// Presses the form's button and waits until the page it posts to has replaced this one: the
/// page before may carry a notice of its own, which must not be read as the answer.
async fn press_and_load(c: &Client, action: &str) {
    let before = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css(&format!("form[action='{action}'] button"))).await.unwrap().click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    // An element of the old document answers until the new one has loaded, then it is stale.
    while before.tag_name().await.is_ok() {
        assert!(Instant::now() < deadline, "{action}: no new page after 30 s");
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn sign_out(c: &Client) {
    assert_eq!(submit(c, "/log-ud").await, "Du er logget ud.");
}

async fn placement_state(app: &TestApp, id: &str) -> String {
    placement(app, &app.coordinator(RANDERS), id).await["state"].as_str().unwrap().to_owned()
}
