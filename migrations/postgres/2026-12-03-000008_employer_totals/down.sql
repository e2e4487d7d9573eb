DROP INDEX payouts_citizen_year_date;
DROP TABLE employer_totals;
