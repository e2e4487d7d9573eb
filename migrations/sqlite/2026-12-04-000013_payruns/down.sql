DROP TABLE pay_run_payouts;
DROP TABLE pay_runs;
