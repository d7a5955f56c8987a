-- An agency's saved mappings from its exports' headers and codes to the import's columns.
CREATE TABLE import_mappings (
    agency     text        NOT NULL,
    name       text        NOT NULL,
    document   jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency, name)
);
