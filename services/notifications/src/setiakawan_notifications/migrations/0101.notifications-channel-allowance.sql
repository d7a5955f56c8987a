-- Each channel's rate limit, shared by every instance of the service: a
-- token bucket per channel that instances take blocks of sends from.
CREATE TABLE channel_allowance (
    channel  text             PRIMARY KEY,
    tokens   double precision NOT NULL,   -- below zero: sends already promised a later slot
    at       timestamptz      NOT NULL
);
