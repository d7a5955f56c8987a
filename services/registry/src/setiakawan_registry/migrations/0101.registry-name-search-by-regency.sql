-- Name search keyed by regency only: the province, district and village keys
-- made the GIN index half again as costly to build (the province key alone
-- lists every member); a search scoped to a province looks up its
-- regencies, one scoped below a regency filters the few candidates by village.
DROP INDEX IF EXISTS members_name_search;
ALTER TABLE members DROP COLUMN regions;
CREATE INDEX members_name_search ON members USING gin ((ARRAY[regency_code]), name_norm gin_trgm_ops);
