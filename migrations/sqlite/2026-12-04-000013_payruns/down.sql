DROP INDEX shift_reports_shift_date;
DROP TABLE pay_run_payouts;
DROP TABLE pay_runs;
