"""The read model's writes: each record replaced only by a higher snapshot
version, so a repeated or late event changes nothing; and the log of the
events applied, from which it is rebuilt."""
from psycopg2.extras import Json


def replace_household(uow, snapshot):
    return uow.fetchone(
        "INSERT INTO households (household_id, version, status, decile, village_code, size)"
        " VALUES (%(household_id)s, %(version)s, %(status)s, %(decile)s, %(village_code)s, %(size)s)"
        " ON CONFLICT (household_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        " decile = EXCLUDED.decile, village_code = EXCLUDED.village_code, size = EXCLUDED.size"
        " WHERE households.version < EXCLUDED.version RETURNING household_id", snapshot) is not None


def mark_merged(uow, merged_household_id, kept):
    """The household merged away: counted nowhere from now on, whatever
    snapshot of it arrives later (version 0 until one does)."""
    uow.execute(
        "INSERT INTO households (household_id, version, status, decile, village_code, size, merged_into)"
        " VALUES (%s, 0, 'inactive', 10, %s, 0, %s)"
        " ON CONFLICT (household_id) DO UPDATE SET merged_into = EXCLUDED.merged_into",
        (str(merged_household_id), kept["village_code"], str(kept["household_id"])))


def replace_programme(uow, p):
    return uow.fetchone(
        "INSERT INTO programmes (programme_id, version, agency, partners, funding_source, name, kind, category,"
        " region_codes, starts_on, ends_on, status, quota, budget)"
        " VALUES (%(programme_id)s, %(version)s, %(agency)s, %(partners)s, %(funding_source)s, %(name)s, %(kind)s,"
        " %(category)s, %(region_codes)s, %(starts_on)s, %(ends_on)s, %(status)s, %(quota)s, %(budget)s)"
        " ON CONFLICT (programme_id) DO UPDATE SET version = EXCLUDED.version, agency = EXCLUDED.agency,"
        " partners = EXCLUDED.partners, funding_source = EXCLUDED.funding_source, name = EXCLUDED.name,"
        " kind = EXCLUDED.kind, category = EXCLUDED.category, region_codes = EXCLUDED.region_codes,"
        " starts_on = EXCLUDED.starts_on, ends_on = EXCLUDED.ends_on, status = EXCLUDED.status,"
        " quota = EXCLUDED.quota, budget = EXCLUDED.budget"
        " WHERE programmes.version < EXCLUDED.version RETURNING programme_id",
        dict(p, starts_on=p["period"]["starts_on"], ends_on=p["period"]["ends_on"],
             budget=p.get("budget"), quota=p.get("quota"))) is not None


def replace_entitlement(uow, e, delivered_at=None, blocked_by=None):
    return uow.fetchone(
        "INSERT INTO entitlements (entitlement_id, version, programme_id, programme_name, agency, kind, category,"
        " beneficiary_kind, beneficiary_id, village_code, starts_on, ends_on, status, amount, delivered_at,"
        " blocked_by_agency, blocked_by_programme_id)"
        " VALUES (%(entitlement_id)s, %(version)s, %(programme_id)s, %(programme_name)s, %(agency)s, %(kind)s,"
        " %(category)s, %(beneficiary_kind)s, %(beneficiary_id)s, %(village_code)s, %(starts_on)s, %(ends_on)s,"
        " %(status)s, %(amount)s, %(delivered_at)s, %(blocked_by_agency)s, %(blocked_by_programme_id)s)"
        " ON CONFLICT (entitlement_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        " village_code = EXCLUDED.village_code, amount = EXCLUDED.amount,"
        " delivered_at = COALESCE(EXCLUDED.delivered_at, entitlements.delivered_at),"
        " blocked_by_agency = COALESCE(EXCLUDED.blocked_by_agency, entitlements.blocked_by_agency),"
        " blocked_by_programme_id = COALESCE(EXCLUDED.blocked_by_programme_id, entitlements.blocked_by_programme_id)"
        " WHERE entitlements.version < EXCLUDED.version RETURNING entitlement_id",
        dict(e, starts_on=e["period"]["starts_on"], ends_on=e["period"]["ends_on"], amount=e.get("amount"),
             delivered_at=delivered_at, blocked_by_agency=blocked_by and blocked_by["agency"],
             blocked_by_programme_id=blocked_by and str(blocked_by["programme_id"]))) is not None


def replace_course(uow, c):
    starts = sorted(s["starts_at"] for s in c["sessions"])
    return uow.fetchone(
        "INSERT INTO courses (course_id, version, provider_agency, partners, title, skill_area, region_codes,"
        " first_session_at, last_session_at, capacity, status)"
        " VALUES (%(course_id)s, %(version)s, %(provider_agency)s, %(partners)s, %(title)s, %(skill_area)s,"
        " %(region_codes)s, %(first)s, %(last)s, %(capacity)s, %(status)s)"
        " ON CONFLICT (course_id) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title,"
        " partners = EXCLUDED.partners, region_codes = EXCLUDED.region_codes,"
        " first_session_at = EXCLUDED.first_session_at, last_session_at = EXCLUDED.last_session_at,"
        " capacity = EXCLUDED.capacity, status = EXCLUDED.status"
        " WHERE courses.version < EXCLUDED.version RETURNING course_id",
        dict(c, first=starts[0] if starts else None, last=starts[-1] if starts else None)) is not None


def replace_enrolment(uow, e):
    return uow.fetchone(
        "INSERT INTO enrolments (enrolment_id, version, course_id, provider_agency, skill_area, person_ref,"
        " household_id, village_code, first_session_at, status)"
        " VALUES (%(enrolment_id)s, %(version)s, %(course_id)s, %(provider_agency)s, %(skill_area)s,"
        " %(person_ref)s, %(household_id)s, %(village_code)s, %(first_session_at)s, %(status)s)"
        " ON CONFLICT (enrolment_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        " village_code = EXCLUDED.village_code, first_session_at = EXCLUDED.first_session_at"
        " WHERE enrolments.version < EXCLUDED.version RETURNING enrolment_id", e) is not None


def add_result(uow, r, completed):
    return uow.fetchone(
        "INSERT INTO results (enrolment_id, course_id, provider_agency, skill_area, person_ref, household_id,"
        " village_code, finished_on, completed)"
        " VALUES (%(enrolment_id)s, %(course_id)s, %(provider_agency)s, %(skill_area)s, %(person_ref)s,"
        " %(household_id)s, %(village_code)s, %(finished_on)s, %(completed)s)"
        " ON CONFLICT (enrolment_id) DO NOTHING RETURNING enrolment_id", dict(r, completed=completed)) is not None


def log_event(uow, source, event):
    uow.execute("INSERT INTO event_log (event_id, source, type, time, data) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (event_id) DO NOTHING", (event.id, source, event.type, event.time, Json(event.data)))


def clear(uow):
    uow.execute("TRUNCATE households, programmes, entitlements, courses, enrolments, results")


def logged_after(uow, seq, limit):
    """The next ``limit`` logged events after ``seq``, oldest first."""
    return uow.fetchall("SELECT seq, source, type, data FROM event_log WHERE seq > %s ORDER BY seq LIMIT %s",
                        (seq, limit))
