"""The registry's SQL. Every function takes the unit of work it runs in."""
import json

from psycopg2.extras import Json, execute_values

from setiakawan_kit.auth import region_patterns

from .rules.regions import regencies_covering

HOUSEHOLD_COLUMNS = ("id", "kk_number", "street", "rt", "rw", "village_code", "indicators", "welfare_score",
                     "decile", "status", "registering_agency", "legal_basis", "consent_date", "consent_recorded_by")
MEMBER_COLUMNS = ("id", "household_id", "nik", "name", "name_norm", "birth_date", "sex", "relationship",
                  "disability", "occupation", "education", "phone", "regency_code", "village_code")


def _scope(regions):
    """The two parameters of an optional scope test
    ``(%s::text[] IS NULL OR code LIKE ANY(%s::text[]))``."""
    patterns = None if regions is None else region_patterns(regions)
    return patterns, patterns


# -- households ---------------------------------------------------------------
def insert_household(uow, row):
    values = [Json(row[c]) if c == "indicators" else row[c] for c in HOUSEHOLD_COLUMNS]
    uow.execute(f"INSERT INTO households ({', '.join(HOUSEHOLD_COLUMNS)})"
                f" VALUES ({', '.join(['%s'] * len(HOUSEHOLD_COLUMNS))})", values)


def household(uow, household_id, lock=False):
    return uow.fetchone("SELECT * FROM households WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                        (str(household_id),))


def household_by_kk(uow, kk_number):
    return uow.fetchone("SELECT id, village_code FROM households WHERE kk_number = %s AND merged_into IS NULL",
                        (kk_number,))


def households_by_kk(uow, kk_numbers, regions=None):
    """Current households with these KK numbers (within ``regions`` if given)."""
    return uow.fetchall("SELECT id, kk_number, village_code FROM households"
                        " WHERE kk_number = ANY(%s) AND merged_into IS NULL"
                        " AND (%s::text[] IS NULL OR village_code LIKE ANY(%s::text[]))",
                        (list(kk_numbers), *_scope(regions)))


def update_household(uow, household_id, **fields):
    """Set fields, bump the version; returns the updated row."""
    assignments = ", ".join(f"{name} = %s" for name in fields)
    values = [Json(v) if name == "indicators" else v for name, v in fields.items()]
    return uow.fetchone(f"UPDATE households SET {assignments}{', ' if fields else ''}version = version + 1,"
                        " updated_at = now() WHERE id = %s RETURNING *", (*values, str(household_id)))


def households_due(uow, regions, before, limit, offset):
    return uow.fetchall(
        "SELECT id, village_code, status, verified_at, reverify_due FROM households"
        " WHERE status = 'verified' AND reverify_due <= %s AND village_code LIKE ANY(%s)"
        " ORDER BY reverify_due, id LIMIT %s OFFSET %s",
        (before, region_patterns(regions), limit, offset))


# -- members ------------------------------------------------------------------
def insert_members(uow, rows):
    execute_values(uow.cursor, f"INSERT INTO members ({', '.join(MEMBER_COLUMNS)}) VALUES %s",
                   [[row[c] for c in MEMBER_COLUMNS] for row in rows])


def members_of(uow, household_id):
    return uow.fetchall("SELECT * FROM members WHERE household_id = %s AND removed_at IS NULL"
                        " ORDER BY relationship <> 'head', birth_date, id", (str(household_id),))


def member(uow, member_id):
    return uow.fetchone("SELECT * FROM members WHERE id = %s", (str(member_id),))


def members_by_nik(uow, niks, regions=None):
    """Current members with these NIKs (within ``regions`` if given)."""
    return uow.fetchall("SELECT m.id, m.nik, m.household_id, m.village_code FROM members m"
                        " WHERE m.nik = ANY(%s) AND m.removed_at IS NULL"
                        " AND (%s::text[] IS NULL OR m.village_code LIKE ANY(%s::text[]))",
                        (list(niks), *_scope(regions)))


def update_member(uow, member_id, **fields):
    assignments = ", ".join(f"{name} = %s" for name in fields)
    return uow.fetchone(f"UPDATE members SET {assignments} WHERE id = %s RETURNING *",
                        (*fields.values(), str(member_id)))


def remove_member(uow, member_id, reason):
    uow.execute("UPDATE members SET removed_at = now(), removal_reason = %s WHERE id = %s",
                (reason, str(member_id)))


def move_members(uow, household_id, village_code):
    uow.execute("UPDATE members SET village_code = %s, regency_code = %s"
                " WHERE household_id = %s AND removed_at IS NULL",
                (village_code, village_code[:5], str(household_id)))


# members n that look like members o: other NIK and household, same birth
# date and regency, similar name (rules.duplicates)
_LOOKALIKES = (
    "SELECT n.id AS member_id, o.id AS other_id, similarity(n.name_norm, o.name_norm) AS similarity,"
    "       n.village_code, o.village_code AS other_village_code"
    "  FROM members n JOIN members o"
    "    ON o.birth_date = n.birth_date AND o.regency_code = n.regency_code AND o.nik <> n.nik"
    "   AND o.household_id <> n.household_id AND o.removed_at IS NULL"
    " WHERE {which}"
    # the names' similarity (their trigrams) is the dear test: inside CASE it
    # comes after the pair test, which PostgreSQL would otherwise put later
    "   AND CASE WHEN {pair} THEN similarity(n.name_norm, o.name_norm) >= %(threshold)s ELSE false END")


def likely_duplicates(uow, member_ids, threshold):
    """Current members resembling the given ones."""
    return uow.fetchall(_LOOKALIKES.format(which="n.id = ANY(%(ids)s::uuid[])", pair="true"),
                        {"ids": [str(i) for i in member_ids], "threshold": threshold})


def likely_duplicates_in_range(uow, low, high, threshold):
    """Current members resembling those whose ids lie between ``low`` and
    ``high`` (a bulk import's), each pair once: against any member outside
    the range, and within it against lower ids (earlier lines)."""
    return uow.fetchall(
        _LOOKALIKES.format(which="n.id BETWEEN %(low)s::uuid AND %(high)s::uuid AND n.removed_at IS NULL",
                           pair="o.id < n.id OR o.id NOT BETWEEN %(low)s::uuid AND %(high)s::uuid"),
        {"low": low, "high": high, "threshold": threshold})


def search_by_nik(uow, nik, regions):
    return uow.fetchall(
        "SELECT m.id AS person_ref, m.household_id, m.name, m.nik, m.birth_date, m.sex, m.village_code,"
        "       h.status FROM members m JOIN households h ON h.id = m.household_id"
        " WHERE m.nik = %s AND m.removed_at IS NULL AND m.village_code LIKE ANY(%s)",
        (nik, region_patterns(regions)))


def search_by_name(uow, name_norm, regions, status, limit, offset):
    """Members whose name resembles ``name_norm`` (trigram word similarity),
    best first, within the regions. The name-search index is keyed by
    regency (a province is looked up as its regencies); the village code
    then holds the few candidates to the regions themselves."""
    regencies = sorted({r for code in regions for r in regencies_covering(code)})
    return uow.fetchall(
        "SELECT m.id AS person_ref, m.household_id, m.name, m.nik, m.birth_date, m.sex, m.village_code,"
        "       h.status, word_similarity(%(q)s, m.name_norm) AS score"
        "  FROM members m JOIN households h ON h.id = m.household_id"
        " WHERE ARRAY[m.regency_code] && %(regencies)s::text[] AND %(q)s <%% m.name_norm"
        "   AND m.village_code LIKE ANY(%(patterns)s) AND m.removed_at IS NULL"
        "   AND (%(status)s::text IS NULL OR h.status = %(status)s)"
        " ORDER BY score DESC, m.name_norm, m.id LIMIT %(limit)s OFFSET %(offset)s",
        {"q": name_norm, "regencies": regencies, "patterns": region_patterns(regions), "status": status,
         "limit": limit, "offset": offset})


def contact(uow, person_ref):
    return uow.fetchone("SELECT id, household_id, name, phone, village_code FROM members"
                        " WHERE id = %s::uuid AND removed_at IS NULL", (str(person_ref),))


def contacts(uow, person_refs):
    return uow.fetchall("SELECT id, household_id, name, phone, village_code FROM members"
                        " WHERE id = ANY(%s::uuid[]) AND removed_at IS NULL", (list(person_refs),))


def nik_check(uow, nik, person_ref):
    """The current member ``person_ref`` (household, village) and whether
    ``nik`` is theirs; None for no such member."""
    return uow.fetchone("SELECT id, household_id, village_code, nik = %s AS matches FROM members"
                        " WHERE id = %s::uuid AND removed_at IS NULL", (str(nik), str(person_ref)))


def nik_checks(uow, asked):
    """Of ``asked`` [(position, person_ref, nik)], the current members
    (household, village) with their position and whether the NIK is theirs."""
    positions, refs, niks = (list(column) for column in zip(*asked))
    return uow.fetchall("SELECT m.id, m.household_id, m.village_code, m.nik = c.nik AS matches, c.position"
                        " FROM unnest(%s::int[], %s::uuid[], %s::text[]) AS c(position, id, nik)"
                        " JOIN members m ON m.id = c.id AND m.removed_at IS NULL", (positions, refs, niks))


# -- history ------------------------------------------------------------------
def record(uow, entity, entity_id, household_id, action, identity, changes):
    uow.execute("INSERT INTO history (entity, entity_id, household_id, action, agency, role, changes)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (entity, str(entity_id), str(household_id) if household_id else None, action,
                 identity.agency, identity.role, Json(changes, dumps=_dumps)))


def history(uow, entity_id, limit, offset):
    """The changes of a household (its members' included) or a group,
    oldest first. A household registered by a bulk import has one entry for
    it, made from the import's own record rather than stored once per
    household."""
    return uow.fetchall(
        "SELECT entity, entity_id, action, agency, role, changes, at FROM ("
        "  SELECT 0 AS id, 'household' AS entity, h.id AS entity_id, 'imported' AS action, i.agency, i.role,"
        "         jsonb_build_object('import_id', i.id, 'filename', i.filename) AS changes, h.created_at AS at"
        "    FROM households h JOIN imports i ON i.id = h.import_id WHERE h.id = %(id)s"
        "  UNION ALL"
        "  SELECT id, entity, entity_id, action, agency, role, changes, at FROM history"
        "   WHERE household_id = %(id)s OR entity_id = %(id)s"
        ") entries ORDER BY id LIMIT %(limit)s OFFSET %(offset)s",
        {"id": str(entity_id), "limit": limit, "offset": offset})


# -- duplicates ---------------------------------------------------------------
def insert_candidates(uow, candidates, reason_for):
    if not candidates:
        return 0
    execute_values(uow.cursor,
                   "INSERT INTO duplicate_candidates (id, member_id, other_id, similarity, reason, village_code,"
                   " other_village_code) VALUES %s ON CONFLICT DO NOTHING",
                   [(c["id"], str(c["member_id"]), str(c["other_id"]), c["similarity"], reason_for(c["similarity"]),
                     c["village_code"], c["other_village_code"]) for c in candidates])
    return uow.cursor.rowcount


def candidates(uow, regions, status, limit, offset):
    """Candidates either of whose members lies in the regions, with both
    members' identifying details."""
    patterns = region_patterns(regions)
    return uow.fetchall(
        "SELECT d.*, m.household_id, o.household_id AS other_household_id,"
        "       m.name AS member_name, m.nik AS member_nik, m.birth_date AS member_birth_date,"
        "       m.sex AS member_sex, m.village_code AS member_village,"
        "       o.name AS other_name, o.nik AS other_nik, o.birth_date AS other_birth_date,"
        "       o.sex AS other_sex, o.village_code AS other_village"
        "  FROM duplicate_candidates d"
        " JOIN members m ON m.id = d.member_id JOIN members o ON o.id = d.other_id"
        " WHERE d.status = %s AND (d.village_code LIKE ANY(%s) OR d.other_village_code LIKE ANY(%s))"
        " ORDER BY d.created_at, d.id LIMIT %s OFFSET %s", (status, patterns, patterns, limit, offset))


def candidate(uow, candidate_id, lock=False):
    return uow.fetchone("SELECT * FROM duplicate_candidates WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                        (str(candidate_id),))


def resolve_candidate(uow, candidate_id, status, agency, note):
    uow.execute("UPDATE duplicate_candidates SET status = %s, resolved_by = %s, resolved_at = now(),"
                " resolution_note = %s WHERE id = %s", (status, agency, note, str(candidate_id)))


# -- groups -------------------------------------------------------------------
def insert_group(uow, row):
    uow.execute("INSERT INTO groups (id, name, kind, village_code, registering_agency) VALUES (%s, %s, %s, %s, %s)",
                (row["id"], row["name"], row["kind"], row["village_code"], row["registering_agency"]))


def group(uow, group_id, lock=False):
    return uow.fetchone("SELECT * FROM groups WHERE id = %s" + (" FOR UPDATE" if lock else ""), (str(group_id),))


def update_group(uow, group_id, **fields):
    assignments = "".join(f"{name} = %s, " for name in fields)
    return uow.fetchone(f"UPDATE groups SET {assignments}version = version + 1, updated_at = now()"
                        " WHERE id = %s RETURNING *", (*fields.values(), str(group_id)))


def group_member_refs(uow, group_id):
    return [r["person_ref"] for r in uow.fetchall(
        "SELECT person_ref FROM group_members WHERE group_id = %s ORDER BY person_ref", (str(group_id),))]


def set_group_members(uow, group_id, person_refs):
    uow.execute("DELETE FROM group_members WHERE group_id = %s", (str(group_id),))
    if person_refs:
        execute_values(uow.cursor, "INSERT INTO group_members (group_id, person_ref) VALUES %s",
                       [(str(group_id), str(p)) for p in person_refs])


def current_members(uow, person_refs):
    return uow.fetchall("SELECT id, village_code FROM members WHERE id = ANY(%s::uuid[]) AND removed_at IS NULL",
                        ([str(p) for p in person_refs],))


def groups_in(uow, regions, limit, offset):
    return uow.fetchall("SELECT * FROM groups WHERE village_code LIKE ANY(%s) ORDER BY name, id LIMIT %s OFFSET %s",
                        (region_patterns(regions), limit, offset))


def _dumps(value):
    return json.dumps(value, default=str)


# -- imports -------------------------------------------------------------------
IMPORT_COLUMNS = ("id", "agency", "role", "regions", "filename", "sha256", "total_rows", "header", "delimiter",
                  "dry_run")


def insert_import(uow, row):
    uow.execute(f"INSERT INTO imports ({', '.join(IMPORT_COLUMNS)}, status)"
                f" VALUES ({', '.join(['%s'] * len(IMPORT_COLUMNS))}, 'queued')",
                [row[c] for c in IMPORT_COLUMNS])


def import_states(uow, import_ids):
    return uow.fetchall("SELECT id, status, pid, host FROM imports WHERE id = ANY(%s::uuid[])",
                        ([str(i) for i in import_ids],))


def import_rejections(uow, import_id):
    return uow.fetchall("SELECT line, reason, row_text FROM import_rejections WHERE import_id = %s ORDER BY line",
                        (str(import_id),))


# -- personal data access -------------------------------------------------------
ACCESS_COLUMNS = ("agency", "kind", "role", "action", "disclosure", "household_id", "person_ref", "import_id",
                  "region_code", "purpose", "correlation_id")


def record_access(uow, rows):
    """Log reads of personal data, all in one statement."""
    if rows:
        execute_values(uow.cursor, f"INSERT INTO personal_data_access ({', '.join(ACCESS_COLUMNS)}) VALUES %s",
                       [[_text(row.get(c)) for c in ACCESS_COLUMNS] for row in rows], page_size=len(rows))
    return len(rows)


def access_log(uow, regions, household_id, person_ref, agency, since, until, limit, offset):
    """Entries of the access log in the regions, newest first."""
    return uow.fetchall(
        "SELECT id, at, agency, kind, role, action, disclosure, household_id, person_ref, import_id,"
        "       region_code, purpose, correlation_id FROM personal_data_access"
        " WHERE region_code LIKE ANY(%(patterns)s)"
        "   AND (%(household)s::uuid IS NULL OR household_id = %(household)s::uuid)"
        "   AND (%(person)s::uuid IS NULL OR person_ref = %(person)s::uuid)"
        "   AND (%(agency)s::text IS NULL OR agency = %(agency)s)"
        "   AND (%(since)s::timestamptz IS NULL OR at >= %(since)s)"
        "   AND (%(until)s::timestamptz IS NULL OR at < %(until)s)"
        " ORDER BY at DESC, id DESC LIMIT %(limit)s OFFSET %(offset)s",
        {"patterns": region_patterns(regions), "household": _text(household_id), "person": _text(person_ref),
         "agency": agency, "since": since, "until": until, "limit": limit, "offset": offset})


def match_usage(uow, agency, keep_seconds):
    """The agency's matches per minute (those older than ``keep_seconds``
    deleted), and the database's clock; holds the agency's lock until the
    transaction ends, so replicas count one after another."""
    uow.execute("SELECT pg_advisory_xact_lock(hashtextextended('match_usage:' || %s, 0))", (agency,))
    uow.execute("DELETE FROM match_usage WHERE agency = %s AND minute <= now() - make_interval(secs => %s)",
                (agency, keep_seconds))
    used = uow.fetchall("SELECT minute, numbers FROM match_usage WHERE agency = %s", (agency,))
    return [(r["minute"], r["numbers"]) for r in used], uow.fetchone("SELECT now() AS now")["now"]


def add_match_usage(uow, agency, numbers):
    uow.execute("INSERT INTO match_usage (agency, minute, numbers) VALUES (%s, date_trunc('minute', now()), %s)"
                " ON CONFLICT (agency, minute) DO UPDATE SET numbers = match_usage.numbers + EXCLUDED.numbers",
                (agency, numbers))


def _text(value):
    return None if value is None else str(value)


# -- bulk loads -------------------------------------------------------------------
# The indexes a large import may drop while it loads and build afterwards
# (building one is several times cheaper than inserting a million entries
# one by one). None of them guards a rule: the primary keys and the unique
# NIK and KK indexes stay in place throughout.
BULK_LOAD_INDEXES = {
    "members_household": "CREATE INDEX IF NOT EXISTS members_household ON members (household_id)",
    "members_lookalike": "CREATE INDEX IF NOT EXISTS members_lookalike ON members (birth_date, regency_code)",
    "households_village": "CREATE INDEX IF NOT EXISTS households_village ON households (village_code)",
    "members_name_search": "CREATE INDEX IF NOT EXISTS members_name_search ON members"
                           " USING gin ((ARRAY[regency_code]), name_norm gin_trgm_ops)",
}
MEMBERS_HOUSEHOLD_FK = "members_household_id_fkey"
BULK_LOCK = 0x5e71a4a  # advisory lock held by whoever has them dropped or is building them
BUILD_MEMORY = "512MB"  # maintenance_work_mem while building them (the GIN index gains most)


def drop_bulk_load_indexes(cursor):
    cursor.execute(f"ALTER TABLE members DROP CONSTRAINT IF EXISTS {MEMBERS_HOUSEHOLD_FK}")
    for name in BULK_LOAD_INDEXES:
        cursor.execute(f"DROP INDEX IF EXISTS {name}")


def build_bulk_load_indexes(cursor, names=None):
    """Build those of the bulk-load indexes (and the members → households
    foreign key) that are missing; harmless when all are there."""
    cursor.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'")
    for name in names or BULK_LOAD_INDEXES:
        if name in BULK_LOAD_INDEXES:
            cursor.execute(BULK_LOAD_INDEXES[name])
    if names is None or MEMBERS_HOUSEHOLD_FK in names:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", (MEMBERS_HOUSEHOLD_FK,))
        if cursor.fetchone() is None:
            cursor.execute(f"ALTER TABLE members ADD CONSTRAINT {MEMBERS_HOUSEHOLD_FK}"
                           " FOREIGN KEY (household_id) REFERENCES households (id)")
    cursor.execute("RESET maintenance_work_mem")


def missing_bulk_load_indexes(cursor):
    cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", (list(BULK_LOAD_INDEXES),))
    present = {r[0] for r in cursor.fetchall()}
    cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", (MEMBERS_HOUSEHOLD_FK,))
    missing = [n for n in BULK_LOAD_INDEXES if n not in present]
    return missing + ([] if cursor.fetchone() else [MEMBERS_HOUSEHOLD_FK])


# -- import mappings ----------------------------------------------------------------------------------------------

def save_import_mapping(uow, agency, name, document):
    uow.execute("INSERT INTO import_mappings (agency, name, document) VALUES (%s, %s, %s)"
                " ON CONFLICT (agency, name) DO UPDATE SET document = EXCLUDED.document, updated_at = now()",
                (agency, name, Json(document)))


def import_mappings(uow, agency):
    return uow.fetchall("SELECT name, document FROM import_mappings WHERE agency = %s ORDER BY name", (agency,))


def import_mapping(uow, agency, name):
    return uow.fetchone("SELECT name, document FROM import_mappings WHERE agency = %s AND name = %s",
                        (agency, name))
