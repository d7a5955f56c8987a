-- The kit's tables, created in every service database.

CREATE TABLE kit_outbox (
    id           bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL,   -- random v4; consumers deduplicate on it
    exchange     text        NOT NULL,
    routing_key  text        NOT NULL,
    subject      text        NOT NULL,
    headers      jsonb       NOT NULL,
    content_type text        NOT NULL,
    body         text        NOT NULL,   -- the event's data as JSON (UTF-8)
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    sent_at      timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);
CREATE INDEX kit_outbox_pending ON kit_outbox (id) WHERE sent_at IS NULL;
CREATE INDEX kit_outbox_pending_subject ON kit_outbox (subject, id) WHERE sent_at IS NULL;

CREATE TABLE kit_inbox (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, event_id)
);

CREATE TABLE kit_pings (
    event_id    text PRIMARY KEY,
    source      text        NOT NULL,
    agency      text        NOT NULL,
    message     text        NOT NULL,
    sent_by     text        NOT NULL,
    sent_at     timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
