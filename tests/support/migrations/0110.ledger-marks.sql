-- What the ledger test service (tests/support/outage_services.py) writes over HTTP.
CREATE TABLE marks (
    n         integer PRIMARY KEY,
    marked_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
