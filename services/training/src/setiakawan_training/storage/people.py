"""The read model of households, people and groups, from the registry's events."""
from psycopg2.extras import execute_values


def replace_household(uow, snapshot, observed_at):
    """Store a household snapshot and its members if it is newer than the
    one held; returns whether it was."""
    row = uow.fetchone(
        "INSERT INTO households (household_id, version, status, decile, village_code, observed_at)"
        " VALUES (%(household_id)s, %(version)s, %(status)s, %(decile)s, %(village_code)s, %(observed_at)s)"
        " ON CONFLICT (household_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        " decile = EXCLUDED.decile, village_code = EXCLUDED.village_code, observed_at = EXCLUDED.observed_at"
        " WHERE households.version < EXCLUDED.version RETURNING household_id",
        dict(snapshot, observed_at=observed_at))
    if row is None:
        return False
    uow.execute("DELETE FROM household_members WHERE household_id = %s", (snapshot["household_id"],))
    if snapshot["members"]:
        execute_values(uow.cursor, "INSERT INTO household_members (household_id, person_ref, age, sex) VALUES %s",
                       [(snapshot["household_id"], m["person_ref"], m["age"], m["sex"]) for m in snapshot["members"]])
    return True


def replace_group(uow, snapshot):
    row = uow.fetchone(
        "INSERT INTO groups (group_id, version, kind, village_code, status)"
        " VALUES (%(group_id)s, %(version)s, %(kind)s, %(village_code)s, %(status)s)"
        " ON CONFLICT (group_id) DO UPDATE SET version = EXCLUDED.version, kind = EXCLUDED.kind,"
        " village_code = EXCLUDED.village_code, status = EXCLUDED.status"
        " WHERE groups.version < EXCLUDED.version RETURNING group_id", snapshot)
    if row is None:
        return False
    uow.execute("DELETE FROM group_members WHERE group_id = %s", (snapshot["group_id"],))
    if snapshot["member_refs"]:
        execute_values(uow.cursor, "INSERT INTO group_members (group_id, person_ref) VALUES %s",
                       [(snapshot["group_id"], ref) for ref in snapshot["member_refs"]])
    return True


# A person listed by two households (moved, merged) belongs to the one not
# inactive, and of those to the one seen last; one the registry removed
# (died, a duplicate merged away) is nobody's. The age is the snapshot's
# plus the whole years since it was taken. Written per person, for a plan
# that looks each one up by index whatever the number asked for.
PERSON_OF = """
SELECT m.person_ref, m.sex, h.household_id, h.village_code, h.decile,
       m.age + floor(extract(epoch FROM now() - h.observed_at) / 31557600)::int AS age,
       h.status AS household_status,
       ARRAY(SELECT DISTINCT g.kind FROM group_members gm JOIN groups g USING (group_id)
              WHERE gm.person_ref = m.person_ref AND g.status = 'active') AS group_kinds
  FROM household_members m JOIN households h USING (household_id)
 WHERE m.person_ref = {person}
   AND NOT EXISTS (SELECT 1 FROM removed_people r WHERE r.person_ref = m.person_ref)
 ORDER BY h.status = 'inactive', h.observed_at DESC
 LIMIT 1
"""

PEOPLE = f"""
SELECT p.* FROM unnest($1::uuid[]) AS wanted(person_ref)
 CROSS JOIN LATERAL ({PERSON_OF.format(person="wanted.person_ref")}) p
"""


def people(uow, person_refs):
    """{person_ref: row} of the people known among ``person_refs``."""
    rows = uow.prepared("training_people", PEOPLE, ("uuid[]",), ([str(p) for p in person_refs],)).fetchall()
    return {str(r["person_ref"]): r for r in rows}


def household_people(uow, household_id):
    return [str(r["person_ref"]) for r in uow.fetchall(
        "SELECT person_ref FROM household_members WHERE household_id = %s", (str(household_id),))]


def group(uow, group_id):
    return uow.fetchone("SELECT * FROM groups WHERE group_id = %s", (str(group_id),))


def group_member_refs(uow, group_id):
    return {str(r["person_ref"]) for r in uow.fetchall(
        "SELECT person_ref FROM group_members WHERE group_id = %s", (str(group_id),))}


def mark_removed(uow, person_refs, reason):
    """People the registry removed for good (a person reference is never
    given again: someone who joins another household gets a new one)."""
    if person_refs:
        execute_values(uow.cursor, "INSERT INTO removed_people (person_ref, reason) VALUES %s ON CONFLICT DO NOTHING",
                       [(str(p), reason) for p in person_refs])


def removed(uow, person_refs):
    return {str(r["person_ref"]) for r in uow.fetchall(
        "SELECT person_ref FROM removed_people WHERE person_ref = ANY(%s::uuid[])", ([str(p) for p in person_refs],))}
