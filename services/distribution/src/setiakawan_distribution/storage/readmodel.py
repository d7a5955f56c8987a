"""The read models kept from other services' events: households, their
members and groups from the registry, course completions from training."""
from psycopg2.extras import execute_values

#: each eligibility field as SQL over ``households h`` (see rules/eligibility.py)
FACTS = {
    "decile": "h.decile", "status": "h.status", "verified": "(h.status = 'verified')",
    "village_code": "h.village_code", "members": "h.members", "children": "h.children", "elderly": "h.elderly",
    "disabled": "h.disabled",
    "group_kinds": "ARRAY(SELECT DISTINCT g.kind FROM household_members m"
                   " JOIN group_members gm ON gm.person_ref = m.person_ref"
                   " JOIN groups g ON g.group_id = gm.group_id AND g.status = 'active'"
                   " WHERE m.household_id = h.household_id ORDER BY 1)",
    "completed_skills": "ARRAY(SELECT DISTINCT c.skill_area FROM household_members m"
                        " JOIN completions c ON c.person_ref = m.person_ref"
                        " WHERE m.household_id = h.household_id ORDER BY 1)",
}
#: a household no rule makes eligible: inactive, rejected, or merged away
LIVE = "h.status NOT IN ('inactive', 'rejected') AND h.merged_into IS NULL"


#: prepared (the kit's generic plans, made again every 30 s): with no
#: statistics, as where autovacuum is off, a literal list of fifty
#: households is planned as a quarter of the table and read whole
REPLACE_HOUSEHOLDS = (
    "WITH incoming AS (SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    "  AS x(household_id, version, status, decile, village_code, members, children, elderly, disabled, observed_at)),"
    " stored AS (INSERT INTO households (household_id, version, status, decile, village_code, members, children,"
    "  elderly, disabled, observed_at) SELECT * FROM incoming"
    "  ON CONFLICT (household_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
    "  decile = EXCLUDED.decile, village_code = EXCLUDED.village_code, members = EXCLUDED.members,"
    "  children = EXCLUDED.children, elderly = EXCLUDED.elderly, disabled = EXCLUDED.disabled,"
    "  observed_at = EXCLUDED.observed_at WHERE households.version < EXCLUDED.version RETURNING household_id)"
    # the statement's snapshot is from before the upsert: households shows the village each was in
    " SELECT s.household_id, (SELECT h.village_code FROM households h WHERE h.household_id = s.household_id)"
    "  AS previous_village FROM stored s")
REPLACE_TYPES = ("uuid[]", "int[]", "text[]", "smallint[]", "text[]", "smallint[]", "smallint[]", "smallint[]",
                 "smallint[]", "timestamptz[]")
FORGET_MEMBERS = "DELETE FROM household_members WHERE household_id = ANY($1)"
STORE_MEMBERS = ("INSERT INTO household_members (household_id, person_ref, age, relationship)"
                 " SELECT * FROM unnest($1, $2, $3, $4)")


def replace_households(uow, snapshots, observed_at):
    """Store each household snapshot (one per household) and its members
    where it is newer than the one held; returns {household_id: the
    village it was in before, None if new} of those stored."""
    columns = ([str(s["household_id"]) for s in snapshots], [s["version"] for s in snapshots],
               [s["status"] for s in snapshots], [s["decile"] for s in snapshots],
               [s["village_code"] for s in snapshots], [s["size"] for s in snapshots],
               [s["children"] for s in snapshots], [s["elderly"] for s in snapshots],
               [s["disabled"] for s in snapshots], list(observed_at))
    rows = uow.prepared("distribution_replace_households", REPLACE_HOUSEHOLDS, REPLACE_TYPES, columns).fetchall()
    replaced = {str(r["household_id"]): r["previous_village"] for r in rows}
    if not replaced:
        return replaced
    # sent with the next statement: nothing reads their result
    held_before = [household_id for household_id, village in replaced.items() if village is not None]
    if held_before:
        uow.prepared_later("distribution_forget_members", FORGET_MEMBERS, ("uuid[]",), (held_before,))
    members = [(str(s["household_id"]), m) for s in snapshots if str(s["household_id"]) in replaced
               for m in s["members"]]
    if members:
        uow.prepared_later("distribution_store_members", STORE_MEMBERS, ("uuid[]", "uuid[]", "smallint[]", "text[]"),
                           ([h for h, _ in members], [str(m["person_ref"]) for _, m in members],
                            [m["age"] for _, m in members], [m["relationship"] for _, m in members]))
    return replaced


def mark_merged(uow, merged_id, into_id):
    """A household merged away as a duplicate; whatever its snapshot says
    later, it is never eligible again. One not seen yet is held as a
    placeholder, so a late snapshot of it cannot make it live."""
    uow.execute(
        "INSERT INTO households (household_id, version, status, village_code, members, children, elderly, disabled,"
        " merged_into, observed_at) VALUES (%s, 0, 'inactive', '', 0, 0, 0, 0, %s, now())"
        " ON CONFLICT (household_id) DO UPDATE SET merged_into = EXCLUDED.merged_into",
        (str(merged_id), str(into_id)))


def replace_group(uow, snapshot):
    row = uow.fetchone(
        "INSERT INTO groups (group_id, version, kind, village_code, status)"
        " VALUES (%(group_id)s, %(version)s, %(kind)s, %(village_code)s, %(status)s)"
        " ON CONFLICT (group_id) DO UPDATE SET version = EXCLUDED.version, kind = EXCLUDED.kind,"
        " village_code = EXCLUDED.village_code, status = EXCLUDED.status"
        " WHERE groups.version < EXCLUDED.version RETURNING group_id", snapshot)
    if row is None:
        return False
    uow.execute("DELETE FROM group_members WHERE group_id = %s", (str(snapshot["group_id"]),))
    if snapshot["member_refs"]:
        execute_values(uow.cursor, "INSERT INTO group_members (group_id, person_ref) VALUES %s",
                       [(str(snapshot["group_id"]), str(ref)) for ref in snapshot["member_refs"]])
    return True


def add_completion(uow, data):
    """Returns whether the completion is new (a redelivered event is not)."""
    return uow.fetchone(
        "INSERT INTO completions (person_ref, course_id, skill_area, provider_agency, finished_on)"
        " VALUES (%(person_ref)s, %(course_id)s, %(skill_area)s, %(provider_agency)s, %(finished_on)s)"
        " ON CONFLICT DO NOTHING RETURNING person_ref", data) is not None


def households_of_people(uow, person_refs):
    return [str(r["household_id"]) for r in uow.fetchall(
        "SELECT DISTINCT household_id FROM household_members WHERE person_ref = ANY(%s::uuid[])",
        ([str(p) for p in person_refs],))]


def group_member_refs(uow, group_id):
    return {str(r["person_ref"]) for r in uow.fetchall(
        "SELECT person_ref FROM group_members WHERE group_id = %s", (str(group_id),))}


_FACT_COLUMNS = ", ".join(f"{sql} AS {name}" for name, sql in FACTS.items())


def household_facts(uow, household_id):
    """The household as a rule reads it (``FACTS``), with whether it is
    live, or None if unknown."""
    return uow.fetchone(f"SELECT h.household_id, h.village_code AS village, ({LIVE}) AS live, {_FACT_COLUMNS}"
                        " FROM households h WHERE h.household_id = %s", (str(household_id),))


def group(uow, group_id):
    return uow.fetchone("SELECT * FROM groups WHERE group_id = %s", (str(group_id),))
