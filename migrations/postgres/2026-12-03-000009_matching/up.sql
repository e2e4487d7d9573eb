-- Matching: each citizen's longest accepted one-way trip, 45 minutes unless set.
ALTER TABLE citizens ADD COLUMN max_travel_minutes INTEGER NOT NULL DEFAULT 45
    CHECK (max_travel_minutes BETWEEN 5 AND 180);

-- A home location is kept coarsened: snapped to the nearest point of the grid of
-- 0.00225° latitude × 0.004° longitude (about 250 m in Denmark), as the application now
-- stores it, so no exact address stays in the table.
UPDATE citizens
SET home_lat = round(home_lat * 1000000 / 2250) * 2250 / 1000000.0,
    home_lon = round(home_lon * 1000000 / 4000) * 4000 / 1000000.0
WHERE home_lat IS NOT NULL AND home_lon IS NOT NULL;
