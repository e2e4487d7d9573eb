-- Wrong guesses at a CPR number and card number, counted per subject: a company or a
-- coordinator (scope 'actor'), a source address ('source'), a CPR number's keyed hash
-- ('citizen'; never the CPR itself). Kept in the database so lockouts hold across restarts and
-- are shared by every instance. Keep in step with the other backend's tree.
CREATE TABLE guess_counters (
    scope TEXT NOT NULL CHECK (scope IN ('actor', 'source', 'citizen')),
    subject TEXT NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    wrong_in_window INTEGER NOT NULL CHECK (wrong_in_window >= 0),
    wrong_total BIGINT NOT NULL CHECK (wrong_total >= 0),
    lockouts INTEGER NOT NULL CHECK (lockouts >= 0),
    locked_until TIMESTAMP,
    last_wrong_at TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, subject)
);

-- The coordinator's queue lists recent lockouts; the purge deletes quiet counters.
CREATE INDEX guess_counters_locked_until ON guess_counters (locked_until);
CREATE INDEX guess_counters_last_wrong_at ON guess_counters (last_wrong_at);
