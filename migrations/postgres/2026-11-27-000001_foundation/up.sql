-- Foundation: caps, citizens, frikort cards and their history, companies, audit log.
-- Keep in step with migrations/sqlite (a test compares the two schemas).

CREATE TABLE caps (
    year INTEGER PRIMARY KEY NOT NULL CHECK (year BETWEEN 2019 AND 2100),
    amount_ore BIGINT NOT NULL CHECK (amount_ore > 0),
    regulation_percent TEXT,
    set_by TEXT NOT NULL,
    set_at TIMESTAMP NOT NULL
);

INSERT INTO caps (year, amount_ore, regulation_percent, set_by, set_at) VALUES
    (2019, 2000000, NULL, 'law', '2019-01-01 00:00:00'),
    (2020, 2000000, NULL, 'law', '2019-01-01 00:00:00'),
    (2021, 2000000, NULL, 'law', '2019-01-01 00:00:00'),
    (2022, 2000000, NULL, 'law', '2019-01-01 00:00:00'),
    (2023, 4000000, NULL, 'law', '2023-01-01 00:00:00'),
    (2024, 4128000, NULL, 'law', '2024-01-01 00:00:00'),
    (2025, 4276600, '3.6', 'law', '2025-01-01 00:00:00');

CREATE TABLE citizens (
    id TEXT PRIMARY KEY NOT NULL,
    cpr_hash TEXT NOT NULL UNIQUE,
    cpr_ciphertext TEXT NOT NULL,
    birth_date DATE NOT NULL,
    name TEXT NOT NULL,
    phone TEXT,
    municipality TEXT NOT NULL,
    skills TEXT NOT NULL,
    availability TEXT NOT NULL,
    home_lat DOUBLE PRECISION,
    home_lon DOUBLE PRECISION,
    postcode TEXT,
    transport_modes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX citizens_municipality_name ON citizens (municipality, name, id);

CREATE TABLE frikort_cards (
    id TEXT PRIMARY KEY NOT NULL,
    citizen_id TEXT NOT NULL UNIQUE REFERENCES citizens (id),
    number TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
    valid_from DATE NOT NULL,
    issued_on DATE NOT NULL,
    last_control_on DATE,
    status_changed_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX frikort_cards_status ON frikort_cards (status);

CREATE TABLE frikort_events (
    id TEXT PRIMARY KEY NOT NULL,
    card_id TEXT NOT NULL REFERENCES frikort_cards (id),
    kind TEXT NOT NULL CHECK (kind IN ('issued', 'deactivated', 'reactivated', 'controlled')),
    effective_at TIMESTAMP NOT NULL,
    corrected_from TIMESTAMP,
    reason TEXT,
    attestations TEXT,
    actor TEXT NOT NULL,
    municipality TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX frikort_events_card ON frikort_events (card_id, effective_at);

CREATE TABLE companies (
    id TEXT PRIMARY KEY NOT NULL,
    cvr TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    address TEXT,
    postcode TEXT,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    contact_name TEXT NOT NULL,
    contact_phone TEXT,
    contact_email TEXT,
    verification TEXT NOT NULL CHECK (verification IN ('unverified', 'verified', 'rejected')),
    verification_reason TEXT,
    municipality TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    municipality TEXT,
    details TEXT
);
CREATE INDEX audit_log_municipality ON audit_log (municipality, id);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);
