"""Who sees and does what to a course. Agencies do not trust each other: a
course is the provider's; its co-organising partners record attendance; an
agency whose regions share ground with the course's sees it once published,
and of its participants only those living in its regions."""
from .courses import regions_overlap

WRITE_ROLES = ("admin", "operator", "field_officer")
MANAGE_ROLES = ("admin", "operator")


def organises(identity, course):
    return identity.agency == course["provider_agency"] or identity.agency in (course["partners"] or ())


def sees_course(identity, course):
    if identity.agency == course["provider_agency"]:
        return True
    if course["status"] == "draft":
        return False
    return organises(identity, course) or regions_overlap(identity.regions, course["region_codes"])


def manages(identity, course):
    return identity.agency == course["provider_agency"] and identity.role in MANAGE_ROLES


def records_attendance(identity, course):
    return organises(identity, course) and identity.role in WRITE_ROLES


def sees_participant(identity, course, village_code):
    return organises(identity, course) or identity.covers(village_code)


def enrols(identity, course, village_code):
    """Whether the caller may enrol (or withdraw) a person living in ``village_code``."""
    return identity.role in WRITE_ROLES and (organises(identity, course) or identity.covers(village_code))
