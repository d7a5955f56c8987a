-- Numbers looked up by POST /matches, per agency and minute: the hourly
-- allowance is counted here so that every replica sees the same count.
CREATE TABLE match_usage (
    agency  text        NOT NULL,
    minute  timestamptz NOT NULL,
    numbers integer     NOT NULL,
    PRIMARY KEY (agency, minute)
);
