-- NIK and KK numbers and region codes are ASCII digits and dots: compared
-- byte by byte ("C") they sort and match as before, and building or
-- searching their indexes no longer goes through the locale's string
-- comparison (C.UTF-8 is not treated as "C" before PostgreSQL 17).
ALTER TABLE households ALTER COLUMN kk_number TYPE char(16) COLLATE "C",
                       ALTER COLUMN village_code TYPE text COLLATE "C";
ALTER TABLE members ALTER COLUMN nik TYPE char(16) COLLATE "C",
                    ALTER COLUMN regency_code TYPE text COLLATE "C",
                    ALTER COLUMN village_code TYPE text COLLATE "C";
ALTER TABLE groups ALTER COLUMN village_code TYPE text COLLATE "C";
