"""Use cases of enrolment: a person or a group's members take seats up to
the course's capacity, then wait in order; a seat given up goes to the
first on the waitlist; a person who stops being eligible before the course
starts is removed. Every change is published (notifications tell people).

Locks, always in this order: the people concerned (``lock_people``), then
the course's row, then enrolment rows. Whoever holds a course's row lock
takes a waiting person's lock only if it is free (``try_lock_person``)."""
import uuid

from setiakawan_contract import training as contract
from setiakawan_kit.auth import region_patterns
from setiakawan_kit.errors import Conflict, OutOfScope, RuleBroken

from . import lookup, snapshots
from .rules import access, courses as course_rules, eligibility, enrolment as rules
from .storage import certificates as certificate_storage, courses as course_storage, enrolments as storage
from .storage import people as people_storage

UNKNOWN = "Unknown person references (the registry has not announced them)"
UNKNOWN_OR_OUTSIDE = "Unknown person references, or people living outside your regions"


def person_facts(row):
    return eligibility.Person(
        person_ref=str(row["person_ref"]), household_id=str(row["household_id"]), age=row["age"], sex=row["sex"],
        village_code=row["village_code"], decile=row["decile"], household_status=row["household_status"],
        group_kinds=frozenset(row["group_kinds"]))


def _told(identity, person, details):
    """What the caller is told of a person's facts: the details if its
    regions cover where the person lives; an organiser enrolling from
    elsewhere learns only that the person cannot take the course."""
    if identity.covers(person.village_code):
        return details
    return "cannot take this course (the reasons are shown to agencies covering where the person lives)"


def enrol(uow, identity, course_id, person_ref):
    course = lookup.course_for_people(uow, identity, course_id, [person_ref])
    if course["mode"] == "group":
        raise RuleBroken("This course takes community groups: enrol a group and the members it sends.",
                         field="person_ref")
    return _enrol_people(uow, identity, course, [str(person_ref)], ["person_ref"], group_id=None)[0]


def enrol_group(uow, identity, course_id, group_id, member_refs):
    first_index = {}
    for i, ref in enumerate(str(r) for r in member_refs):
        first_index.setdefault(ref, i)
    refs = list(first_index)
    course = lookup.course_for_people(uow, identity, course_id, refs)
    if course["mode"] != "group":
        raise RuleBroken("This course takes individual participants, not groups.", field="group_id")
    group = people_storage.group(uow, group_id)
    kind = course["eligibility"]["group_kind"]
    if group is None:
        raise RuleBroken(f"Group {group_id} is not known (the registry has not announced it).", field="group_id")
    if group["status"] != "active" or group["kind"] != kind:
        raise RuleBroken(f"The course is for active {kind} groups; this group is a {group['status']} "
                         f"{group['kind']}.", field="group_id")
    members = people_storage.group_member_refs(uow, group_id)
    strangers = [r for r in refs if r not in members]
    if strangers:
        raise RuleBroken(f"Not members of the group: {', '.join(strangers[:5])}.",
                         errors=[{"field": f"member_refs.{first_index[r]}", "message": "Not a member of the group."}
                                 for r in strangers])
    return _enrol_people(uow, identity, course, refs, [f"member_refs.{first_index[r]}" for r in refs],
                         group_id=str(group_id))


def _enrol_people(uow, identity, course, refs, fields, group_id):
    """Seats, then waitlist places, for ``refs`` (their locks and the course's held)."""
    if course["status"] not in course_rules.ENROLLING:
        raise Conflict(f"The course is {course['status']}; enrolment is open only while it is open.",
                       course_status=course["status"])
    known = {str(c["person_ref"]): c for c in course["candidates"]}
    organiser = access.organises(identity, course)
    unknown = [r for r in refs if r not in known]
    outside = [r for r in refs if r in known and not access.enrols(identity, course, known[r]["village_code"])]
    if unknown and organiser:
        raise RuleBroken(f"{UNKNOWN}: {', '.join(unknown[:5])}.", field=fields[refs.index(unknown[0])])
    if unknown or outside:  # the same answer for both: another agency learns nothing of who exists
        raise RuleBroken(f"{UNKNOWN_OR_OUTSIDE}: {', '.join((unknown + outside)[:5])}.",
                         field=fields[refs.index((unknown + outside)[0])])
    people = [person_facts(known[r]) for r in refs]
    rule = eligibility.Eligibility.from_dict(course["eligibility"])
    refused = [{"field": field, "message": _told(identity, person, "; ".join(reasons))}
               for field, person in zip(fields, people)
               if (reasons := eligibility.reasons_ineligible(person, rule, course["region_codes"]))]
    if refused:
        raise RuleBroken("Not eligible: " + " | ".join(r["message"] for r in refused[:5]), errors=refused)
    clashes = {r: known[r]["clashing_title"] for r in refs if known[r]["clashing_title"]}
    if clashes:
        named = [p.person_ref + (f" ({clashes[p.person_ref]})" if identity.covers(p.village_code) else "")
                 for p in people if p.person_ref in clashes]
        raise RuleBroken(f"Sessions overlap a course they hold a seat in: {'; '.join(named[:5])}.",
                         field=fields[refs.index(next(p.person_ref for p in people if p.person_ref in clashes))])
    held = {r: known[r]["live_enrolment_id"] for r in refs if known[r]["live_enrolment_id"]}
    if held:
        raise Conflict(f"Enrolled in this course already: {', '.join(list(held)[:5])}.",
                       enrolment_ids=list(held.values()))
    began = course["transaction_began"]
    if course["confirmed"] < course["capacity"] and course["waitlisted"]:
        promote(uow, course)  # a seat freed while those waiting could not take it goes to them first
        course = course_storage.course(uow, course["id"])
    confirmed, waitlisted, rows = course["confirmed"], course["waitlisted"], []
    for person in people:
        status = rules.place(confirmed, course["capacity"])
        confirmed, waitlisted = confirmed + (status == "confirmed"), waitlisted + (status == "waitlisted")
        rows.append(storage.new_enrolment(str(uuid.uuid4()), course["id"], person, group_id, status, identity.agency,
                                          began))
    course_storage.set_seats_later(uow, course["id"], confirmed, waitlisted)
    storage.insert_later(uow, rows)  # both go with the events, and COMMIT
    course = dict(course, confirmed=confirmed, waitlisted=waitlisted, version=course["version"] + 1)
    position = waitlisted - sum(r["status"] == "waitlisted" for r in rows)
    answers, seated, waiting = [], [], []
    for row in rows:
        if row["status"] == "confirmed":
            seated.append((str(row["id"]), {"enrolment": snapshots.enrolment(row, course), "promoted": False}))
            answers.append(dict(row, waitlist_position=None))
        else:
            position += 1
            waiting.append((str(row["id"]), {"enrolment": snapshots.enrolment(row, course, position)}))
            answers.append(dict(row, waitlist_position=position))
    uow.publish_many(contract.ENROLMENT_CONFIRMED, seated)
    uow.publish_many(contract.ENROLMENT_WAITLISTED, waiting)
    return answers


def withdraw(uow, identity, enrolment_id):
    """A person gives up their seat or waitlist place; the seat goes to the
    first on the waitlist. Returns the enrolment and those promoted."""
    found, _ = lookup.enrolment(uow, identity, enrolment_id)
    storage.lock_people(uow, [found["person_ref"]])
    course = lookup.course(uow, identity, found["course_id"], lock=True)
    row = storage.enrolment(uow, enrolment_id, lock=True)
    if not access.enrols(identity, course, row["village_code"]):
        raise OutOfScope("Only agencies covering where the person lives, and the course's organisers, "
                         "may withdraw an enrolment (a role that writes).")
    if not rules.may_withdraw(row["status"]):
        raise Conflict(f"The enrolment is {row['status']} already.", enrolment_status=row["status"])
    if course["status"] not in course_rules.BEFORE_START + course_rules.ATTENDING:
        raise Conflict(f"The course is {course['status']}.", course_status=course["status"])
    row, course = _end(uow, row, course, "withdrawn", f"withdrawn by {identity.agency}")
    promoted = promote(uow, course) if row["previous_status"] == "confirmed" else []
    return {"enrolment": row, "promoted": promoted}


def _end(uow, row, course, reason, detail):
    """Cancel one live enrolment, adjust the course's counts, publish; returns (enrolment, course)."""
    previous = row["status"]
    ended = storage.set_status(uow, row["id"], "cancelled", stamp="ended_at", end_reason=reason, end_detail=detail)
    counts = {"confirmed": course["confirmed"] - (previous == "confirmed"),
              "waitlisted": course["waitlisted"] - (previous == "waitlisted")}
    course = course_storage.update_course(uow, course["id"], **counts)
    uow.publish(contract.ENROLMENT_CANCELLED, str(ended["id"]),
                {"enrolment": snapshots.enrolment(ended, course), "previous_status": previous, "reason": reason,
                 "detail": detail})
    return dict(ended, previous_status=previous), course


def promote(uow, course):
    """Give free seats to the waitlist, first come first served, passing
    over anyone whose sessions clash with a seat they hold elsewhere, or
    whose lock another transaction holds (they keep their place, and are
    considered again at the next free seat or enrolment)."""
    free = course["capacity"] - course["confirmed"]
    if free <= 0 or course["waitlisted"] == 0 or course["status"] not in course_rules.BEFORE_START:
        return []
    waiting = [w for w in storage.waitlist(uow, course["id"]) if storage.try_lock_person(uow, w["person_ref"])]
    clashes = storage.clashing(uow, course["id"], [w["person_ref"] for w in waiting])
    chosen = rules.to_promote(waiting, free, lambda e: str(e["person_ref"]) in clashes)
    if not chosen:
        return []
    course = course_storage.update_course(uow, course["id"], confirmed=course["confirmed"] + len(chosen),
                                          waitlisted=course["waitlisted"] - len(chosen))
    promoted = [storage.set_status(uow, row["id"], "confirmed", stamp="confirmed_at") for row in chosen]
    uow.publish_many(contract.ENROLMENT_CONFIRMED, [
        (str(row["id"]), {"enrolment": snapshots.enrolment(row, course), "promoted": True}) for row in promoted])
    return promoted


def end_all(uow, course, reason, detail, statuses=("confirmed", "waitlisted")):
    """End every live enrolment of a course (``statuses``: of these only):
    the course is cancelled, or it started and the waitlist is not admitted."""
    ended = []
    for row in storage.in_course(uow, course["id"], statuses):
        done = storage.set_status(uow, row["id"], "cancelled", stamp="ended_at", end_reason=reason,
                                  end_detail=detail)
        ended.append((str(done["id"]), {"enrolment": snapshots.enrolment(done, course),
                                        "previous_status": row["status"], "reason": reason, "detail": detail}))
    uow.publish_many(contract.ENROLMENT_CANCELLED, ended)


def remove_ineligible(uow, person_refs):
    """After the registry changed what is known of these people (whose locks
    the caller holds): end their enrolments in courses not yet started that
    they no longer qualify for, and give the seats to the waitlist. The
    detail names the rules, not the person's facts: the event is broadcast.
    A person the registry lists nowhere, and has not removed, is left alone
    (a merge arrives as two events, in either order)."""
    live = storage.live_of_people(uow, person_refs, course_rules.BEFORE_START)
    by_course = {}
    for row in live:
        by_course.setdefault(str(row["course_id"]), []).append(row)
    if not by_course:
        return []
    gone = people_storage.removed(uow, person_refs)
    removed = []
    for course_id in sorted(by_course):
        course = course_storage.course(uow, course_id, lock=True)
        if course["status"] not in course_rules.BEFORE_START:
            continue
        refs = [str(r["person_ref"]) for r in by_course[course_id]]
        known = people_storage.people(uow, refs)
        rule = eligibility.Eligibility.from_dict(course["eligibility"])
        seat_freed = False
        for row in by_course[course_id]:
            ref = str(row["person_ref"])
            row = storage.enrolment(uow, row["id"], lock=True)
            if row["status"] not in ("confirmed", "waitlisted"):
                continue
            if ref in gone:
                broken = ["removed_from_registry"]
            elif ref in known:
                broken = [name for name, _ in eligibility.refusals(person_facts(known[ref]), rule,
                                                                    course["region_codes"])]
            else:
                continue
            if broken:
                ended, course = _end(uow, row, course, "no_longer_eligible", "rules: " + ", ".join(broken))
                seat_freed |= ended["previous_status"] == "confirmed"
                removed.append(ended)
        if seat_freed:
            promote(uow, course)
    return removed


def read(uow, identity, enrolment_id):
    row, _ = lookup.enrolment(uow, identity, enrolment_id)
    position = storage.waitlist_position(uow, row["course_id"], row["queue_seq"]) \
        if row["status"] == "waitlisted" else None
    code = certificate_storage.of_enrolment(uow, row["id"]) if row["status"] == "completed" else None
    return dict(row, waitlist_position=position, certificate_code=code)


def in_course(uow, identity, course_id, query):
    """The course's enrolments the caller may see, in arrival order (a
    waitlisted one with its place)."""
    course = lookup.course(uow, identity, course_id)
    patterns = None if access.organises(identity, course) else region_patterns(identity.regions)
    statuses = [query["status"]] if query.get("status") else list(contract.ENROLMENT_STATUSES)
    limit, offset = query["per_page"], (query["page"] - 1) * query["per_page"]
    rows = storage.in_course(uow, course_id, statuses, limit, offset, patterns)
    waiting = {str(w["id"]): i + 1 for i, w in enumerate(storage.waitlist(uow, course_id))}
    return {"page": query["page"], "per_page": limit, "total": rows[0]["total"] if rows else 0,
            "items": [dict(r, waitlist_position=waiting.get(str(r["id"]))) for r in rows]}
