DROP TABLE shift_reports;
DROP TABLE placements;
DROP TABLE tasks;
