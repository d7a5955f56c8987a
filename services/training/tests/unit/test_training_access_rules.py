"""Who sees and does what to a course (rules/access.py)."""
import pytest

from setiakawan_kit.auth import Identity
from setiakawan_training.rules.access import (
    enrols, manages, organises, records_attendance, sees_course, sees_participant)

PROVIDER = "Dinas Sosial Kabupaten Balangan"
PARTNER = "PT Adaro Indonesia"
PARINGIN = "63.11.01.2001"     # Balangan (63.11)
AWAYAN = "63.11.05.2002"       # another district of Balangan
BARABAI = "63.07.01.1001"      # Hulu Sungai Tengah (63.07), a neighbour


def course(status="open", partners=(PARTNER,), regions=("63.11",)):
    return {"provider_agency": PROVIDER, "partners": list(partners) if partners is not None else None,
            "status": status, "region_codes": list(regions)}


def provider(role="admin"):
    return Identity(PROVIDER, "district", role, ("63.11",))


def partner(role="operator", regions=("64",)):
    return Identity(PARTNER, "csr", role, regions)


def province(role="viewer"):
    return Identity("Dinas Sosial Provinsi Kalimantan Selatan", "province", role, ("63",))


def district_office(role="field_officer", regions=("63.11.01",)):
    return Identity("Kecamatan Paringin", "village", role, regions)


def neighbour(role="admin"):
    return Identity("Dinas Sosial Kabupaten Hulu Sungai Tengah", "district", role, ("63.07",))


def test_organises():
    assert organises(provider(), course()) is True
    assert organises(partner(), course()) is True
    assert organises(province(), course()) is False
    assert organises(partner(), course(partners=())) is False
    assert organises(partner(), course(partners=None)) is False
    assert organises(provider(), course(partners=None)) is True


def test_a_draft_is_seen_only_by_its_provider():
    draft = course(status="draft")
    assert sees_course(provider("viewer"), draft) is True
    assert sees_course(partner(), draft) is False
    assert sees_course(province(), draft) is False
    assert sees_course(district_office(), draft) is False


@pytest.mark.parametrize("status", ["open", "running", "finished", "cancelled"])
def test_a_published_course_is_seen_by_organisers_and_agencies_sharing_ground(status):
    published = course(status=status)
    assert sees_course(provider(), published) is True
    assert sees_course(partner(regions=("64",)), published) is True     # a partner outside the regions
    assert sees_course(province(), published) is True                   # a region above the course's
    assert sees_course(district_office(), published) is True            # a region below it
    assert sees_course(neighbour(), published) is False                 # another regency sees nothing


def test_a_provider_sees_its_course_outside_its_own_regions():
    assert sees_course(provider(), course(regions=("64.02",))) is True
    assert sees_course(provider(), course(status="draft", regions=("64.02",))) is True


def test_any_of_several_course_regions_shares_ground():
    assert sees_course(neighbour(), course(regions=("63.11", "63.07.01"))) is True
    assert sees_course(neighbour(), course(regions=("63.11", "63.1"))) is False


@pytest.mark.parametrize("who, expected", [
    (provider("admin"), True),
    (provider("operator"), True),
    (provider("field_officer"), False),
    (provider("viewer"), False),
    (partner("admin"), False),
    (province("admin"), False),
])
def test_manages(who, expected):
    assert manages(who, course()) is expected


@pytest.mark.parametrize("who, expected", [
    (provider("admin"), True),
    (provider("operator"), True),
    (provider("field_officer"), True),
    (provider("viewer"), False),
    (partner("admin"), True),
    (partner("field_officer"), True),
    (partner("viewer"), False),
    (province("admin"), False),          # sees the course, does not organise it
    (district_office("field_officer"), False),
])
def test_records_attendance(who, expected):
    assert records_attendance(who, course()) is expected


def test_sees_participant():
    c = course()
    assert sees_participant(provider("viewer"), c, AWAYAN) is True
    assert sees_participant(partner("viewer", regions=("64",)), c, AWAYAN) is True   # organisers see all
    assert sees_participant(province(), c, AWAYAN) is True
    assert sees_participant(district_office(), c, PARINGIN) is True       # one living in its regions
    assert sees_participant(district_office(), c, AWAYAN) is False        # not one living elsewhere
    assert sees_participant(neighbour(), c, PARINGIN) is False


@pytest.mark.parametrize("who, village, expected", [
    (provider("admin"), PARINGIN, True),
    (provider("field_officer"), PARINGIN, True),
    (provider("viewer"), PARINGIN, False),
    (provider("operator"), BARABAI, True),                  # an organiser enrols anyone (eligibility decides)
    (partner("field_officer", regions=("64",)), PARINGIN, True),
    (partner("viewer", regions=("64",)), PARINGIN, False),
    (district_office("field_officer"), PARINGIN, True),     # someone living in its regions
    (district_office("field_officer"), AWAYAN, False),      # not someone living elsewhere
    (district_office("viewer"), PARINGIN, False),
    (province("operator"), AWAYAN, True),
    (neighbour("admin"), PARINGIN, False),
])
def test_enrols(who, village, expected):
    assert enrols(who, course(), village) is expected
