DROP TABLE audit_log;
DROP TABLE companies;
DROP TABLE frikort_events;
DROP TABLE frikort_cards;
DROP TABLE citizens;
DROP TABLE caps;
