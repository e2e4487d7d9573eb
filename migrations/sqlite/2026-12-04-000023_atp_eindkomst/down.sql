DROP TABLE atp_rates;
