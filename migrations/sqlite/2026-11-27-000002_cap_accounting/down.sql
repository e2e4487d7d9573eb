DROP TABLE idempotency_keys;
DROP TABLE adjustments;
DROP TABLE payout_reversals;
DROP TABLE payouts;
DROP TABLE citizen_years;
DROP TABLE employments;
