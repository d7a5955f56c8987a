-- What the NGO keeps of its own: the verified households of its district
-- (from the registry's events: references, never a name or a NIK), its
-- top-up programmes, their entitlements as the distribution service
-- announces them, and the handovers its staff recorded.

CREATE TABLE households (
    household_id  uuid PRIMARY KEY,
    version       integer NOT NULL,             -- the registry's snapshot version: only a higher one replaces it
    village_code  text    NOT NULL,
    status        text    NOT NULL,
    decile        smallint NOT NULL,
    head_ref      uuid                           -- the head's person_ref, who collects the package
);

-- the NGO's warehouse, a distribution point in Setiakawan (made with the first top-up)
CREATE TABLE warehouse (
    point_id      uuid PRIMARY KEY,
    village_code  text NOT NULL
);

CREATE TABLE top_ups (
    programme_id  uuid PRIMARY KEY,             -- the distribution service's programme
    month         text        NOT NULL UNIQUE,  -- 2026-12: one top-up a month
    name          text        NOT NULL,
    packages      integer     NOT NULL,         -- received into the warehouse for it
    issued        integer     NOT NULL,
    blocked       integer     NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE entitlements (
    entitlement_id      uuid PRIMARY KEY,
    version             integer NOT NULL,
    programme_id        uuid    NOT NULL REFERENCES top_ups (programme_id),
    household_id        uuid    NOT NULL,
    status              text    NOT NULL,       -- issued, delivered, blocked, revoked
    blocked_by_agency   text,                   -- who holds the household's benefit of the month instead
    blocked_by_name     text
);
CREATE INDEX entitlements_household ON entitlements (household_id);

CREATE TABLE deliveries (
    idempotency_key  text PRIMARY KEY,
    entitlement_id   uuid        NOT NULL REFERENCES entitlements (entitlement_id),
    delivered_at     timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
