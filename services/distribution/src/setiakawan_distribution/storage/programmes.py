"""Programmes."""
from psycopg2 import sql
from psycopg2.extras import Json

from setiakawan_kit.auth import region_patterns

COLUMNS = ("id", "agency", "agency_kind", "partners", "funding_source", "name", "kind", "category", "items",
           "cash_basis", "cash_amount", "group_kind", "group_ids", "starts_on", "ends_on", "region_codes", "rule",
           "quota", "budget", "stacks", "point_id")


def _value(column, value):
    return Json(value) if column == "items" else value


def _placeholder(column):
    # a list of UUID strings is a text[] to psycopg2: the column takes it cast
    return sql.SQL("%s::uuid[]") if column == "group_ids" else sql.Placeholder()


def insert(uow, row):
    uow.execute(sql.SQL("INSERT INTO programmes ({}) VALUES ({})").format(
        sql.SQL(", ").join(map(sql.Identifier, COLUMNS)), sql.SQL(", ").join(map(_placeholder, COLUMNS))),
        [_value(c, row[c]) for c in COLUMNS])


def update(uow, programme_id, stamp=None, **fields):
    """Set ``fields`` (``stamp``: a column set to now), bump the version; returns the row."""
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(name), _placeholder(name)) for name in fields]
    if stamp:
        assignments.append(sql.SQL("{} = now()").format(sql.Identifier(stamp)))
    assignments.append(sql.SQL("version = version + 1"))
    return uow.fetchone(sql.SQL("UPDATE programmes SET {} WHERE id = %s RETURNING *").format(
        sql.SQL(", ").join(assignments)), [*(_value(k, v) for k, v in fields.items()), str(programme_id)])


def programme(uow, programme_id, lock=False):
    return uow.fetchone("SELECT * FROM programmes WHERE id = %s" + (" FOR UPDATE" if lock else ""),
                        (str(programme_id),))


def visible(uow, agency, regions, filters, limit, offset):
    """Programmes the caller may see (``access.sees_programme`` in SQL), newest first."""
    return uow.fetchall(
        "SELECT p.*, count(*) OVER () AS total FROM programmes p"
        " WHERE (p.agency = %(agency)s OR (p.status <> 'draft' AND (%(agency)s = ANY(p.partners)"
        "   OR EXISTS (SELECT 1 FROM unnest(p.region_codes) r WHERE r LIKE ANY(%(patterns)s)"
        "              OR r = ANY(%(prefixes)s)))))"
        " AND (%(status)s::text IS NULL OR p.status = %(status)s)"
        " AND (%(category)s::text IS NULL OR p.category = %(category)s)"
        " AND (%(owner)s::text IS NULL OR p.agency = %(owner)s)"
        " ORDER BY p.created_at DESC, p.id LIMIT %(limit)s OFFSET %(offset)s",
        {"agency": agency, "patterns": region_patterns(regions),
         "prefixes": [code[:n] for code in regions for n in (2, 5, 8) if len(code) > n],
         "limit": limit, "offset": offset, **{k: filters.get(k) for k in ("status", "category", "owner")}})


def active_covering(uow, village_codes, household_id):
    """Active household programmes whose regions hold one of
    ``village_codes``, or that owe ``household_id`` something already."""
    return uow.fetchall(
        "SELECT p.* FROM programmes p WHERE p.status = 'active' AND p.kind <> 'group_grant' AND ("
        " EXISTS (SELECT 1 FROM unnest(p.region_codes) r, unnest(%s::text[]) v WHERE v = r OR v LIKE r || '.%%')"
        " OR EXISTS (SELECT 1 FROM entitlements e WHERE e.programme_id = p.id AND e.beneficiary_id = %s))"
        " ORDER BY p.activated_at, p.id",
        ([v for v in village_codes if v], str(household_id)))


def households_concerned(uow, villages):
    """Of ``villages`` ({household_id: [village codes where it is and was]}),
    the households an active programme covers or owes something already:
    those whose entitlements an event may change."""
    if not villages:
        return []
    pairs = [(household_id, code) for household_id, codes in villages.items() for code in codes if code]
    return [str(r["household_id"]) for r in uow.fetchall(
        "SELECT DISTINCT x.household_id FROM unnest(%s::uuid[], %s::text[]) AS x(household_id, village)"
        " WHERE EXISTS (SELECT 1 FROM programmes p WHERE p.status = 'active' AND p.kind <> 'group_grant' AND ("
        "  EXISTS (SELECT 1 FROM unnest(p.region_codes) r WHERE x.village = r OR x.village LIKE r || '.%%')"
        "  OR EXISTS (SELECT 1 FROM entitlements e WHERE e.programme_id = p.id"
        "   AND e.beneficiary_id = x.household_id)))",
        ([h for h, _ in pairs], [c for _, c in pairs]))]


def active_group_grants(uow, group_id, village_code, kind):
    return uow.fetchall(
        "SELECT p.* FROM programmes p WHERE p.status = 'active' AND p.kind = 'group_grant' AND ("
        " (p.group_kind = %s AND EXISTS (SELECT 1 FROM unnest(p.region_codes) r WHERE %s = r OR %s LIKE r || '.%%'))"
        " OR EXISTS (SELECT 1 FROM entitlements e WHERE e.programme_id = p.id AND e.beneficiary_id = %s))"
        " ORDER BY p.activated_at, p.id", (kind, village_code, village_code, str(group_id)))


def reach(uow, candidates, params):
    """{village_code: beneficiaries} of a candidates query (storage.entitlements)."""
    return {r["village_code"]: r["n"] for r in uow.fetchall(
        f"SELECT c.village_code, count(*) AS n FROM ({candidates}) c GROUP BY c.village_code ORDER BY 1", params)}
