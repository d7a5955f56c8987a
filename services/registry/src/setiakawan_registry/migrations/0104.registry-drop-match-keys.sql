-- Events no longer carry keyed hashes of KK numbers and NIKs (kk_match,
-- nik_match): whoever holds the key gets the numbers back by trying the
-- few million a NIK's structure leaves. Nothing else read them, and no
-- index was built on them.
ALTER TABLE households DROP COLUMN kk_match;
ALTER TABLE members DROP COLUMN nik_match;
