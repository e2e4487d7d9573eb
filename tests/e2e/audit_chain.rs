//! The tamper-evident audit log through the real binary: two servers on one database write audited
//! reads and changes at once, `smaajob audit verify` finds every chain intact (exit 0), and after one
//! entry is edited directly in the database it names that entry (exit 2).

use std::process::Command;
use std::rc::Rc;

use diesel::prelude::*;

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

/// Runs `smaajob audit verify` on the app's database; its exit code and stdout.
fn audit_verify(app: &TestApp) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_smaajob"))
        .env_remove("DATABASE_URL")
        .env_remove("SMAAJOB_JWT_SECRET")
        .env_remove("SMAAJOB_DATA_KEY")
        .args(["audit", "verify", "--database-url", &app.database_url()])
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(out.stderr.is_empty() || out.status.code() == Some(1), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().expect("an exit code"), stdout)
}

both_backends! {
    async fn audit_verify_finds_the_log_of_two_servers_intact_and_names_an_entry_edited_in_the_database(app) {
        let second = Rc::new(app.another_instance(|_| {}).await);
        let app = Rc::new(app);
        let coordinator = app.coordinator("730");
        let other = app.coordinator("751");
        let citizen = app.enrol(&coordinator, &cpr(1), "Aase Andersen").await;
        second.enrol(&other, &cpr(2), "Bo Berg").await;
        // Audited reads and writes through both servers at once: their entries interleave in
        // the one chain of 730.
        let tasks: Vec<_> = (0..24u32)
            .map(|i| {
                let server = if i.is_multiple_of(2) { Rc::clone(&app) } else { Rc::clone(&second) };
                let (coordinator, citizen) = (coordinator.clone(), citizen.clone());
                actix_web::rt::spawn(async move {
                    if i.is_multiple_of(6) {
                        server.enrol(&coordinator, &cpr(100 + i), "Cille Carlsen").await;
                    } else {
                        server.get(&format!("/api/v1/citizens/{citizen}"), &coordinator).await.expect(200);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("the request completes");
        }
        let (code, out) = audit_verify(&app);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("chain 730: intact"), "{out}");
        assert!(out.contains("chain 751: intact"), "{out}");
        assert!(!out.contains(&cpr(1)) && !out.contains("Aase"), "no personal data is printed");

        let edited: i64 = {
            use smaajob_persistence::schema::audit_log;
            let mut c = app.pool.get().expect("a connection");
            let id = audit_log::table
                .filter(audit_log::municipality.eq("730"))
                .filter(audit_log::action.eq("citizen.read"))
                .select(audit_log::id)
                .order(audit_log::id)
                .first(&mut c)
                .expect("a read was logged");
            diesel::update(audit_log::table.find(id)).set(audit_log::actor.eq("someone-else")).execute(&mut c).expect("edit");
            id
        };
        let (code, out) = audit_verify(&app);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains(&format!("chain 730: BROKEN at entry {edited}")), "{out}");
        assert!(out.contains("chain 751: intact"), "{out}");
    }
}
