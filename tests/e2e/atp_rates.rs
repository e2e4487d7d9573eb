//! The ATP rate table over HTTP: the operator sets a year's rate per hour (the employee's and the
//! employer's part) with a reason, every role reads it, a year without its own rate uses the
//! latest earlier one provisionally, and bad input is a clear problem that changes nothing.

use serde_json::{Value, json};

use crate::both_backends;
#[allow(unused_imports)]
use crate::fixtures::*;
#[allow(unused_imports)]
use crate::support::*;

fn rate(employee: &str, employer: &str) -> Value {
    json!({ "employee_per_hour": employee, "employer_per_hour": employer, "reason": "ATP-satser for timelønnede" })
}

both_backends! {
    async fn the_operator_sets_a_years_atp_rate_and_every_role_reads_it(app) {
        let r = app.put("/api/v1/atp-rates/2026", &app.operator(), &rate("0.53", "1.06")).await;
        r.expect(200);
        assert_eq!(r.body["employee_per_hour"], "0.53");
        assert_eq!(r.body["employer_per_hour"], "1.06");
        assert_eq!(r.body["provisional"], false);
        assert_eq!(r.body["reason"], "ATP-satser for timelønnede");
        let w = employee(&app, "2026-01-01").await;
        let citizen = app.citizen(&w.citizen);
        for token in [&w.coordinator, &w.company_token, &citizen, &app.operator()] {
            let one = app.get("/api/v1/atp-rates/2026", token).await;
            one.expect(200);
            assert_eq!(one.body["employer_per_hour"], "1.06");
            let all = app.get("/api/v1/atp-rates", token).await;
            all.expect(200);
            assert_eq!(column(&all.body, "year"), json!([2026]));
        }
        let logged = audit_log(&app, &app.operator()).await;
        assert!(actions(&logged).contains(&"atp_rate.set".to_owned()), "{:?}", actions(&logged));
    }

    async fn a_year_without_its_own_rate_uses_the_latest_earlier_one_provisionally_until_it_is_set(app) {
        assert_problem(&app.get("/api/v1/atp-rates/2027", &app.operator()).await, 404, "not_found", "no rate yet");
        app.put("/api/v1/atp-rates/2026", &app.operator(), &rate("0.53", "1.06")).await.expect(200);
        let r = app.get("/api/v1/atp-rates/2027", &app.operator()).await;
        r.expect(200);
        assert_eq!((r.body["year"].as_i64(), r.body["source_year"].as_i64()), (Some(2027), Some(2026)));
        assert_eq!(r.body["provisional"], true);
        app.put("/api/v1/atp-rates/2027", &app.operator(), &rate("0.55", "1.10")).await.expect(200);
        let r = app.get("/api/v1/atp-rates/2027", &app.operator()).await;
        assert_eq!((r.body["provisional"].as_bool(), r.body["employee_per_hour"].as_str()), (Some(false), Some("0.55")));
        // Setting a year again replaces its rate.
        app.put("/api/v1/atp-rates/2027", &app.operator(), &rate("0.56", "1.12")).await.expect(200);
        let all = app.get("/api/v1/atp-rates", &app.operator()).await;
        assert_eq!(column(&all.body, "employee_per_hour"), json!(["0.53", "0.56"]));
    }

    async fn a_bad_atp_rate_is_a_clear_problem_and_changes_nothing(app) {
        let op = app.operator();
        expect_field_error(&app.put("/api/v1/atp-rates/2026", &op, &rate("-0.53", "1.06")).await, "employee_per_hour", "money_negative");
        expect_field_error(&app.put("/api/v1/atp-rates/2026", &op, &rate("0.53", "100.01")).await, "employer_per_hour", "out_of_range");
        expect_field_error(&app.put("/api/v1/atp-rates/2026", &op, &rate("0.533", "1.06")).await, "employee_per_hour", "money_too_precise");
        let no_reason = json!({ "employee_per_hour": "0.53", "employer_per_hour": "1.06" });
        expect_field_error(&app.put("/api/v1/atp-rates/2026", &op, &no_reason).await, "reason", "required");
        assert_problem(&app.put("/api/v1/atp-rates/1999", &op, &rate("0.53", "1.06")).await, 404, "not_found", "before the frikort");
        let coordinator = app.coordinator(RANDERS);
        assert_problem(&app.put("/api/v1/atp-rates/2026", &coordinator, &rate("0.53", "1.06")).await, 403, "forbidden", "a coordinator");
        let all = app.get("/api/v1/atp-rates", &op).await;
        assert_eq!(all.body, json!([]), "nothing was set");
    }
}
