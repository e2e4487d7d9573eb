-- GTFS: each municipality's imported public-transport timetable, reduced to what the
-- Connection Scan Algorithm needs. A new import deletes the municipality's feed (its stops,
-- service days and connections go with it) and inserts the new one in one transaction.
CREATE TABLE gtfs_feeds (
    id TEXT PRIMARY KEY NOT NULL,
    municipality TEXT NOT NULL UNIQUE,
    sha256 TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    imported_by TEXT NOT NULL,
    stop_count INTEGER NOT NULL CHECK (stop_count >= 0),
    trip_count INTEGER NOT NULL CHECK (trip_count >= 0),
    connection_count INTEGER NOT NULL CHECK (connection_count >= 0),
    first_day DATE,
    last_day DATE
);

-- The stops, numbered 0.. within the feed; the GTFS stop_id is kept for error messages.
CREATE TABLE gtfs_stops (
    feed_id TEXT NOT NULL REFERENCES gtfs_feeds (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL CHECK (idx >= 0),
    stop_id TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (feed_id, idx)
);

-- Every day a service runs: calendar.txt's weekdays between its dates, with
-- calendar_dates.txt's additions and removals applied.
CREATE TABLE gtfs_service_days (
    feed_id TEXT NOT NULL REFERENCES gtfs_feeds (id) ON DELETE CASCADE,
    service INTEGER NOT NULL CHECK (service >= 0),
    day DATE NOT NULL,
    PRIMARY KEY (feed_id, day, service)
);

-- One ride of one trip from a stop to the next: seconds after midnight of the service day
-- (GTFS times may pass 24:00).
CREATE TABLE gtfs_connections (
    feed_id TEXT NOT NULL REFERENCES gtfs_feeds (id) ON DELETE CASCADE,
    trip INTEGER NOT NULL CHECK (trip >= 0),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    service INTEGER NOT NULL CHECK (service >= 0),
    from_stop INTEGER NOT NULL CHECK (from_stop >= 0),
    to_stop INTEGER NOT NULL CHECK (to_stop >= 0),
    departs INTEGER NOT NULL CHECK (departs >= 0),
    arrives INTEGER NOT NULL CHECK (arrives >= departs),
    PRIMARY KEY (feed_id, trip, seq)
);
CREATE INDEX gtfs_connections_service ON gtfs_connections (feed_id, service);
