"""Entitlements and the cross-agency ledger: issuing in one set-based pass,
blocking, revoking."""
import uuid

from setiakawan_kit.auth import region_patterns

from .readmodel import LIVE

_AMOUNT = {"per_beneficiary": "%(amount)s::bigint", "per_member": "%(amount)s::bigint * h.members"}


def household_candidates(condition, params, programme):
    """(SQL, params) of the live households in the programme's regions that
    ``condition`` (the compiled rule) reaches: beneficiary_id, village_code,
    amount, decile."""
    amount = _AMOUNT.get(programme["cash_basis"], "NULL::bigint")
    condition, named = _named(condition, params)
    return (f"SELECT h.household_id AS beneficiary_id, h.village_code, {amount} AS amount, h.decile"
            f" FROM households h WHERE {LIVE} AND h.village_code LIKE ANY(%(patterns)s) AND ({condition})",
            dict(named, amount=programme["cash_amount"], patterns=region_patterns(programme["region_codes"])))


def group_candidates(programme, group_id=None):
    """(SQL, params) of the active groups of the grant's kind in its regions
    (those it lists, if it lists some)."""
    amount = "%(amount)s::bigint" if programme["cash_basis"] == "per_beneficiary" else "NULL::bigint"
    return (f"SELECT g.group_id AS beneficiary_id, g.village_code, {amount} AS amount, NULL::smallint AS decile"
            " FROM groups g WHERE g.status = 'active' AND g.kind = %(group_kind)s AND g.village_code LIKE ANY(%(patterns)s)"
            " AND (%(listed)s::uuid[] IS NULL OR g.group_id = ANY(%(listed)s::uuid[]))"
            " AND (%(only)s::uuid IS NULL OR g.group_id = %(only)s::uuid)",
            {"amount": programme["cash_amount"], "group_kind": programme["group_kind"],
             "patterns": region_patterns(programme["region_codes"]),
             "listed": [str(g) for g in programme["group_ids"]] if programme["group_ids"] else None,
             "only": str(group_id) if group_id else None})


def _named(condition, params):
    """The compiled rule with its positional ``%s`` numbered (``%(r0)s`` …),
    so that it can sit among named params; and those params."""
    parts = condition.split("%s")
    text = parts[0] + "".join(f"%(r{i})s{part}" for i, part in enumerate(parts[1:]))
    return text, {f"r{i}": value for i, value in enumerate(params)}


def issue(uow, programme, candidates, params):
    """Issue the programme's entitlements to ``candidates`` in one pass:
    each takes its place in the ledger, or is blocked by the benefit that
    holds it; past the quota or budget (in order of decile, then id, those
    issued before first) none is issued. Returns the pass's id, with which
    ``changed_now`` reads what it did (one transaction may make several
    passes: one per household of a batch of events)."""
    keys = {"programme": str(programme["id"]), "category": programme["category"],
            "starts": programme["starts_on"], "ends": programme["ends_on"], "stacks": programme["stacks"],
            "agency": programme["agency"], "pass": str(uuid.uuid4())}
    issued = uow.execute(
        "INSERT INTO entitlements AS e (id, programme_id, beneficiary_kind, beneficiary_id, village_code, amount, status,"
        " changed_by_pass)"
        f" SELECT gen_random_uuid(), %(programme)s, %(beneficiary_kind)s, c.beneficiary_id, c.village_code, c.amount, 'issued',"
        f" %(pass)s FROM ({candidates}) c ORDER BY c.beneficiary_id"
        " ON CONFLICT (programme_id, beneficiary_id) DO UPDATE SET status = 'issued', amount = EXCLUDED.amount,"
        " village_code = EXCLUDED.village_code, blocked_by = NULL, reason = NULL, issued_at = now(),"
        " changed_at = now(), changed_by_pass = EXCLUDED.changed_by_pass, version = e.version + 1"
        " WHERE e.status IN ('revoked', 'blocked')",
        dict(params, **keys, beneficiary_kind="group" if programme["kind"] == "group_grant" else "household")).rowcount
    for attempt in range(3):
        placed = _take_places(uow, keys)
        trimmed = _trim(uow, programme, keys)
        if attempt == 0 and placed == issued and not trimmed:
            break  # every entitlement of the pass holds its place: none to block (the usual activation)
        if _block(uow, keys) == 0:
            break
    if programme["cash_basis"] == "split_total":
        _split(uow, programme, keys)
    return keys["pass"]


def _take_places(uow, keys):
    """Ledger rows for the programme's new entitlements, in beneficiary order
    (so that two passes never wait on each other in a circle); a place
    another programme holds is skipped, not waited for past its commit.
    Returns how many took their place."""
    return uow.execute(
        "INSERT INTO ledger (entitlement_id, beneficiary_id, category, period, stack_token, programme_id, agency)"
        " SELECT e.id, e.beneficiary_id, %(category)s, daterange(%(starts)s, %(ends)s, '[]'),"
        " CASE WHEN %(stacks)s THEN 0 ELSE nextval('ledger_tokens') END, %(programme)s, %(agency)s"
        " FROM entitlements e WHERE e.programme_id = %(programme)s AND e.status = 'issued'"
        " AND e.changed_by_pass = %(pass)s AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.entitlement_id = e.id)"
        " ORDER BY e.beneficiary_id ON CONFLICT DO NOTHING", keys).rowcount


def _trim(uow, programme, keys):
    """Undo what this pass issued past the quota or budget; returns whether it undid any."""
    if programme["quota"] is None and programme["budget"] is None:
        return False
    over = ("SELECT entitlement_id FROM (SELECT l.entitlement_id, e.changed_by_pass = %(pass)s AS new,"
            " row_number() OVER w AS n, sum(coalesce(e.amount, 0)) OVER w AS spent"
            " FROM ledger l JOIN entitlements e ON e.id = l.entitlement_id"
            " LEFT JOIN households h ON h.household_id = e.beneficiary_id"
            " WHERE l.programme_id = %(programme)s"
            " WINDOW w AS (ORDER BY e.changed_by_pass = %(pass)s, h.decile NULLS LAST, e.beneficiary_id)) ranked"
            " WHERE new AND (n > %(quota)s OR spent > %(budget)s)")
    params = dict(keys, quota=programme["quota"] or 2**62, budget=programme["budget"] or 2**62)
    if programme["cash_basis"] == "split_total":
        params["budget"] = 2**62  # the total is divided among all, not spent in order
    gone = [r["entitlement_id"] for r in uow.fetchall(f"DELETE FROM ledger WHERE entitlement_id IN ({over})"
                                                      " RETURNING entitlement_id", params)]
    if gone:
        # new this pass: as if never issued; held before (revoked or blocked): revoked, and told (``revoked_now``)
        uow.execute("DELETE FROM entitlements WHERE id = ANY(%s::uuid[]) AND version = 1", (gone,))
        uow.execute("UPDATE entitlements SET status = 'revoked', reason = 'past the programme''s quota or budget',"
                    " blocked_by = NULL, version = version + 1, changed_at = now() WHERE id = ANY(%s::uuid[])", (gone,))
    return bool(gone)


def _block(uow, keys):
    """Mark what holds no place blocked by the benefit that holds it; returns
    how many hold none and were not blocked (their blocker went away since:
    the caller tries them again)."""
    uow.execute(
        "UPDATE entitlements e SET status = 'blocked', blocked_by = b.entitlement_id, version = e.version + 1,"
        " changed_at = now(), changed_by_pass = %(pass)s FROM entitlements me CROSS JOIN LATERAL ("
        "   SELECT l.entitlement_id FROM ledger l WHERE l.beneficiary_id = me.beneficiary_id"
        "   AND l.category = %(category)s AND l.period && daterange(%(starts)s, %(ends)s, '[]')"
        "   AND l.programme_id <> %(programme)s AND NOT (%(stacks)s AND l.stack_token = 0)"
        "   ORDER BY lower(l.period), l.entitlement_id LIMIT 1) b"
        " WHERE e.id = me.id AND me.programme_id = %(programme)s AND me.status = 'issued'"
        " AND me.changed_by_pass = %(pass)s AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.entitlement_id = me.id)",
        keys)
    return uow.fetchone(
        "SELECT count(*) AS n FROM entitlements e WHERE e.programme_id = %(programme)s AND e.status = 'issued'"
        " AND e.changed_by_pass = %(pass)s AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.entitlement_id = e.id)",
        keys)["n"]


def _split(uow, programme, keys):
    """The total divided over every entitlement holding a place, in whole
    Rupiah (the first ones in id order get the remainder's Rupiah)."""
    uow.execute(
        "UPDATE entitlements e SET amount = %(total)s / s.n + CASE WHEN s.i < %(total)s %% s.n THEN 1 ELSE 0 END"
        " FROM (SELECT l.entitlement_id, row_number() OVER (ORDER BY l.beneficiary_id) - 1 AS i, count(*) OVER () AS n"
        "       FROM ledger l WHERE l.programme_id = %(programme)s) s WHERE e.id = s.entitlement_id",
        dict(keys, total=programme["cash_amount"]))


#: an entitlement with its programme, as the events and answers show it
DETAIL = """
SELECT e.*, p.name AS programme_name, p.agency, p.partners, p.point_id, p.kind, p.category, p.items, p.starts_on, p.ends_on,
       p.region_codes, p.status AS programme_status,
       b.programme_id AS blocker_programme_id, bp.name AS blocker_programme_name, bp.agency AS blocker_agency,
       bp.starts_on AS blocker_starts_on, bp.ends_on AS blocker_ends_on
  FROM entitlements e JOIN programmes p ON p.id = e.programme_id
  LEFT JOIN entitlements b ON b.id = e.blocked_by LEFT JOIN programmes bp ON bp.id = b.programme_id
"""


#: the contract's entitlement snapshot (snapshots.entitlement) in SQL, over DETAIL's tables; json, not
#: jsonb: an activation builds one per entitlement only to write it out as text (jsonb took 0.77 s a
#: 100,000, json 0.47)
SNAPSHOT = """json_build_object(
    'entitlement_id', e.id, 'version', e.version, 'programme_id', e.programme_id, 'programme_name', p.name,
    'agency', p.agency, 'kind', p.kind, 'category', p.category, 'beneficiary_kind', e.beneficiary_kind,
    'beneficiary_id', e.beneficiary_id, 'village_code', e.village_code,
    'period', json_build_object('starts_on', p.starts_on, 'ends_on', p.ends_on), 'amount', e.amount,
    'items', p.items, 'status', e.status)"""
BLOCKER = """json_build_object(
    'entitlement_id', b.id, 'programme_id', bp.id, 'programme_name', bp.name, 'agency', bp.agency,
    'period', json_build_object('starts_on', bp.starts_on, 'ends_on', bp.ends_on))"""
_FROM = """ FROM entitlements e JOIN programmes p ON p.id = e.programme_id
  LEFT JOIN entitlements b ON b.id = e.blocked_by LEFT JOIN programmes bp ON bp.id = b.programme_id"""


def changed_now(pass_id, status):
    """(SQL, params) of the events of what the pass ``pass_id`` (``issue``)
    issued or blocked: subject, data (uow.publish_select)."""
    data = f"json_build_object('entitlement', {SNAPSHOT}" + (f", 'blocked_by', {BLOCKER})" if status == "blocked"
                                                              else ")")
    return (f"SELECT e.beneficiary_id AS subject, {data} AS data {_FROM}"
            " WHERE e.changed_by_pass = %(changed_pass)s AND e.status = %(changed_status)s",
            {"changed_pass": pass_id, "changed_status": status})


def revoked_now(pass_id):
    """(SQL, params) of the events of the entitlements the pass ``pass_id``
    revoked (``revoke``, or ``issue`` past the quota or budget)."""
    return (f"SELECT e.beneficiary_id AS subject, json_build_object('entitlement', {SNAPSHOT},"
            f" 'reason', e.reason) AS data {_FROM}"
            " WHERE e.changed_by_pass = %(revoked_pass)s AND e.status = 'revoked'",
            {"revoked_pass": pass_id})


def entitlement(uow, entitlement_id, lock=False):
    return uow.fetchone(DETAIL + " WHERE e.id = %s" + (" FOR UPDATE OF e" if lock else ""), (str(entitlement_id),))


def of_beneficiary(uow, programme_id, beneficiary_id):
    return uow.fetchone(DETAIL + " WHERE e.programme_id = %s AND e.beneficiary_id = %s",
                        (str(programme_id), str(beneficiary_id)))


def revoke(uow, entitlement_ids, reason):
    """End undelivered entitlements and free their ledger places; returns
    the pass's id (``revoked_now``)."""
    ids, pass_id = [str(i) for i in entitlement_ids], str(uuid.uuid4())
    # only what it ended: a delivered benefit keeps its place, whatever the caller read before
    uow.later("WITH ended AS (UPDATE entitlements SET status = 'revoked', reason = %s, blocked_by = NULL,"
              " version = version + 1, changed_at = now(), changed_by_pass = %s"
              " WHERE id = ANY(%s::uuid[]) AND status IN ('issued', 'blocked') RETURNING id)"
              " DELETE FROM ledger WHERE entitlement_id IN (SELECT id FROM ended)", (reason, pass_id, ids))
    return pass_id


def blocked_by_any(uow, entitlement_ids):
    """The beneficiaries (id, kind) of entitlements blocked by one of ``entitlement_ids``."""
    return uow.fetchall("SELECT DISTINCT beneficiary_id, beneficiary_kind FROM entitlements"
                        " WHERE blocked_by = ANY(%s::uuid[]) AND status = 'blocked' ORDER BY beneficiary_id",
                        ([str(i) for i in entitlement_ids],))


def undelivered(uow, programme_id):
    return [r["id"] for r in uow.fetchall(
        "SELECT id FROM entitlements WHERE programme_id = %s AND status IN ('issued', 'blocked') ORDER BY id",
        (str(programme_id),))]


def in_programme(uow, programme_id, agency, regions, filters, limit, offset):
    """A programme's entitlements the caller may see (all, for its owner
    and partners; else those in the caller's regions)."""
    return uow.fetchall(
        DETAIL.replace("SELECT e.*", "SELECT e.*, count(*) OVER () AS total", 1)
        + " WHERE e.programme_id = %(programme)s AND (%(agency)s = p.agency OR %(agency)s = ANY(p.partners)"
        "   OR e.village_code LIKE ANY(%(patterns)s))"
        " AND (%(status)s::text IS NULL OR e.status = %(status)s)"
        " AND (%(village)s::text IS NULL OR e.village_code = %(village)s)"
        " ORDER BY e.village_code, e.beneficiary_id LIMIT %(limit)s OFFSET %(offset)s",
        {"programme": str(programme_id), "agency": agency, "patterns": region_patterns(regions),
         "status": filters.get("status"), "village": filters.get("village_code"), "limit": limit, "offset": offset})


def of_household(uow, household_id):
    """Every benefit a household holds or held, across every agency's programmes."""
    return uow.fetchall(DETAIL + " WHERE e.beneficiary_id = %s ORDER BY p.starts_on, e.issued_at",
                        (str(household_id),))


def one_candidate(household_id, village_code, amount, decile):
    """(SQL, params) of one beneficiary a rule was checked for in Python."""
    return ("SELECT %(one)s::uuid AS beneficiary_id, %(one_village)s::text AS village_code,"
            " %(one_amount)s::bigint AS amount, %(one_decile)s::smallint AS decile",
            {"one": str(household_id), "one_village": village_code, "one_amount": amount, "one_decile": decile})


def held_by(uow, beneficiary_id, statuses=("issued", "blocked")):
    """The beneficiary's entitlements in active programmes, by programme id."""
    return {str(r["programme_id"]): r for r in uow.fetchall(
        DETAIL + " WHERE e.beneficiary_id = %s AND e.status = ANY(%s) AND p.status = 'active'",
        (str(beneficiary_id), list(statuses)))}
