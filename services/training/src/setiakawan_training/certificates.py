"""Use cases of certificates: anyone may check a code (it reveals the
course, its provider and the date, nothing of the person); the course's
organisers, and agencies covering the participant's village, print it."""
from setiakawan_kit.errors import NotFound

from . import certificate_pdf, lookup
from .rules import access, codes
from .storage import certificates as storage


def verify(uow, code, time_zone):
    """What a code certifies, its dates in ``time_zone``."""
    row = _find(uow, code, time_zone)
    return {"valid": True, "code": row["code"], "course_id": str(row["course_id"]),
            "course_title": row["course_title"], "skill_area": row["skill_area"],
            "provider_agency": row["provider_agency"], "partners": list(row["partners"]),
            "starts_on": row["starts_on"], "ends_on": row["ends_on"], "completed_on": row["issued_on"]}


def pdf(uow, identity, code, verify_url, time_zone):
    """The printable certificate; ``verify_url(code)`` is its public verification address."""
    row = _find(uow, code, time_zone)
    course = lookup.course(uow, identity, row["course_id"])
    if not access.sees_participant(identity, course, row["village_code"]):
        raise NotFound(f"No certificate {code} you may print.")
    facts = verify(uow, code, time_zone)
    return certificate_pdf.render(facts, verify_url(facts["code"]))


def _find(uow, code, time_zone):
    printed = codes.normalise(code)
    row = storage.by_code(uow, printed, time_zone) if printed else None
    if row is None:
        raise NotFound("No certificate has this code.")
    return row
