-- Households (keluarga), members, groups, their history, duplicate
-- candidates and imports. Personal data lives here and nowhere else.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE households (
    id                  uuid PRIMARY KEY,
    kk_number           char(16)    NOT NULL,
    kk_match            char(64)    NOT NULL,
    street              text        NOT NULL DEFAULT '',
    rt                  text        NOT NULL DEFAULT '',
    rw                  text        NOT NULL DEFAULT '',
    village_code        text        NOT NULL,
    indicators          jsonb       NOT NULL,
    welfare_score       numeric(5,2) NOT NULL,
    decile              smallint    NOT NULL,
    status              text        NOT NULL,
    registering_agency  text        NOT NULL,
    legal_basis         text        NOT NULL,
    consent_date        date,
    consent_recorded_by text,
    verified_at         timestamptz,
    verified_by         text,
    verification_notes  text,
    reverify_due        date,
    merged_into         uuid REFERENCES households (id),
    import_id           uuid,          -- the bulk import that registered it (its history entry)
    version             integer     NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX households_kk ON households (kk_number) WHERE merged_into IS NULL;
CREATE INDEX households_village ON households (village_code);

CREATE TABLE members (
    id            uuid PRIMARY KEY,              -- the person reference other services hold
    household_id  uuid        NOT NULL REFERENCES households (id),
    nik           char(16)    NOT NULL,
    nik_match     char(64)    NOT NULL,
    name          text        NOT NULL,
    name_norm     text        NOT NULL,
    birth_date    date        NOT NULL,
    sex           char(1)     NOT NULL,
    relationship  text        NOT NULL,
    disability    text        NOT NULL DEFAULT 'none',
    occupation    text        NOT NULL DEFAULT '',
    education     text        NOT NULL DEFAULT '',
    phone         text,
    regency_code  text        NOT NULL,            -- of the household, for duplicate lookups
    village_code  text        NOT NULL,
    regions       text[]      NOT NULL,            -- {province, regency, district, village}: scope filter
    removed_at    timestamptz,
    removal_reason text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX members_nik ON members (nik) WHERE removed_at IS NULL;
CREATE INDEX members_household ON members (household_id);
CREATE INDEX members_lookalike ON members (birth_date, regency_code);
-- Name search: the region keys and the name's trigrams in one GIN index, so a
-- search intersects "in these regions" with "name like this" inside the index.
CREATE INDEX members_name_search ON members USING gin (regions, name_norm gin_trgm_ops);

CREATE TABLE groups (
    id                 uuid PRIMARY KEY,
    name               text        NOT NULL,
    kind               text        NOT NULL,
    village_code       text        NOT NULL,
    status             text        NOT NULL DEFAULT 'active',
    registering_agency text        NOT NULL,
    version            integer     NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX groups_village ON groups (village_code);

CREATE TABLE group_members (
    group_id   uuid NOT NULL REFERENCES groups (id),
    person_ref uuid NOT NULL REFERENCES members (id),
    role       text NOT NULL DEFAULT 'member',
    PRIMARY KEY (group_id, person_ref)
);

CREATE TABLE history (
    id           bigserial PRIMARY KEY,
    entity       text        NOT NULL,        -- household, member, group
    entity_id    uuid        NOT NULL,
    household_id uuid,
    action       text        NOT NULL,
    agency       text        NOT NULL,
    role         text        NOT NULL,
    changes      jsonb       NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX history_household ON history (household_id, id);
CREATE INDEX history_entity ON history (entity_id, id);

CREATE TABLE duplicate_candidates (
    id           uuid PRIMARY KEY,
    member_id    uuid        NOT NULL REFERENCES members (id),
    other_id     uuid        NOT NULL REFERENCES members (id),
    similarity   real        NOT NULL,
    reason       text        NOT NULL,
    village_code text        NOT NULL,        -- of the newer member, for scoping
    other_village_code text  NOT NULL,
    status       text        NOT NULL DEFAULT 'open',   -- open, merged, dismissed
    resolved_by  text,
    resolved_at  timestamptz,
    resolution_note text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (member_id, other_id)
);
CREATE INDEX duplicate_candidates_open ON duplicate_candidates (status, created_at);

CREATE TABLE imports (
    id                 uuid PRIMARY KEY,
    agency             text        NOT NULL,
    role               text        NOT NULL,
    regions            text[]      NOT NULL,
    filename           text        NOT NULL,
    sha256             char(64)    NOT NULL,
    status             text        NOT NULL,   -- queued, running, completed, failed
    stage              text        NOT NULL DEFAULT 'queued',  -- importing, flagging, done
    pid                integer,
    total_rows         integer     NOT NULL DEFAULT 0,
    processed_rows     integer     NOT NULL DEFAULT 0,
    accepted_rows      integer     NOT NULL DEFAULT 0,
    already_registered integer     NOT NULL DEFAULT 0,
    rejected_rows      integer     NOT NULL DEFAULT 0,
    households_created integer     NOT NULL DEFAULT 0,
    error              text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    finished_at        timestamptz
);

CREATE TABLE import_rejections (
    import_id uuid    NOT NULL REFERENCES imports (id),
    line      integer NOT NULL,
    reason    text    NOT NULL,
    row_text  text    NOT NULL,
    PRIMARY KEY (import_id, line)
);
