-- The coarsened home locations stay coarse: the exact ones are gone.
ALTER TABLE citizens DROP COLUMN max_travel_minutes;
