DROP TABLE municipality_periods;
