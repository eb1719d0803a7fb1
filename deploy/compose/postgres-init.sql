-- Run once by the postgres image on an empty data volume: one database per service.
CREATE DATABASE status_tracker;
CREATE DATABASE notifier;
CREATE DATABASE returns;
CREATE DATABASE couriers;
