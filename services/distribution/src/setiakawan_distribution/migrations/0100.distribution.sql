-- Programmes, entitlements, the cross-agency benefit ledger, distribution
-- points with their stock, deliveries; and the read models kept from the
-- registry's and training's events (no name, no NIK: people and households
-- are the registry's opaque references).

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE households (
    household_id  uuid PRIMARY KEY,
    version       integer     NOT NULL,          -- the registry's snapshot version: only a higher one replaces it
    status        text        NOT NULL,
    decile        smallint,
    village_code  text        COLLATE "C" NOT NULL,
    members       smallint    NOT NULL,
    children      smallint    NOT NULL,
    elderly       smallint    NOT NULL,
    disabled      smallint    NOT NULL,
    merged_into   uuid,                          -- merged away as a duplicate: never eligible again
    observed_at   timestamptz NOT NULL
);
CREATE INDEX households_village ON households (village_code);

CREATE TABLE household_members (
    household_id  uuid        NOT NULL REFERENCES households (household_id) ON DELETE CASCADE,
    person_ref    uuid        NOT NULL,
    age           smallint    NOT NULL,
    relationship  text        NOT NULL,
    PRIMARY KEY (household_id, person_ref)
);
CREATE INDEX household_members_person ON household_members (person_ref);

CREATE TABLE groups (
    group_id      uuid PRIMARY KEY,
    version       integer     NOT NULL,
    kind          text        NOT NULL,
    village_code  text        COLLATE "C" NOT NULL,
    status        text        NOT NULL
);

CREATE TABLE group_members (
    group_id      uuid        NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE,
    person_ref    uuid        NOT NULL,
    PRIMARY KEY (group_id, person_ref)
);
CREATE INDEX group_members_person ON group_members (person_ref);

-- training's participant.completed: who completed a course in which skill area
CREATE TABLE completions (
    person_ref    uuid        NOT NULL,
    course_id     uuid        NOT NULL,
    skill_area    text        NOT NULL,
    provider_agency text      NOT NULL,
    finished_on   date        NOT NULL,
    PRIMARY KEY (person_ref, course_id)
);

CREATE TABLE programmes (
    id              uuid PRIMARY KEY,
    version         integer     NOT NULL DEFAULT 1,
    agency          text        NOT NULL,
    agency_kind     text        NOT NULL,
    partners        text[]      NOT NULL DEFAULT '{}',
    funding_source  text        NOT NULL,
    name            text        NOT NULL,
    kind            text        NOT NULL,
    category        text        NOT NULL,
    items           jsonb       NOT NULL DEFAULT '[]',
    cash_basis      text,
    cash_amount     bigint,
    group_kind      text,
    group_ids       uuid[],                       -- a group grant to these groups only (a ceremony's KUBE)
    starts_on       date        NOT NULL,
    ends_on         date        NOT NULL,
    region_codes    text[]      COLLATE "C" NOT NULL,
    rule            text        NOT NULL,
    quota           integer,
    budget          bigint,
    stacks          boolean     NOT NULL DEFAULT false,
    point_id        uuid,                         -- where its in-kind items are collected
    status          text        NOT NULL DEFAULT 'draft',
    created_at      timestamptz NOT NULL DEFAULT now(),
    activated_at    timestamptz,
    closed_at       timestamptz,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX programmes_agency ON programmes (agency);
CREATE INDEX programmes_regions ON programmes USING gin (region_codes);

CREATE TABLE entitlements (
    id               uuid PRIMARY KEY,
    version          integer     NOT NULL DEFAULT 1,
    programme_id     uuid        NOT NULL REFERENCES programmes (id),
    beneficiary_kind text        NOT NULL,        -- household or group
    beneficiary_id   uuid        NOT NULL,
    village_code     text        COLLATE "C" NOT NULL,
    amount           bigint,                      -- Rupiah
    status           text        NOT NULL,
    blocked_by       uuid,                        -- the entitlement holding the ledger's place
    reason           text,
    issued_at        timestamptz NOT NULL DEFAULT now(),
    changed_at       timestamptz NOT NULL DEFAULT now(),
    changed_by_pass  uuid,                        -- the pass that last issued, blocked or revoked it (its events)
    UNIQUE (programme_id, beneficiary_id)
);
CREATE INDEX entitlements_beneficiary ON entitlements (beneficiary_id);
CREATE INDEX entitlements_programme_village ON entitlements (programme_id, village_code);
CREATE INDEX entitlements_waiting ON entitlements (blocked_by) WHERE status = 'blocked';
CREATE INDEX entitlements_pass ON entitlements (changed_by_pass);

-- The cross-agency ledger: one row per beneficiary, category and period. Two
-- rows of one beneficiary and category whose periods overlap cannot both
-- exist unless both programmes stack: a stacking row's token is 0, any
-- other row's is its own number, and two rows conflict when their tokens
-- differ (two stacking rows: 0 and 0, no conflict; any other pair differs).
CREATE SEQUENCE ledger_tokens;
CREATE TABLE ledger (
    entitlement_id   uuid PRIMARY KEY REFERENCES entitlements (id),
    beneficiary_id   uuid        NOT NULL,
    category         text        NOT NULL,
    period           daterange   NOT NULL,
    stack_token      bigint      NOT NULL,
    programme_id     uuid        NOT NULL,
    agency           text        NOT NULL,
    EXCLUDE USING gist (beneficiary_id WITH =, category WITH =, period WITH &&, stack_token WITH <>)
);

CREATE TABLE points (
    id            uuid PRIMARY KEY,
    agency        text        NOT NULL,
    name          text        NOT NULL,
    kind          text        NOT NULL,           -- warehouse or village_hall
    village_code  text        COLLATE "C" NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stock (
    point_id      uuid        NOT NULL REFERENCES points (id),
    item          text        NOT NULL,
    unit          text        NOT NULL,
    on_hand       numeric(15,3) NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    allocated     numeric(15,3) NOT NULL DEFAULT 0 CHECK (allocated >= 0),
    low_threshold numeric(15,3) NOT NULL DEFAULT 0,
    PRIMARY KEY (point_id, item),
    CHECK (allocated <= on_hand)
);

CREATE TABLE stock_moves (
    id             bigserial PRIMARY KEY,
    point_id       uuid        NOT NULL,
    item           text        NOT NULL,
    move           text        NOT NULL,          -- received, allocated, delivered, returned
    quantity       numeric(15,3) NOT NULL CHECK (quantity > 0),
    entitlement_id uuid,
    reference      text,
    moved_by       text        NOT NULL,
    moved_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (point_id, item) REFERENCES stock (point_id, item)
);
CREATE INDEX stock_moves_point ON stock_moves (point_id, item, id);

CREATE TABLE deliveries (
    id              uuid PRIMARY KEY,
    entitlement_id  uuid        NOT NULL UNIQUE REFERENCES entitlements (id),  -- delivered once
    idempotency_key text        NOT NULL,
    officer_agency  text        NOT NULL,
    recipient_ref   uuid        NOT NULL,
    delivered_at    timestamptz NOT NULL,
    village_code    text        COLLATE "C" NOT NULL,
    latitude        double precision,
    longitude       double precision,
    photo_sha256    text,
    point_id        uuid,
    received_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (officer_agency, idempotency_key)
);
