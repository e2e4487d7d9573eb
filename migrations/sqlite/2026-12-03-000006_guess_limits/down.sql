DROP TABLE guess_counters;
