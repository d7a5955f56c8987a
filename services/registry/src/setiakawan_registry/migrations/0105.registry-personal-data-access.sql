-- Who read whose personal data, when, why and in what form (UU PDP
-- 27/2022: the controller shows who saw whose data). One row per household
-- (or person) in an answer; written in the request's transaction.
CREATE TABLE personal_data_access (
    id             bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    agency         text        NOT NULL,   -- the agency; for RPC, the calling service
    kind           text        NOT NULL,   -- the agency's kind; 'service' for RPC
    role           text        NOT NULL,   -- the token's role; 'rpc' for RPC
    action         text        NOT NULL,   -- household.read, household.search, match, ...
    disclosure     text        NOT NULL,   -- clear, masked, reference (a match), check (a NIK check)
    household_id   uuid,
    person_ref     uuid,                   -- when one person is concerned
    import_id      uuid,                   -- import.rejections
    region_code    text COLLATE "C" NOT NULL,  -- the household's village (an import's region): the scope
    purpose        text,                   -- X-Purpose
    correlation_id text
);
CREATE INDEX personal_data_access_at ON personal_data_access (at, id);
CREATE INDEX personal_data_access_household ON personal_data_access (household_id, at) WHERE household_id IS NOT NULL;
CREATE INDEX personal_data_access_person ON personal_data_access (person_ref, at) WHERE person_ref IS NOT NULL;
CREATE INDEX personal_data_access_agency ON personal_data_access (agency, at);

-- The upload's header, in the file's order: its rejected rows are shown
-- under the right column names (and masked by them).
ALTER TABLE imports ADD COLUMN header text[];
