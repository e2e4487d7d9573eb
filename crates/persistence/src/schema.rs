//! Diesel table definitions, written by hand to match both migration trees.
#![allow(missing_docs)]

diesel::table! {
    caps (year) {
        year -> Integer,
        amount_ore -> BigInt,
        regulation_percent -> Nullable<Text>,
        set_by -> Text,
        set_at -> Timestamp,
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
    }
}

diesel::joinable!(frikort_cards -> citizens (citizen_id));
diesel::joinable!(frikort_events -> frikort_cards (card_id));

diesel::allow_tables_to_appear_in_same_query!(caps, citizens, frikort_cards, frikort_events, companies, audit_log,);
