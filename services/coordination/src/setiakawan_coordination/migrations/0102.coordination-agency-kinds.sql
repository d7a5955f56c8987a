-- The kind of each agency (province, district, village, ngo, csr) as its token names it: events
-- published on an agency's behalf carry it (the ce-agencykind extension). Kept per agency, and
-- logged with each event, so a rebuild from the log knows it too.
CREATE TABLE agency_kinds (
    agency      text PRIMARY KEY,
    kind        text NOT NULL,
    seen_at     timestamptz NOT NULL
);
ALTER TABLE event_log ADD COLUMN agency text, ADD COLUMN agency_kind text;

-- The event log is written once per event already: the kit's inbox, in the same transaction, lets
-- each event through once. Its unique index on the event id cost a random-key index insert per event
-- (a million of them in a replay), for nothing. A rebuild reads the log by seq only.
ALTER TABLE event_log DROP CONSTRAINT event_log_event_id_key;
