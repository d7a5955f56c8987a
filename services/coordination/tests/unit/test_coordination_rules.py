"""The coordination service's rules: periods, regions and how the figures are put together."""
from datetime import date

import pytest

from setiakawan_coordination.rules import coverage, periods, regions


@pytest.mark.parametrize("text, starts_on, ends_on", [
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2027-Q1", date(2027, 1, 1), date(2027, 3, 31)),
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
])
def test_a_period_is_a_month_a_quarter_or_a_year(text, starts_on, ends_on):
    period = periods.parse(text)
    assert (period.label, period.starts_on, period.ends_on) == (text, starts_on, ends_on)


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-Q5", "26-12", "2026/12", "Desember", "", None,
                                  "0999"])
def test_anything_else_is_not_a_period(text):
    with pytest.raises(ValueError, match="period|month"):
        periods.parse(text)


def test_this_month_and_overlaps():
    december = periods.current(date(2026, 12, 3))
    assert december.label == "2026-12"
    assert periods.overlaps(december, date(2026, 11, 15), date(2026, 12, 1))
    assert periods.overlaps(december, date(2026, 12, 31), date(2027, 1, 31))
    assert not periods.overlaps(december, date(2026, 11, 1), date(2026, 11, 30))


def test_a_request_naming_no_period_asks_for_this_month():
    assert periods.asked(None, date(2026, 12, 6)) == periods.parse("2026-12")
    assert periods.asked("", date(2027, 1, 31)).label == "2027-01"
    assert periods.asked("2026-Q4", date(2027, 1, 31)) == periods.parse("2026-Q4")


def test_regions_walk_down_by_level():
    assert [regions.level(c) for c in ("62", "62.13", "62.13.01", "62.13.01.2003")] == [
        "province", "regency", "district", "village"]
    assert [regions.child_length(c) for c in ("62", "62.13", "62.13.01", "62.13.01.2003")] == [5, 8, 13, None]
    assert regions.ancestors("62.13.01.2003") == ["62", "62.13", "62.13.01", "62.13.01.2003"]
    assert regions.name("62.13") == "Kabupaten Barito Timur"
    assert regions.name("62.13.01.2003") == "Pulau Patai"


@pytest.mark.parametrize("a, b, related", [
    ("62.13", "62.13.01.2003", True), ("62.13.01.2003", "62", True), ("62.13", "62.13", True),
    ("62.13", "62.1", False), ("62.1", "62.13", False), ("63.11", "62.13", False),
])
def test_a_region_relates_to_those_it_lies_in_and_those_in_it(a, b, related):
    assert regions.related(a, b) is related


def test_gaps_are_marked_by_their_share_of_the_poor():
    assert coverage.gap_level(0, 0) == "none"
    assert coverage.gap_level(0, 10) == "none"
    assert coverage.gap_level(4, 10) == "some"
    assert coverage.gap_level(5, 10) == "high"
    line = coverage.area_line("62.13.01", "Dusun Timur", {"households": 12, "poor_households": 8, "gaps": 6,
                                                         "households_reached": 4})
    assert line["gap_share"] == 0.75 and line["gap_level"] == "high" and line["persons_trained"] == 0


def test_an_agency_kind_is_what_its_funding_agrees_on():
    assert coverage.agency_kind({"apbd_district"}) == "district"
    assert coverage.agency_kind({"csr", "csr"}) == "csr"
    assert coverage.agency_kind({"apbn"}) is None
    assert coverage.agency_kind({"apbd_province", "apbd_district"}) is None
    lines = coverage.agencies([
        {"agency": "Dinas Sosial Provinsi Kalimantan Tengah", "funding_source": "apbd_province", "programmes": 2},
        {"agency": "Dinas Sosial Provinsi Kalimantan Tengah", "households_reached": 40},
        {"agency": "Yayasan Wahana", "funding_source": "ngo", "programmes": 1, "households_reached": 3},
        {"agency": "PT Adaro Indonesia", "courses": 1}])
    assert [(a["agency"], a["kind"], a["programmes"], a["households_reached"]) for a in lines] == [
        ("Dinas Sosial Provinsi Kalimantan Tengah", "province", 2, 40), ("Yayasan Wahana", "ngo", 1, 3),
        ("PT Adaro Indonesia", None, 0, 0)]


def test_an_agency_kind_its_token_named_wins_over_its_funding():
    lines = coverage.agencies([
        {"agency": "Pemerintah Desa Pulau Patai", "declared_kind": None, "funding_source": "apbd_district",
         "programmes": 1},
        {"agency": "Pemerintah Desa Pulau Patai", "declared_kind": "village", "households_reached": 5},
        {"agency": "Yayasan Wahana", "declared_kind": "ngo", "funding_source": "csr", "programmes": 1}])
    assert [(a["agency"], a["kind"]) for a in lines] == [("Pemerintah Desa Pulau Patai", "village"),
                                                          ("Yayasan Wahana", "ngo")]


def test_overlaps_are_counted_per_pair_of_agencies_whichever_was_blocked():
    lines = coverage.overlaps([
        {"agency": "Provinsi", "blocked_by_agency": "Kabupaten", "category": "food", "households": 3},
        {"agency": "Kabupaten", "blocked_by_agency": "Provinsi", "category": "food", "households": 2},
        {"agency": "Yayasan", "blocked_by_agency": "Provinsi", "category": "cash", "households": 1}])
    assert lines == [{"agencies": ["Kabupaten", "Provinsi"], "categories": ["food"], "households": 5},
                     {"agencies": ["Provinsi", "Yayasan"], "categories": ["cash"], "households": 1}]
