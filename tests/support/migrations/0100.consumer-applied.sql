CREATE TABLE applied (
    event_id       text PRIMARY KEY,
    seq            integer     NOT NULL,
    subject        text        NOT NULL,
    correlation_id text,
    applications   integer     NOT NULL DEFAULT 1,
    applied_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
