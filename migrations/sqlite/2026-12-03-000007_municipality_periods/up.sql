-- Which municipality was responsible for a citizen (handlekommune) from when to when. A move is a
-- transfer: it ends the old municipality's period at the transfer time and starts the new one's,
-- so the old municipality keeps reading what it held until then and nothing after.
-- Keep in step with migrations/postgres (a test compares the two schemas).

CREATE TABLE municipality_periods (
    citizen_id TEXT NOT NULL REFERENCES citizens (id),
    municipality TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    -- NULL while the municipality is responsible.
    ended_at TIMESTAMP,
    -- Why the period started, when a transfer started it.
    reason TEXT,
    -- The citizen's record and card as they stood at ended_at (JSON), what the municipality
    -- still reads of its period after the citizen moved on.
    record_at_end TEXT,
    PRIMARY KEY (citizen_id, started_at),
    CHECK (ended_at IS NULL OR ended_at >= started_at),
    CHECK ((ended_at IS NULL) = (record_at_end IS NULL))
);
-- One responsible municipality at a time.
CREATE UNIQUE INDEX municipality_periods_open ON municipality_periods (citizen_id) WHERE ended_at IS NULL;

-- Every citizen so far has been with their municipality since enrolment.
INSERT INTO municipality_periods (citizen_id, municipality, started_at)
    SELECT id, municipality, created_at FROM citizens;
