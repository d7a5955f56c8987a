-- The figures of a region, period and decile, kept for the state of the read model they were
-- counted in: every batch of events applied adds one to read_model_state.changes (in its own
-- transaction, so a count sees only what committed), and figures of an older state are counted again.
CREATE TABLE read_model_state (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    changes   bigint  NOT NULL
);
INSERT INTO read_model_state VALUES (true, 0);

CREATE TABLE figures_kept (
    key         text        PRIMARY KEY,        -- region|period|gap decile
    changes     bigint      NOT NULL,
    counted_at  timestamptz NOT NULL DEFAULT now(),
    report      jsonb       NOT NULL
);
