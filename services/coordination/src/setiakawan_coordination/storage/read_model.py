"""The read model's writes, set-based (a batch of events of one type, one
statement each, sent with the commit): each record replaced only by a
higher snapshot version, so a repeated or late event changes nothing; and
the log of the events applied, from which it is rebuilt."""
import json


def newest(rows, key, by="version"):
    """One row per ``key``, the highest ``by`` (one statement may not
    change a row twice; a higher version wins anyway)."""
    kept = {}
    for row in rows:
        held = kept.get(row[key])
        if held is None or held[by] < row[by]:
            kept[row[key]] = row
    return list(kept.values())


def first(rows, key):
    kept = {}
    for row in rows:
        kept.setdefault(row[key], row)
    return list(kept.values())


def replace_households(uow, snapshots):
    uow.later_values(
        "INSERT INTO households (household_id, version, status, decile, village_code, size) VALUES %s"
        " ON CONFLICT (household_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        " decile = EXCLUDED.decile, village_code = EXCLUDED.village_code, size = EXCLUDED.size"
        " WHERE households.version < EXCLUDED.version",
        "(%(household_id)s, %(version)s, %(status)s, %(decile)s, %(village_code)s, %(size)s)",
        newest(snapshots, "household_id"))


def mark_merged(uow, merges):
    """``merges`` [(merged household id, the kept household's snapshot)]: each
    merged away counted nowhere from now on, whatever snapshot of it arrives
    later (version 0 until one does)."""
    rows = first([{"id": str(merged), "village_code": kept["village_code"], "kept": str(kept["household_id"])}
                  for merged, kept in merges], "id")
    uow.later_values(
        "INSERT INTO households (household_id, version, status, decile, village_code, size, merged_into)"
        " VALUES %s ON CONFLICT (household_id) DO UPDATE SET merged_into = EXCLUDED.merged_into",
        "(%(id)s::uuid, 0, 'inactive', 10, %(village_code)s, 0, %(kept)s::uuid)", rows)


def replace_programmes(uow, programmes):
    rows = [dict(p, starts_on=p["period"]["starts_on"], ends_on=p["period"]["ends_on"], budget=p.get("budget"),
                 quota=p.get("quota")) for p in programmes]
    uow.later_values(
        "INSERT INTO programmes (programme_id, version, agency, partners, funding_source, name, kind, category,"
        " region_codes, starts_on, ends_on, status, quota, budget) VALUES %s"
        " ON CONFLICT (programme_id) DO UPDATE SET version = EXCLUDED.version, agency = EXCLUDED.agency,"
        " partners = EXCLUDED.partners, funding_source = EXCLUDED.funding_source, name = EXCLUDED.name,"
        " kind = EXCLUDED.kind, category = EXCLUDED.category, region_codes = EXCLUDED.region_codes,"
        " starts_on = EXCLUDED.starts_on, ends_on = EXCLUDED.ends_on, status = EXCLUDED.status,"
        " quota = EXCLUDED.quota, budget = EXCLUDED.budget"
        " WHERE programmes.version < EXCLUDED.version",
        "(%(programme_id)s, %(version)s, %(agency)s, %(partners)s::text[], %(funding_source)s, %(name)s, %(kind)s,"
        " %(category)s, %(region_codes)s::text[], %(starts_on)s::date, %(ends_on)s::date, %(status)s,"
        " %(quota)s::integer, %(budget)s::bigint)",
        newest(rows, "programme_id"))


def replace_entitlements(uow, entitlements):
    """``entitlements`` [(snapshot, delivered_at or None, blocked_by or None)]."""
    rows = [dict(e, starts_on=e["period"]["starts_on"], ends_on=e["period"]["ends_on"], amount=e.get("amount"),
                 delivered_at=delivered_at, blocked_by_agency=blocked_by and blocked_by["agency"],
                 blocked_by_programme_id=blocked_by and str(blocked_by["programme_id"]))
            for e, delivered_at, blocked_by in entitlements]
    uow.later_values(
        "INSERT INTO entitlements (entitlement_id, version, programme_id, programme_name, agency, kind, category,"
        " beneficiary_kind, beneficiary_id, village_code, starts_on, ends_on, status, amount, delivered_at,"
        " blocked_by_agency, blocked_by_programme_id) VALUES %s"
        " ON CONFLICT (entitlement_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        " village_code = EXCLUDED.village_code, amount = EXCLUDED.amount,"
        " delivered_at = COALESCE(EXCLUDED.delivered_at, entitlements.delivered_at),"
        " blocked_by_agency = COALESCE(EXCLUDED.blocked_by_agency, entitlements.blocked_by_agency),"
        " blocked_by_programme_id = COALESCE(EXCLUDED.blocked_by_programme_id, entitlements.blocked_by_programme_id)"
        " WHERE entitlements.version < EXCLUDED.version",
        "(%(entitlement_id)s, %(version)s, %(programme_id)s, %(programme_name)s, %(agency)s, %(kind)s,"
        " %(category)s, %(beneficiary_kind)s, %(beneficiary_id)s, %(village_code)s, %(starts_on)s::date,"
        " %(ends_on)s::date, %(status)s, %(amount)s::bigint, %(delivered_at)s::timestamptz,"
        " %(blocked_by_agency)s, %(blocked_by_programme_id)s::uuid)",
        newest(rows, "entitlement_id"))


def replace_courses(uow, courses):
    rows = []
    for c in courses:
        starts = sorted(s["starts_at"] for s in c["sessions"])
        rows.append(dict(c, first=starts[0] if starts else None, last=starts[-1] if starts else None))
    uow.later_values(
        "INSERT INTO courses (course_id, version, provider_agency, partners, title, skill_area, region_codes,"
        " first_session_at, last_session_at, capacity, status) VALUES %s"
        " ON CONFLICT (course_id) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title,"
        " partners = EXCLUDED.partners, region_codes = EXCLUDED.region_codes,"
        " first_session_at = EXCLUDED.first_session_at, last_session_at = EXCLUDED.last_session_at,"
        " capacity = EXCLUDED.capacity, status = EXCLUDED.status"
        " WHERE courses.version < EXCLUDED.version",
        "(%(course_id)s, %(version)s, %(provider_agency)s, %(partners)s::text[], %(title)s, %(skill_area)s,"
        " %(region_codes)s::text[], %(first)s::timestamptz, %(last)s::timestamptz, %(capacity)s, %(status)s)",
        newest(rows, "course_id"))


def replace_enrolments(uow, enrolments):
    uow.later_values(
        "INSERT INTO enrolments (enrolment_id, version, course_id, provider_agency, skill_area, person_ref,"
        " household_id, village_code, first_session_at, status) VALUES %s"
        " ON CONFLICT (enrolment_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        " village_code = EXCLUDED.village_code, first_session_at = EXCLUDED.first_session_at"
        " WHERE enrolments.version < EXCLUDED.version",
        "(%(enrolment_id)s, %(version)s, %(course_id)s, %(provider_agency)s, %(skill_area)s,"
        " %(person_ref)s, %(household_id)s, %(village_code)s, %(first_session_at)s::timestamptz, %(status)s)",
        newest(enrolments, "enrolment_id"))


def add_results(uow, results):
    """``results`` [(the event's data, completed)]: the first seen of each enrolment stays."""
    rows = first([dict(r, completed=completed) for r, completed in results], "enrolment_id")
    uow.later_values(
        "INSERT INTO results (enrolment_id, course_id, provider_agency, skill_area, person_ref, household_id,"
        " village_code, finished_on, completed) VALUES %s ON CONFLICT (enrolment_id) DO NOTHING",
        "(%(enrolment_id)s, %(course_id)s, %(provider_agency)s, %(skill_area)s, %(person_ref)s,"
        " %(household_id)s, %(village_code)s, %(finished_on)s::date, %(completed)s)", rows)


def log_events(uow, source, events):
    """Each event's data as it came on the wire, so it is not encoded again
    (the kit's inbox has made sure each is logged once)."""
    uow.later_values(
        "INSERT INTO event_log (event_id, source, type, time, data, agency, agency_kind) VALUES %s",
        "(%s, %s, %s, %s::timestamptz, %s::jsonb, %s, %s)",
        [(event.id, source, event.type, event.time,
          event.body if event.body is not None else json.dumps(event.data), event.agency, event.agencykind)
         for event in events])


def note_agency_kinds(uow, kinds):
    """``kinds`` [(agency, kind, seen at)]: the kind each agency's token named, the latest seen kept."""
    uow.later_values(
        "INSERT INTO agency_kinds (agency, kind, seen_at) VALUES %s ON CONFLICT (agency) DO UPDATE"
        " SET kind = EXCLUDED.kind, seen_at = EXCLUDED.seen_at WHERE agency_kinds.seen_at < EXCLUDED.seen_at",
        "(%(agency)s, %(kind)s, %(seen_at)s::timestamptz)",
        newest([{"agency": a, "kind": k, "seen_at": t} for a, k, t in kinds], "agency", by="seen_at"))


def changed(uow):
    """One more state of the read model: the figures kept for older ones are counted again."""
    uow.later("UPDATE read_model_state SET changes = changes + 1")


def clear(uow):
    uow.execute("TRUNCATE households, programmes, entitlements, courses, enrolments, results, agency_kinds")


def logged_after(uow, seq, limit):
    """The next ``limit`` logged events after ``seq``, oldest first."""
    return uow.fetchall("SELECT seq, source, type, data, agency, agency_kind, time FROM event_log"
                        " WHERE seq > %s ORDER BY seq LIMIT %s",
                        (seq, limit))
