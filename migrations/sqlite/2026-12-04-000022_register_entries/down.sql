DROP INDEX register_entries_company;
DROP INDEX register_entries_status;
DROP INDEX register_entries_payout;
DROP TABLE register_entries;
