-- The delimiter of an uploaded list (comma, semicolon or tab): its rejections
-- file is written with the same one, so that Excel opens it as it opened the list.
ALTER TABLE imports ADD COLUMN delimiter text NOT NULL DEFAULT ',';
