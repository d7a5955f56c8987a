-- The coordination read model: what the registry, training and distribution
-- services published, kept per record at its highest snapshot version (an
-- older or repeated event changes nothing). No name, no NIK: households and
-- people are the registry's opaque references. Region codes are compared as
-- bytes (COLLATE "C"), so "village_code LIKE '62.13.%'" uses the index.

CREATE TABLE households (
    household_id  uuid PRIMARY KEY,
    version       integer  NOT NULL,             -- 0: known only as merged away, no snapshot seen yet
    status        text     NOT NULL,
    decile        smallint NOT NULL,
    village_code  text     COLLATE "C" NOT NULL,
    size          smallint NOT NULL,
    merged_into   uuid                           -- merged away into this household: counted nowhere
);
CREATE INDEX households_village ON households (village_code);

CREATE TABLE programmes (
    programme_id    uuid PRIMARY KEY,
    version         integer NOT NULL,
    agency          text    NOT NULL,
    partners        text[]  NOT NULL,
    funding_source  text    NOT NULL,
    name            text    NOT NULL,
    kind            text    NOT NULL,
    category        text    NOT NULL,
    region_codes    text[]  COLLATE "C" NOT NULL,
    starts_on       date    NOT NULL,
    ends_on         date    NOT NULL,
    status          text    NOT NULL,
    quota           integer,
    budget          bigint
);

CREATE TABLE entitlements (
    entitlement_id     uuid PRIMARY KEY,
    version            integer NOT NULL,
    programme_id       uuid    NOT NULL,
    programme_name     text    NOT NULL,
    agency             text    NOT NULL,
    kind               text    NOT NULL,
    category           text    NOT NULL,
    beneficiary_kind   text    NOT NULL,         -- household or group
    beneficiary_id     uuid    NOT NULL,
    village_code       text    COLLATE "C" NOT NULL,
    starts_on          date    NOT NULL,
    ends_on            date    NOT NULL,
    status             text    NOT NULL,         -- issued, delivered, revoked, blocked
    amount             bigint,
    delivered_at       timestamptz,
    blocked_by_agency  text,                     -- the agency whose benefit the ledger kept instead
    blocked_by_programme_id uuid
);
CREATE INDEX entitlements_village ON entitlements (village_code);
CREATE INDEX entitlements_beneficiary ON entitlements (beneficiary_id);

CREATE TABLE courses (
    course_id        uuid PRIMARY KEY,
    version          integer NOT NULL,
    provider_agency  text    NOT NULL,
    partners         text[]  NOT NULL,
    title            text    NOT NULL,
    skill_area       text    NOT NULL,
    region_codes     text[]  COLLATE "C" NOT NULL,
    first_session_at timestamptz,
    last_session_at  timestamptz,
    capacity         integer NOT NULL,
    status           text    NOT NULL
);

CREATE TABLE enrolments (
    enrolment_id     uuid PRIMARY KEY,
    version          integer NOT NULL,
    course_id        uuid    NOT NULL,
    provider_agency  text    NOT NULL,
    skill_area       text    NOT NULL,
    person_ref       uuid    NOT NULL,
    household_id     uuid    NOT NULL,
    village_code     text    COLLATE "C" NOT NULL,
    first_session_at timestamptz,
    status           text    NOT NULL
);
CREATE INDEX enrolments_village ON enrolments (village_code);
CREATE INDEX enrolments_household ON enrolments (household_id);

-- a participant's result is final (published once per enrolment): the first one seen stays
CREATE TABLE results (
    enrolment_id     uuid PRIMARY KEY,
    course_id        uuid    NOT NULL,
    provider_agency  text    NOT NULL,
    skill_area       text    NOT NULL,
    person_ref       uuid    NOT NULL,
    household_id     uuid    NOT NULL,
    village_code     text    COLLATE "C" NOT NULL,
    finished_on      date    NOT NULL,
    completed        boolean NOT NULL
);
CREATE INDEX results_village ON results (village_code);

-- every event applied, as it came: the read model is rebuilt from it (POST /read-model/rebuild)
CREATE TABLE event_log (
    seq       bigserial PRIMARY KEY,
    event_id  text        NOT NULL UNIQUE,
    source    text        NOT NULL,
    type      text        NOT NULL,
    time      timestamptz,
    data      jsonb       NOT NULL
);
