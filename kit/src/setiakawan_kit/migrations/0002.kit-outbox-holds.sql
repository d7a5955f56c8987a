-- A bulk load holds its service's relay (see outbox.hold) so that the load
-- gets the machine; the lease ends the hold if the loader dies.
CREATE TABLE kit_outbox_holds (
    key        text PRIMARY KEY,
    reason     text        NOT NULL,
    expires_at timestamptz NOT NULL
);

-- Events of up to 8 kB stay in the row, uncompressed: a bulk load writes
-- hundreds of thousands of them, and trying to compress each one over 2 kB
-- costs more than the space it would save until the relay has sent them.
ALTER TABLE kit_outbox SET (toast_tuple_target = 8160);
