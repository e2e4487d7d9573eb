//! CPR numbers never reach the database file or the logs in the clear: the real binary is run
//! with debug logging, a citizen is enrolled, and the SQLite files and the log are searched.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CPR_WITH_DASH: &str = "150791-2637";
const CPR_DIGITS: &str = "1507912637";
const SERIAL: &str = "2637";

struct Server {
    child: Child,
    port: u16,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

fn smaajob(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smaajob"));
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("SMAAJOB_JWT_SECRET")
        .env_remove("SMAAJOB_DATA_KEY")
        .env_remove("SMAAJOB_JWT_PUBLIC_KEY")
        .env_remove("SMAAJOB_JWKS_PATH")
        .env_remove("SMAAJOB_BIND");
    cmd
}

fn start(dir: &std::path::Path, format: &str) -> Server {
    let mut child = smaajob(dir)
        .args(["serve", "--bind", "127.0.0.1:0", "--log-format", format])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (tx, rx) = std::sync::mpsc::channel();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on port ").nth(1) {
                let port: u16 = rest.split_whitespace().next().unwrap().parse().unwrap();
                let _ = tx.send(port);
            }
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    let port = rx.recv_timeout(Duration::from_secs(60)).expect("the server reports its port");
    Server { child, port, log }
}

fn stop(mut server: Server) -> String {
    let _ = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = server.child.try_wait() {
            assert!(status.success(), "graceful shutdown exits 0, got {status}");
            std::thread::sleep(Duration::from_millis(100));
            return server.log.lock().unwrap().clone();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = server.child.kill();
    panic!("the server did not stop on SIGTERM");
}

fn mint(dir: &std::path::Path) -> String {
    let out = smaajob(dir).args(["token", "--role", "coordinator", "--municipality", "730"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn enrol(port: u16, token: &str) {
    let client = awc::Client::default();
    let body = serde_json::json!({ "cpr": CPR_WITH_DASH, "name": "Ole Olsen" });
    let mut res = client
        .post(format!("http://127.0.0.1:{port}/api/v1/citizens"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&body)
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201, "{:?}", res.body().await);
    let text = String::from_utf8(res.body().await.unwrap().to_vec()).unwrap();
    assert!(!text.contains(CPR_DIGITS) && !text.contains(&format!("-{SERIAL}")), "{text}");
    // A refused duplicate must not echo the CPR either.
    let mut dup = client
        .post(format!("http://127.0.0.1:{port}/api/v1/citizens"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&body)
        .await
        .unwrap();
    assert_eq!(dup.status().as_u16(), 409);
    let text = String::from_utf8(dup.body().await.unwrap().to_vec()).unwrap();
    assert!(!text.contains(SERIAL), "{text}");
}

fn files_contain(dir: &std::path::Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = Vec::new();
        std::fs::File::open(&path).unwrap().read_to_end(&mut bytes).unwrap();
        if bytes.windows(needle.len()).any(|w| w == needle) {
            hits.push(path.display().to_string());
        }
    }
    hits
}

async fn cpr_stays_out_of_files_and_logs(format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), format);
    // `token` beside a running `serve` uses the same locally generated secret.
    let token = mint(dir.path());
    enrol(server.port, &token).await;
    let log = stop(server);
    assert!(log.contains("generated local secrets"), "the log says where the secrets went:\n{log}");
    for needle in [CPR_DIGITS, CPR_WITH_DASH] {
        assert!(!log.contains(needle), "the log contains the CPR:\n{log}");
        let hits = files_contain(dir.path(), needle.as_bytes());
        assert!(hits.is_empty(), "CPR found in {hits:?}");
    }
    let secrets = dir.path().join("smaajob.sqlite3.secrets.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(secrets).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[actix_web::test]
async fn a_cpr_never_appears_in_the_sqlite_files_or_in_text_logs() {
    cpr_stays_out_of_files_and_logs("text").await;
}

#[actix_web::test]
async fn a_cpr_never_appears_in_the_sqlite_files_or_in_json_logs() {
    cpr_stays_out_of_files_and_logs("json").await;
}

#[test]
fn serving_on_postgres_without_secrets_is_refused_with_the_missing_variable_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = smaajob(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0", "--database-url", "postgres://nobody@127.0.0.1:1/none"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SMAAJOB_DATA_KEY"), "{err}");
}

#[test]
fn a_refused_database_connection_is_reported_truthfully_without_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = smaajob(dir.path())
        .args(["migrate", "--database-url", "postgres://app:hunter2@127.0.0.1:1/smaajob"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1") && err.to_lowercase().contains("connect"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn the_demo_data_loads_once_and_loading_it_again_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = smaajob(dir.path()).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("migration(s) applied"));
    let first = smaajob(dir.path()).arg("demo").output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let out = String::from_utf8_lossy(&first.stdout);
    assert!(out.contains("Bageriet på Torvet") && out.contains("Mads Kristensen"), "{out}");
    assert!(!out.contains("(0 new rows)"), "{out}");
    let again = smaajob(dir.path()).arg("demo").output().unwrap();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("(0 new rows)"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
    // Demo CPR numbers are stored encrypted like any other.
    assert!(files_contain(dir.path(), b"1203981235").is_empty());
}

#[test]
fn a_company_token_needs_a_cvr_or_a_company_id() {
    let dir = tempfile::tempdir().unwrap();
    let out = smaajob(dir.path()).args(["token", "--role", "company"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cvr"), "{}", String::from_utf8_lossy(&out.stderr));
    // `token` creates no secrets file of its own; here it signs with a configured secret.
    let ok = smaajob(dir.path())
        .args(["token", "--role", "company", "--cvr", "29403473", "--ttl", "30m"])
        .env("SMAAJOB_JWT_SECRET", "a-configured-secret-of-at-least-32-bytes-0123")
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim().split('.').count(), 3);
}
