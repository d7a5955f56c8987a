-- A bulk load holds its service's relay (see outbox.hold) so that the load
-- gets the machine; the lease ends the hold if the loader dies.
CREATE TABLE kit_outbox_holds (
    key        text PRIMARY KEY,
    reason     text        NOT NULL,
    expires_at timestamptz NOT NULL
);
