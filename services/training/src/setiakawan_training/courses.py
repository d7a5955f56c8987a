"""Use cases of a course's provider: create and edit a draft, publish,
start, cancel; and reading courses as any agency may see them."""
import uuid

from setiakawan_contract import training as contract
from setiakawan_kit.errors import Conflict, OutOfScope, RuleBroken

from . import enrolments, lookup, snapshots
from .rules import courses as rules, eligibility
from .storage import courses as storage


def _checked(identity, body):
    """The course's columns from a request body, or RuleBroken."""
    regions = body["region_codes"]
    outside = [r for r in regions if not identity.covers(r)]
    if outside:
        raise OutOfScope(f"Regions {', '.join(outside)} are outside the regions of {identity.agency}.")
    sessions = [rules.Session(s["starts_at"], s["ends_at"], s["venue_village_code"]) for s in body["sessions"]]
    rule = eligibility.Eligibility.from_dict(body.get("eligibility") or {})
    problems = {**rules.check_sessions(sessions, regions), **eligibility.check(rule)}
    if body["mode"] == "group" and rule.group_kind is None:
        problems["eligibility.group_kind"] = "A course for groups names the kind of group it is for."
    if problems:
        field, message = next(iter(problems.items()))
        raise RuleBroken(message, field=field, errors=[{"field": f, "message": m} for f, m in problems.items()])
    starts_at, ends_at = rules.span(sessions)
    partners = sorted({p.strip() for p in body.get("partners") or () if p.strip()} - {identity.agency})
    return {"title": body["title"].strip(), "skill_area": body["skill_area"], "mode": body["mode"],
            "region_codes": sorted(set(regions)), "capacity": body["capacity"], "eligibility": rule.as_dict(),
            "min_attendance_share": body["completion"]["min_attendance_share"],
            "assessment_required": body["completion"]["assessment_required"],
            "funding_source": body.get("funding_source"), "partners": partners,
            "starts_at": starts_at, "ends_at": ends_at}


def _sessions(body):
    return [dict(s, id=str(uuid.uuid4())) for s in body["sessions"]]


def detail(uow, row):
    return dict(row, sessions=storage.sessions(uow, row["id"]))


def create(uow, identity, body, series_id=None):
    course_id = str(uuid.uuid4())
    row = dict(_checked(identity, body), id=course_id, series_id=series_id or course_id,
               provider_agency=identity.agency, provider_kind=identity.kind, created_by=identity.agency)
    storage.insert_course(uow, row)
    storage.replace_sessions(uow, course_id, _sessions(body))
    return detail(uow, storage.course(uow, course_id))


DESCRIPTION = ("title", "skill_area", "mode", "capacity", "funding_source", "partners")


def run_again(uow, identity, course_id, body):
    """The same course run elsewhere (Kutai Kartanegara's programme, tailored
    per sub-district): a new draft with this course's description, its own
    regions and sessions (and capacity, if given), in the same series."""
    source = lookup.managed_course(uow, identity, course_id)
    description = {k: source[k] for k in DESCRIPTION}
    description["eligibility"] = source["eligibility"]
    description["completion"] = {"min_attendance_share": float(source["min_attendance_share"]),
                                 "assessment_required": source["assessment_required"]}
    return create(uow, identity, {**description, **body}, series_id=str(source["series_id"]))


def edit(uow, identity, course_id, body):
    """Replace a draft's description and sessions; a published course is fixed."""
    row = lookup.managed_course(uow, identity, course_id)
    if row["status"] not in rules.EDITABLE:
        raise Conflict(f"A {row['status']} course cannot be edited; only a draft can.")
    updated = storage.update_course(uow, course_id, **_checked(identity, body))
    storage.replace_sessions(uow, course_id, _sessions(body))
    return detail(uow, updated)


def _transition(uow, row, action, stamp, **fields):
    """The course ``row`` (locked) moved on by ``action``, ``stamp`` set to now."""
    try:
        status = rules.next_status(row["status"], action)
    except rules.TransitionRefused as exc:
        raise Conflict(str(exc), course_status=row["status"]) from None
    return storage.update_course(uow, row["id"], stamp=stamp, status=status, **fields)


def publish(uow, identity, course_id):
    row = lookup.managed_course(uow, identity, course_id)
    sessions = storage.sessions(uow, course_id)
    if not sessions:
        raise RuleBroken("A course needs at least one session before it opens.", field="sessions")
    row = _transition(uow, row, "publish", "published_at")
    uow.publish(contract.COURSE_PUBLISHED, str(course_id), {"course": snapshots.course(row, sessions)})
    return dict(row, sessions=sessions)


def start(uow, identity, course_id):
    """Start the course: enrolment closes, and those still waiting are told they were not admitted."""
    row = _transition(uow, lookup.managed_course(uow, identity, course_id), "start", "started_at")
    enrolments.end_all(uow, row, "not_admitted", "the course started with no free seat", statuses=("waitlisted",))
    return detail(uow, storage.update_course(uow, course_id, waitlisted=0))


def cancel(uow, identity, course_id, reason):
    """Cancel the course and every live enrolment in it (each told by its
    own event). A draft was never announced, so its end is not either."""
    row = lookup.managed_course(uow, identity, course_id)
    announced = row["status"] != "draft"
    row = _transition(uow, row, "cancel", "cancelled_at", cancel_reason=reason)
    enrolments.end_all(uow, row, "course_cancelled", reason)
    row = storage.update_course(uow, course_id, confirmed=0, waitlisted=0)
    sessions = storage.sessions(uow, course_id)
    if announced:
        uow.publish(contract.COURSE_CANCELLED, str(course_id), {"course": snapshots.course(row, sessions),
                                                                "reason": reason})
    return dict(row, sessions=sessions)


def read(uow, identity, course_id):
    return detail(uow, lookup.course(uow, identity, course_id))


def search(uow, identity, query):
    limit, offset = query["per_page"], (query["page"] - 1) * query["per_page"]
    rows = storage.visible_courses(uow, identity.agency, identity.regions, query, limit, offset)
    sessions = storage.sessions_of_courses(uow, [r["id"] for r in rows])
    return {"page": query["page"], "per_page": limit, "total": rows[0]["total"] if rows else 0,
            "items": [dict(r, sessions=sessions.get(str(r["id"]), [])) for r in rows]}
