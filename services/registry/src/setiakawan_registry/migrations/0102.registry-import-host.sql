-- The host whose service started an import's process: only there does a
-- missing process id mean the importer died.
ALTER TABLE imports ADD COLUMN host text;
