-- Courses, sessions, enrolments, attendance, certificates; and the read
-- model of people and groups kept from the registry's events (no name, no
-- NIK: a person is the registry's opaque reference).

CREATE TABLE households (
    household_id  uuid PRIMARY KEY,
    version       integer     NOT NULL,          -- the registry's snapshot version: only a higher one replaces it
    status        text        NOT NULL,
    decile        smallint    NOT NULL,
    village_code  text        COLLATE "C" NOT NULL,
    observed_at   timestamptz NOT NULL           -- the snapshot event's time: which of two households is current
);

CREATE TABLE household_members (
    household_id  uuid        NOT NULL REFERENCES households (household_id) ON DELETE CASCADE,
    person_ref    uuid        NOT NULL,
    age           smallint    NOT NULL,
    sex           char(1)     NOT NULL,
    PRIMARY KEY (household_id, person_ref)
);
CREATE INDEX household_members_person ON household_members (person_ref);

CREATE TABLE removed_people (
    person_ref    uuid PRIMARY KEY,                -- removed by the registry for good (died, a duplicate)
    reason        text        NOT NULL,
    removed_at    timestamptz NOT NULL DEFAULT now()
);

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

CREATE TABLE courses (
    id                    uuid PRIMARY KEY,
    version               integer     NOT NULL DEFAULT 1,
    series_id             uuid        NOT NULL,        -- the same course run in several places: its first run's id
    provider_agency       text        NOT NULL,
    provider_kind         text        NOT NULL,
    partners              text[]      NOT NULL DEFAULT '{}',
    title                 text        NOT NULL,
    skill_area            text        NOT NULL,
    mode                  text        NOT NULL,
    region_codes          text[]      COLLATE "C" NOT NULL,
    capacity              integer     NOT NULL,
    eligibility           jsonb       NOT NULL,
    min_attendance_share  numeric(4,3) NOT NULL,
    assessment_required   boolean     NOT NULL,
    funding_source        text,
    status                text        NOT NULL DEFAULT 'draft',
    starts_at             timestamptz,
    ends_at               timestamptz,
    confirmed             integer     NOT NULL DEFAULT 0,   -- seats held (kept under the course's row lock)
    waitlisted            integer     NOT NULL DEFAULT 0,
    created_by            text        NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    published_at          timestamptz,
    started_at            timestamptz,
    finished_at           timestamptz,
    finished_on           date,
    cancelled_at          timestamptz,
    cancel_reason         text
);
CREATE INDEX courses_regions ON courses USING gin (region_codes);
CREATE INDEX courses_provider ON courses (provider_agency);
CREATE INDEX courses_series ON courses (series_id);

CREATE TABLE sessions (
    id                  uuid PRIMARY KEY,
    course_id           uuid        NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    seq                 smallint    NOT NULL,
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz NOT NULL,
    venue_village_code  text        COLLATE "C" NOT NULL,
    venue               text        NOT NULL DEFAULT '',
    UNIQUE (course_id, seq)
);

CREATE TABLE enrolments (
    id                 uuid PRIMARY KEY,
    course_id          uuid        NOT NULL REFERENCES courses (id),
    person_ref         uuid        NOT NULL,
    household_id       uuid        NOT NULL,
    village_code       text        COLLATE "C" NOT NULL,   -- where the person lived at enrolment: reports
    age                smallint    NOT NULL,
    sex                char(1)     NOT NULL,
    group_id           uuid,
    status             text        NOT NULL,
    version            integer     NOT NULL DEFAULT 1,
    queue_seq          bigserial,                          -- arrival order: the waitlist's order
    requested_by       text        NOT NULL,
    requested_at       timestamptz NOT NULL DEFAULT now(),
    confirmed_at       timestamptz,
    ended_at           timestamptz,
    end_reason         text,
    end_detail         text,
    assessment_passed  boolean,
    attendance_share   numeric(4,3),
    result_reasons     text[]
);
-- one live enrolment per person and course (a cancelled one may be followed by another)
CREATE UNIQUE INDEX enrolments_once ON enrolments (course_id, person_ref) WHERE status <> 'cancelled';
CREATE INDEX enrolments_course ON enrolments (course_id, status, queue_seq);
CREATE INDEX enrolments_person ON enrolments (person_ref) WHERE status IN ('confirmed', 'waitlisted');

CREATE TABLE attendance_marks (
    mark_id        uuid PRIMARY KEY,                 -- made by the trainer's device: a sheet sent twice records once
    session_id     uuid        NOT NULL REFERENCES sessions (id),
    enrolment_id   uuid        NOT NULL REFERENCES enrolments (id),
    present        boolean     NOT NULL,
    recorded_at    timestamptz NOT NULL,             -- on the device, when the trainer marked it
    received_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    recorded_by    text        NOT NULL,
    note           text        NOT NULL DEFAULT '',
    seq            bigserial
);
-- the current mark of a participant in a session is the one marked last on the device
CREATE INDEX attendance_current ON attendance_marks (enrolment_id, session_id, recorded_at DESC, seq DESC);

CREATE TABLE certificates (
    code          text PRIMARY KEY,
    enrolment_id  uuid        NOT NULL UNIQUE REFERENCES enrolments (id),
    course_id     uuid        NOT NULL REFERENCES courses (id),
    issued_on     date        NOT NULL
);
