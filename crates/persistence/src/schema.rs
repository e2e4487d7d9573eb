//! Diesel table definitions, written by hand to match both migration trees and checked against
//! freshly migrated SQLite and PostgreSQL databases by `tests/schema_rs.rs`.
#![allow(missing_docs)]

diesel::table! {
    caps (year) {
        year -> Integer,
        amount_ore -> BigInt,
        regulation_percent -> Nullable<Text>,
        set_by -> Text,
        set_at -> Timestamp,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    citizens (id) {
        id -> Text,
        cpr_hash -> Text,
        cpr_ciphertext -> Text,
        birth_date -> Date,
        name -> Text,
        phone -> Nullable<Text>,
        municipality -> Text,
        skills -> Text,
        availability -> Text,
        home_lat -> Nullable<Double>,
        home_lon -> Nullable<Double>,
        postcode -> Nullable<Text>,
        transport_modes -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        max_travel_minutes -> Integer,
    }
}

diesel::table! {
    municipality_periods (citizen_id, started_at) {
        citizen_id -> Text,
        municipality -> Text,
        started_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        record_at_end -> Nullable<Text>,
    }
}

diesel::table! {
    frikort_cards (id) {
        id -> Text,
        citizen_id -> Text,
        number -> Text,
        status -> Text,
        valid_from -> Date,
        issued_on -> Date,
        last_control_on -> Nullable<Date>,
        status_changed_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    frikort_events (id) {
        id -> Text,
        card_id -> Text,
        kind -> Text,
        effective_at -> Timestamp,
        corrected_from -> Nullable<Timestamp>,
        reason -> Nullable<Text>,
        attestations -> Nullable<Text>,
        actor -> Text,
        municipality -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    companies (id) {
        id -> Text,
        cvr -> Text,
        name -> Text,
        address -> Nullable<Text>,
        postcode -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        contact_name -> Text,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        verification -> Text,
        verification_reason -> Nullable<Text>,
        municipality -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor -> Text,
        actor_role -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Text,
        municipality -> Nullable<Text>,
        details -> Nullable<Text>,
        prev_hash -> Nullable<Text>,
        entry_hash -> Nullable<Text>,
    }
}

diesel::table! {
    audit_chains (chain) {
        chain -> Text,
        last_id -> BigInt,
        last_hash -> Text,
        length -> BigInt,
    }
}

diesel::table! {
    audit_chain_start (id) {
        id -> Integer,
        legacy_until -> BigInt,
        sealed -> Bool,
    }
}

diesel::table! {
    employments (id) {
        id -> Text,
        citizen_id -> Text,
        company_id -> Text,
        start_date -> Date,
        end_date -> Nullable<Date>,
        expected_hours_per_week -> Nullable<Double>,
        expected_pay_ore -> Nullable<BigInt>,
        contact_name -> Text,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        registered_at -> Timestamp,
        registered_by -> Text,
        registered_by_role -> Text,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    citizen_years (citizen_id, year) {
        citizen_id -> Text,
        year -> Integer,
        cap_ore -> BigInt,
        cap_provisional -> Bool,
        gross_ore -> BigInt,
        exempt_ore -> BigInt,
        taxable_ore -> BigInt,
        payout_count -> Integer,
        next_sequence -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    employer_totals (citizen_id, year, company_id) {
        citizen_id -> Text,
        year -> Integer,
        company_id -> Text,
        gross_ore -> BigInt,
        exempt_ore -> BigInt,
        taxable_ore -> BigInt,
        covered_gross_ore -> BigInt,
        payout_count -> Integer,
    }
}

diesel::table! {
    payouts (id) {
        id -> Text,
        employment_id -> Text,
        citizen_id -> Text,
        company_id -> Text,
        year -> Integer,
        sequence -> BigInt,
        payment_date -> Date,
        worked_from -> Date,
        worked_to -> Date,
        wage_ore -> BigInt,
        holiday_pay_ore -> BigInt,
        holiday_pay_separate -> Bool,
        pension_ore -> BigInt,
        gross_ore -> BigInt,
        exempt_ore -> BigInt,
        taxable_ore -> BigInt,
        coverage -> Text,
        late_registration -> Bool,
        registered_by -> Text,
        registered_by_role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    payout_reversals (payout_id) {
        payout_id -> Text,
        reason -> Text,
        reversed_by -> Text,
        reversed_by_role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    adjustments (id) {
        id -> Text,
        payout_id -> Text,
        citizen_id -> Text,
        company_id -> Text,
        employment_id -> Text,
        year -> Integer,
        old_exempt_ore -> BigInt,
        old_taxable_ore -> BigInt,
        new_exempt_ore -> BigInt,
        new_taxable_ore -> BigInt,
        cause -> Text,
        cause_ref -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    register_statements (id) {
        id -> Text,
        citizen_id -> Text,
        year -> Integer,
        drawn_on -> Date,
        status -> Text,
        differences -> Text,
        imported_by -> Text,
        imported_by_role -> Text,
        created_at -> Timestamp,
        accepted_by -> Nullable<Text>,
        accepted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    register_statement_lines (statement_id, line) {
        statement_id -> Text,
        line -> Integer,
        employer_cvr -> Text,
        employer_name -> Text,
        payment_date -> Date,
        amount_ore -> BigInt,
    }
}

diesel::table! {
    outside_income (id) {
        id -> Text,
        citizen_id -> Text,
        year -> Integer,
        sequence -> BigInt,
        payment_date -> Date,
        amount_ore -> BigInt,
        employer_cvr -> Nullable<Text>,
        source -> Text,
        statement_id -> Nullable<Text>,
        recorded_by -> Text,
        recorded_by_role -> Text,
        created_at -> Timestamp,
        withdrawn_at -> Nullable<Timestamp>,
        withdrawn_by -> Nullable<Text>,
        withdrawn_reason -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (caller, idempotency_key) {
        caller -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    guess_counters (scope, subject) {
        scope -> Text,
        subject -> Text,
        window_started_at -> Timestamp,
        wrong_in_window -> Integer,
        wrong_total -> BigInt,
        lockouts -> Integer,
        locked_until -> Nullable<Timestamp>,
        last_wrong_at -> Timestamp,
    }
}

diesel::table! {
    tasks (id) {
        id -> Text,
        company_id -> Text,
        municipality -> Text,
        title -> Text,
        description -> Text,
        required_skills -> Text,
        address -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        schedule -> Text,
        first_date -> Date,
        last_date -> Date,
        paid_minutes_per_shift -> Integer,
        hourly_wage_ore -> BigInt,
        positions -> Integer,
        frikort_only -> Bool,
        contact_name -> Text,
        contact_phone -> Nullable<Text>,
        contact_email -> Nullable<Text>,
        status -> Text,
        opened_at -> Nullable<Timestamp>,
        filled_at -> Nullable<Timestamp>,
        closed_at -> Nullable<Timestamp>,
        close_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    placements (id) {
        id -> Text,
        task_id -> Text,
        citizen_id -> Text,
        state -> Text,
        interested_at -> Nullable<Timestamp>,
        offered_at -> Nullable<Timestamp>,
        offered_by -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        approved_at -> Nullable<Timestamp>,
        decided_at -> Nullable<Timestamp>,
        decided_by -> Nullable<Text>,
        reason -> Nullable<Text>,
        employment_id -> Nullable<Text>,
        estimated_pay_ore -> Nullable<BigInt>,
        estimated_taxable_ore -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    shift_reports (id) {
        id -> Text,
        placement_id -> Text,
        shift_date -> Date,
        minutes -> Integer,
        status -> Text,
        reported_by -> Text,
        reported_by_role -> Text,
        reported_at -> Timestamp,
        answered_by -> Nullable<Text>,
        answered_at -> Nullable<Timestamp>,
        dispute_reason -> Nullable<Text>,
        payout_id -> Nullable<Text>,
    }
}

diesel::table! {
    pay_runs (id) {
        id -> Text,
        municipality -> Nullable<Text>,
        company_id -> Nullable<Text>,
        period_from -> Date,
        period_to -> Date,
        payment_date -> Date,
        payment_method -> Text,
        lines -> Integer,
        shifts -> Integer,
        wage_ore -> BigInt,
        holiday_pay_ore -> BigInt,
        pension_ore -> BigInt,
        gross_ore -> BigInt,
        created_by -> Text,
        created_by_role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pay_run_payouts (payout_id) {
        payout_id -> Text,
        pay_run_id -> Text,
    }
}

diesel::table! {
    gtfs_feeds (id) {
        id -> Text,
        municipality -> Text,
        sha256 -> Text,
        imported_at -> Timestamp,
        imported_by -> Text,
        stop_count -> Integer,
        trip_count -> Integer,
        connection_count -> Integer,
        first_day -> Nullable<Date>,
        last_day -> Nullable<Date>,
    }
}

diesel::table! {
    gtfs_stops (feed_id, idx) {
        feed_id -> Text,
        idx -> Integer,
        stop_id -> Text,
        lat -> Double,
        lon -> Double,
    }
}

diesel::table! {
    gtfs_service_days (feed_id, day, service) {
        feed_id -> Text,
        service -> Integer,
        day -> Date,
    }
}

diesel::table! {
    gtfs_connections (feed_id, trip, seq) {
        feed_id -> Text,
        trip -> Integer,
        seq -> Integer,
        service -> Integer,
        from_stop -> Integer,
        to_stop -> Integer,
        departs -> Integer,
        arrives -> Integer,
    }
}

diesel::table! {
    atp_rates (year) {
        year -> Integer,
        employee_ore_per_hour -> BigInt,
        employer_ore_per_hour -> BigInt,
        set_by -> Text,
        set_at -> Timestamp,
        reason -> Text,
    }
}

diesel::table! {
    register_entries (id) {
        id -> Text,
        payout_id -> Text,
        citizen_id -> Text,
        company_id -> Text,
        year -> Integer,
        kind -> Text,
        corrects_id -> Nullable<Text>,
        card_number -> Text,
        previous_exempt_ore -> BigInt,
        exempt_ore -> BigInt,
        status -> Text,
        due_on -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        registered_by -> Nullable<Text>,
        registered_at -> Nullable<Timestamp>,
        national_reference -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        event_id -> Text,
        event_type -> Text,
        event_key -> Nullable<Text>,
        recipient_kind -> Text,
        recipient -> Text,
        channel -> Text,
        subscription_id -> Nullable<Text>,
        municipality -> Nullable<Text>,
        text -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        failures -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    outbox_attempts (message_id, attempt) {
        message_id -> Text,
        attempt -> Integer,
        at -> Timestamp,
        succeeded -> Bool,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    webhook_subscriptions (id) {
        id -> Text,
        owner_kind -> Text,
        owner -> Text,
        url -> Text,
        event_types -> Text,
        secret_ciphertext -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        secret_rotated_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(frikort_cards -> citizens (citizen_id));
diesel::joinable!(municipality_periods -> citizens (citizen_id));
diesel::joinable!(tasks -> companies (company_id));
diesel::joinable!(placements -> tasks (task_id));
diesel::joinable!(placements -> citizens (citizen_id));
diesel::joinable!(shift_reports -> placements (placement_id));
diesel::joinable!(employments -> citizens (citizen_id));
diesel::joinable!(employments -> companies (company_id));
diesel::joinable!(payouts -> employments (employment_id));
diesel::joinable!(payout_reversals -> payouts (payout_id));
diesel::joinable!(adjustments -> companies (company_id));
diesel::joinable!(employer_totals -> companies (company_id));
diesel::joinable!(adjustments -> citizens (citizen_id));
diesel::joinable!(frikort_events -> frikort_cards (card_id));
diesel::joinable!(register_statements -> citizens (citizen_id));
diesel::joinable!(register_statement_lines -> register_statements (statement_id));
diesel::joinable!(outside_income -> citizens (citizen_id));
diesel::joinable!(pay_runs -> companies (company_id));
diesel::joinable!(pay_run_payouts -> pay_runs (pay_run_id));
diesel::joinable!(pay_run_payouts -> payouts (payout_id));
diesel::joinable!(register_entries -> payouts (payout_id));
diesel::joinable!(register_entries -> citizens (citizen_id));
diesel::joinable!(register_entries -> companies (company_id));
diesel::joinable!(gtfs_stops -> gtfs_feeds (feed_id));
diesel::joinable!(gtfs_service_days -> gtfs_feeds (feed_id));
diesel::joinable!(gtfs_connections -> gtfs_feeds (feed_id));
diesel::joinable!(outbox_attempts -> outbox (message_id));

diesel::allow_tables_to_appear_in_same_query!(
    caps,
    citizens,
    municipality_periods,
    frikort_cards,
    frikort_events,
    companies,
    audit_log,
    audit_chains,
    audit_chain_start,
    employments,
    citizen_years,
    employer_totals,
    payouts,
    payout_reversals,
    adjustments,
    register_statements,
    register_statement_lines,
    outside_income,
    idempotency_keys,
    guess_counters,
    tasks,
    placements,
    shift_reports,
    gtfs_feeds,
    gtfs_stops,
    gtfs_service_days,
    gtfs_connections,
    pay_runs,
    pay_run_payouts,
    register_entries,
    atp_rates,
    outbox,
    outbox_attempts,
    webhook_subscriptions,
);
