-- A dry run checks a list as an import would and stores its counts and
-- rejections, but no household, member or event.
ALTER TABLE imports ADD COLUMN dry_run boolean NOT NULL DEFAULT false;
