"""The coordination figures, counted by PostgreSQL over the read model,
and kept per state of the read model (``changes``).
Every query takes ``region`` (a code), ``region_like`` (the code + ``.%``),
``starts_on``, ``ends_on``, ``gap_decile`` and ``child_length``."""

from psycopg2.extras import Json

IN_REGION = "({col} = %(region)s OR {col} LIKE %(region_like)s)"
#: a programme's or course's target regions meet the region (one lies in the other)
TARGETS_REGION = ("EXISTS (SELECT 1 FROM unnest({col}) AS t(code) WHERE t.code = %(region)s"
                  " OR t.code LIKE %(region_like)s OR %(region)s LIKE t.code || '.%%')")
SEATS = "('confirmed', 'completed', 'not_completed')"

# Households reached in the period and where: by an entitlement of the period, a seat in a course
# starting in it, or a result of a course finished in it (see rules/coverage.py).
REACHED = f"""
reached AS (
    SELECT beneficiary_id AS household_id, village_code, agency, status = 'delivered' AS delivered
      FROM entitlements
     WHERE beneficiary_kind = 'household' AND status IN ('issued', 'delivered')
       AND starts_on <= %(ends_on)s AND ends_on >= %(starts_on)s AND {IN_REGION.format(col="village_code")}
    UNION ALL
    SELECT household_id, village_code, provider_agency, false
      FROM enrolments
     WHERE status IN {SEATS} AND first_session_at::date BETWEEN %(starts_on)s AND %(ends_on)s
       AND {IN_REGION.format(col="village_code")}
    UNION ALL
    SELECT household_id, village_code, provider_agency, false
      FROM results
     WHERE finished_on BETWEEN %(starts_on)s AND %(ends_on)s AND {IN_REGION.format(col="village_code")}
)"""


def household_counts(uow, params):
    """{area code: households, poor_households, gaps} (area: the region itself
    when ``child_length`` is its own length). The households reached are
    one hashed set the households are joined to: tried one by one against
    the reached rows, a province of 250,000 households took 47 s."""
    rows = uow.fetchall(f"""
        WITH {REACHED}, reached_ids AS (SELECT DISTINCT household_id FROM reached)
        SELECT left(h.village_code, %(child_length)s) AS code,
               count(*) FILTER (WHERE h.status <> 'inactive') AS households,
               count(*) FILTER (WHERE poor) AS poor_households,
               count(*) FILTER (WHERE poor AND r.household_id IS NULL) AS gaps
          FROM households h
          LEFT JOIN reached_ids r ON r.household_id = h.household_id
         CROSS JOIN LATERAL (SELECT h.status = 'verified' AND h.decile <= %(gap_decile)s AS poor) p
         WHERE h.merged_into IS NULL AND h.version > 0 AND {IN_REGION.format(col="h.village_code")}
         GROUP BY 1""", params)
    return {r["code"]: r for r in rows}


def reach_counts(uow, params):
    """{area code: households_reached, households_delivered, agencies,
    persons_trained, persons_completed, groups_reached}."""
    reached = uow.fetchall(f"""
        WITH {REACHED}
        SELECT left(village_code, %(child_length)s) AS code, count(DISTINCT household_id) AS households_reached,
               count(DISTINCT household_id) FILTER (WHERE delivered) AS households_delivered,
               count(DISTINCT agency) AS agencies
          FROM reached GROUP BY 1""", params)
    trained = uow.fetchall(f"""
        SELECT left(village_code, %(child_length)s) AS code, count(DISTINCT person_ref) AS persons_trained
          FROM enrolments
         WHERE status IN {SEATS} AND first_session_at::date BETWEEN %(starts_on)s AND %(ends_on)s
           AND {IN_REGION.format(col="village_code")}
         GROUP BY 1""", params)
    completed = uow.fetchall(f"""
        SELECT left(village_code, %(child_length)s) AS code, count(DISTINCT person_ref) AS persons_completed
          FROM results
         WHERE completed AND finished_on BETWEEN %(starts_on)s AND %(ends_on)s
           AND {IN_REGION.format(col="village_code")}
         GROUP BY 1""", params)
    groups = uow.fetchall(f"""
        SELECT left(village_code, %(child_length)s) AS code, count(DISTINCT beneficiary_id) AS groups_reached
          FROM entitlements
         WHERE beneficiary_kind = 'group' AND status IN ('issued', 'delivered')
           AND starts_on <= %(ends_on)s AND ends_on >= %(starts_on)s AND {IN_REGION.format(col="village_code")}
         GROUP BY 1""", params)
    counts = {}
    for rows in (reached, trained, completed, groups):
        for row in rows:
            counts.setdefault(row["code"], {}).update({k: v for k, v in row.items() if k != "code"})
    return counts


def agency_lines(uow, params):
    """Rows (agency, declared_kind or None, funding_source, programmes,
    courses, households_reached) of the agencies at work in the region in
    the period."""
    return uow.fetchall(f"""
        WITH {REACHED}
        SELECT l.*, k.kind AS declared_kind FROM (
        SELECT agency, funding_source, count(*) AS programmes, 0 AS courses, 0 AS households_reached
          FROM programmes
         WHERE status IN ('active', 'closed') AND starts_on <= %(ends_on)s AND ends_on >= %(starts_on)s
           AND {TARGETS_REGION.format(col="region_codes")}
         GROUP BY agency, funding_source
        UNION ALL
        SELECT provider_agency, NULL, 0, count(*), 0
          FROM courses
         WHERE status IN ('open', 'running', 'finished')
           AND first_session_at::date <= %(ends_on)s AND last_session_at::date >= %(starts_on)s
           AND {TARGETS_REGION.format(col="region_codes")}
         GROUP BY provider_agency
        UNION ALL
        SELECT agency, NULL, 0, 0, count(DISTINCT household_id) FROM reached GROUP BY agency
        ) l LEFT JOIN agency_kinds k USING (agency)""", params)


def programme_categories(uow, params):
    """Per benefit category: programmes at work in the region, households
    planned (issued or delivered), delivered and blocked there."""
    return uow.fetchall(f"""
        WITH p AS (
            SELECT category, count(*) AS programmes FROM programmes
             WHERE status IN ('active', 'closed') AND starts_on <= %(ends_on)s AND ends_on >= %(starts_on)s
               AND {TARGETS_REGION.format(col="region_codes")}
             GROUP BY category),
        e AS (
            SELECT category,
                   count(DISTINCT beneficiary_id) FILTER (WHERE status IN ('issued', 'delivered')) AS planned,
                   count(DISTINCT beneficiary_id) FILTER (WHERE status = 'delivered') AS delivered,
                   count(DISTINCT beneficiary_id) FILTER (WHERE status = 'blocked') AS blocked
              FROM entitlements
             WHERE starts_on <= %(ends_on)s AND ends_on >= %(starts_on)s AND {IN_REGION.format(col="village_code")}
             GROUP BY category)
        SELECT category, coalesce(p.programmes, 0) AS programmes, coalesce(e.planned, 0) AS planned,
               coalesce(e.delivered, 0) AS delivered, coalesce(e.blocked, 0) AS blocked
          FROM p FULL JOIN e USING (category)
         ORDER BY planned DESC, category""", params)


def course_skill_areas(uow, params):
    """Per skill area: courses at work in the region, persons seated and completed there."""
    return uow.fetchall(f"""
        WITH c AS (
            SELECT skill_area, count(*) AS courses FROM courses
             WHERE status IN ('open', 'running', 'finished')
               AND first_session_at::date <= %(ends_on)s AND last_session_at::date >= %(starts_on)s
               AND {TARGETS_REGION.format(col="region_codes")}
             GROUP BY skill_area),
        s AS (
            SELECT skill_area, count(DISTINCT person_ref) AS enrolled FROM enrolments
             WHERE status IN {SEATS} AND first_session_at::date BETWEEN %(starts_on)s AND %(ends_on)s
               AND {IN_REGION.format(col="village_code")}
             GROUP BY skill_area),
        r AS (
            SELECT skill_area, count(DISTINCT person_ref) FILTER (WHERE completed) AS completed FROM results
             WHERE finished_on BETWEEN %(starts_on)s AND %(ends_on)s AND {IN_REGION.format(col="village_code")}
             GROUP BY skill_area)
        SELECT skill_area, coalesce(c.courses, 0) AS courses, coalesce(s.enrolled, 0) AS enrolled,
               coalesce(r.completed, 0) AS completed
          FROM c FULL JOIN s USING (skill_area) FULL JOIN r USING (skill_area)
         ORDER BY enrolled DESC, skill_area""", params)


def blocked_pairs(uow, params):
    """Rows (agency, blocked_by_agency, category, households): entitlements
    the ledger blocked in the region in the period."""
    return uow.fetchall(f"""
        SELECT agency, blocked_by_agency, category, count(DISTINCT beneficiary_id) AS households
          FROM entitlements
         WHERE status = 'blocked' AND starts_on <= %(ends_on)s AND ends_on >= %(starts_on)s
           AND {IN_REGION.format(col="village_code")}
         GROUP BY agency, blocked_by_agency, category""", params)


def programme_lines(uow, params):
    """Each programme at work in the region in the period: households planned
    (issued or delivered), delivered and blocked there, Rupiah planned."""
    return uow.fetchall(f"""
        SELECT p.programme_id::text, p.name, p.agency, p.kind, p.category, p.status, p.starts_on::text,
               p.ends_on::text,
               p.budget,
               count(DISTINCT e.beneficiary_id) FILTER (WHERE e.status IN ('issued', 'delivered')) AS planned,
               count(DISTINCT e.beneficiary_id) FILTER (WHERE e.status = 'delivered') AS delivered,
               count(DISTINCT e.beneficiary_id) FILTER (WHERE e.status = 'blocked') AS blocked,
               coalesce(sum(e.amount) FILTER (WHERE e.status IN ('issued', 'delivered')), 0)::bigint AS amount_planned
          FROM programmes p
          LEFT JOIN entitlements e ON e.programme_id = p.programme_id AND {IN_REGION.format(col="e.village_code")}
         WHERE p.status IN ('active', 'closed') AND p.starts_on <= %(ends_on)s AND p.ends_on >= %(starts_on)s
           AND {TARGETS_REGION.format(col="p.region_codes")}
         GROUP BY p.programme_id
         ORDER BY planned DESC, p.name""", params)


def course_lines(uow, params):
    """Each course at work in the region in the period: persons seated,
    waitlisted and completed there."""
    return uow.fetchall(f"""
        WITH c AS (
            SELECT course_id, title, provider_agency, skill_area, status, capacity, first_session_at,
                   last_session_at FROM courses
             WHERE status IN ('open', 'running', 'finished')
               AND first_session_at::date <= %(ends_on)s AND last_session_at::date >= %(starts_on)s
               AND {TARGETS_REGION.format(col="region_codes")}),
        n AS (
            SELECT course_id, count(DISTINCT person_ref) FILTER (WHERE status IN {SEATS}) AS enrolled,
                   count(DISTINCT person_ref) FILTER (WHERE status = 'waitlisted') AS waitlisted
              FROM enrolments WHERE course_id IN (SELECT course_id FROM c) AND {IN_REGION.format(col="village_code")}
             GROUP BY course_id),
        r AS (
            SELECT course_id, count(DISTINCT person_ref) AS completed
              FROM results WHERE completed AND course_id IN (SELECT course_id FROM c)
               AND {IN_REGION.format(col="village_code")}
             GROUP BY course_id)
        SELECT c.course_id::text, c.title, c.provider_agency, c.skill_area, c.status, c.capacity,
               to_char(c.first_session_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS first_session_at,
               to_char(c.last_session_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS last_session_at,
               coalesce(n.enrolled, 0) AS enrolled, coalesce(n.waitlisted, 0) AS waitlisted,
               coalesce(r.completed, 0) AS completed
          FROM c LEFT JOIN n USING (course_id) LEFT JOIN r USING (course_id)
         ORDER BY enrolled DESC, c.title""", params)


def changes(uow):
    """How many batches of events the read model has taken (committed ones only)."""
    return uow.fetchone("SELECT changes FROM read_model_state")["changes"]


def kept_figures(uow, key, changes_now):
    row = uow.fetchone("SELECT report FROM figures_kept WHERE key = %s AND changes = %s", (key, changes_now))
    return row and row["report"]


def keep_figures(uow, key, changes_now, report):
    uow.later("INSERT INTO figures_kept (key, changes, report) VALUES (%s, %s, %s)"
              " ON CONFLICT (key) DO UPDATE SET changes = EXCLUDED.changes, report = EXCLUDED.report,"
              " counted_at = now() WHERE figures_kept.changes <= EXCLUDED.changes",
              (key, changes_now, Json(report)))
