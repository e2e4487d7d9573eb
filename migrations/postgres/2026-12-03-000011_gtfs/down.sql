DROP TABLE gtfs_connections;
DROP TABLE gtfs_service_days;
DROP TABLE gtfs_stops;
DROP TABLE gtfs_feeds;
