"""How reports group participants (rules/reports.py)."""
import uuid

import pytest

from setiakawan_training.rules.reports import (
    AGE_BANDS, BAND_NAMES, LEVELS, age_band, aggregate, csv_columns, csv_row, region_at, share)

SEWING = uuid.UUID("11111111-1111-4111-8111-111111111111")
WELDING = uuid.UUID("22222222-2222-4222-8222-222222222222")
BALANGAN = "Dinas Sosial Kabupaten Balangan"
KUKAR = "Dinas Sosial Kabupaten Kutai Kartanegara"
PARINGIN = "63.11.01.2001"
PARINGIN_TIMUR = "63.11.01.2002"
AWAYAN = "63.11.05.2002"
TENGGARONG = "64.02.01.1001"
COURSES = {SEWING: ("Menjahit Dasar", BALANGAN, "sewing"), WELDING: ("Las Listrik", KUKAR, "welding")}


def row(course=SEWING, status="confirmed", sex="F", age=22, village=PARINGIN, sessions=10, attended=8,
        started=True):
    title, provider, skill = COURSES[course]
    return {"course_id": course, "course_title": title, "provider_agency": provider, "skill_area": skill,
            "status": status, "sex": sex, "age": age, "village_code": village, "sessions": sessions,
            "attended": attended, "course_started": started}


@pytest.mark.parametrize("age, band", [
    (0, "0-14"), (14, "0-14"), (15, "15-24"), (24, "15-24"), (25, "25-34"), (34, "25-34"), (35, "35-44"),
    (44, "35-44"), (45, "45-59"), (59, "45-59"), (60, "60+"), (150, "60+"), (200, "60+"), (201, "60+"),
])
def test_age_band_edges(age, band):
    assert age_band(age) == band


def test_age_bands_leave_no_gap():
    assert BAND_NAMES == ("0-14", "15-24", "25-34", "35-44", "45-59", "60+")
    for (_, high, _), (low, _, _) in zip(AGE_BANDS, AGE_BANDS[1:]):
        assert low == high + 1


@pytest.mark.parametrize("level, code", [
    ("province", "63"), ("regency", "63.11"), ("district", "63.11.01"), ("village", "63.11.01.2001")])
def test_region_at(level, code):
    assert region_at(PARINGIN, level) == code


def test_levels():
    assert list(LEVELS) == ["province", "regency", "district", "village"]


def test_share():
    assert share(2, 3) == 0.667
    assert share(0, 5) == 0.0
    assert share(0, 0) is None


def test_no_rows_no_lines():
    assert aggregate([], "course") == []


def test_by_course():
    rows = [row(sex="F", age=22, attended=8), row(sex="M", age=40, attended=6, village=AWAYAN),
            row(status="completed", sex="F", age=15, attended=10, village=PARINGIN_TIMUR),
            row(status="not_completed", sex="F", age=60, attended=2),
            row(status="waitlisted", sex="M", age=30, attended=0, village=TENGGARONG)]
    [line] = aggregate(rows, "course")
    assert line == {
        "course_id": str(SEWING), "course_title": "Menjahit Dasar", "provider_agency": BALANGAN,
        "skill_area": "sewing", "courses": 1, "enrolled": 4, "waitlisted": 1, "completed": 1, "not_completed": 1,
        "attendance_share": 0.65,   # (8 + 6 + 10 + 2) / 40
        "by_sex": {"F": 3, "M": 1},
        "by_age_band": {"0-14": 0, "15-24": 2, "25-34": 0, "35-44": 1, "45-59": 0, "60+": 1},
        "by_village": {PARINGIN: 2, PARINGIN_TIMUR: 1, AWAYAN: 1},
    }


def test_the_waitlisted_are_counted_apart_from_those_who_took_part():
    [line] = aggregate([row(status="waitlisted"), row(status="waitlisted", village=AWAYAN)], "course")
    assert (line["enrolled"], line["waitlisted"], line["courses"]) == (0, 2, 1)
    assert line["by_sex"] == {"F": 0, "M": 0}
    assert sum(line["by_age_band"].values()) == 0
    assert line["by_village"] == {}
    assert line["attendance_share"] is None


def test_other_statuses_are_not_counted():
    [line] = aggregate([row(status="cancelled"), row(status="withdrawn"), row()], "course")
    assert (line["enrolled"], line["waitlisted"], line["completed"], line["not_completed"]) == (1, 0, 0, 0)
    assert line["by_sex"] == {"F": 1, "M": 0}
    assert line["attendance_share"] == 0.8


def test_the_attendance_share_is_of_started_courses_only():
    rows = [row(course=SEWING, attended=5, sessions=10), row(course=WELDING, attended=0, sessions=6, started=False)]
    [line] = aggregate([dict(r, provider_agency=BALANGAN) for r in rows], "provider")
    assert line["attendance_share"] == 0.5
    assert line["enrolled"] == 2
    [not_started] = aggregate([row(started=False)], "course")
    assert not_started["attendance_share"] is None
    assert not_started["enrolled"] == 1


def test_by_provider_counts_courses():
    rows = [row(course=SEWING), row(course=SEWING, sex="M"), row(course=WELDING, status="completed"),
            dict(row(course=WELDING), provider_agency=BALANGAN, course_title="Las Listrik Balangan")]
    lines = aggregate(rows, "provider")
    assert [line["provider_agency"] for line in lines] == [BALANGAN, KUKAR]   # sorted
    balangan, kukar = lines
    assert set(balangan) == {"provider_agency", "courses", "enrolled", "waitlisted", "completed", "not_completed",
                             "attendance_share", "by_sex", "by_age_band", "by_village"}
    assert (balangan["courses"], balangan["enrolled"], balangan["by_sex"]) == (2, 3, {"F": 2, "M": 1})
    assert (kukar["courses"], kukar["enrolled"], kukar["completed"]) == (1, 1, 1)


def test_by_region_and_course_at_a_level():
    rows = [row(village=PARINGIN), row(village=PARINGIN_TIMUR), row(village=AWAYAN),
            row(course=WELDING, village=PARINGIN), row(course=WELDING, village=TENGGARONG)]
    lines = aggregate(rows, "region", "district")
    assert [(line["region_code"], line["course_id"], line["enrolled"]) for line in lines] == [
        ("63.11.01", str(SEWING), 2),
        ("63.11.01", str(WELDING), 1),
        ("63.11.05", str(SEWING), 1),
        ("64.02.01", str(WELDING), 1),
    ]
    first = lines[0]
    assert (first["course_title"], first["provider_agency"], first["skill_area"]) == \
        ("Menjahit Dasar", BALANGAN, "sewing")
    assert first["by_village"] == {PARINGIN: 1, PARINGIN_TIMUR: 1}


def test_by_region_at_the_regency_and_village_levels():
    rows = [row(village=PARINGIN), row(village=PARINGIN_TIMUR), row(village=AWAYAN)]
    assert [(l["region_code"], l["enrolled"]) for l in aggregate(rows, "region", "regency")] == [("63.11", 3)]
    assert [(l["region_code"], l["enrolled"]) for l in aggregate(rows, "region", "village")] == \
        [(PARINGIN, 1), (PARINGIN_TIMUR, 1), (AWAYAN, 1)]


def test_the_default_level_is_the_district():
    rows = [row(village=PARINGIN), row(village=AWAYAN)]
    assert [l["region_code"] for l in aggregate(rows, "region")] == ["63.11.01", "63.11.05"]


def test_lines_are_sorted_and_villages_within_them():
    rows = [row(course=WELDING, village=TENGGARONG), row(course=SEWING, village=PARINGIN_TIMUR),
            row(course=SEWING, village=AWAYAN), row(course=SEWING, village=PARINGIN)]
    lines = aggregate(rows, "course")
    assert [l["course_id"] for l in lines] == [str(SEWING), str(WELDING)]
    assert list(lines[0]["by_village"]) == [PARINGIN, PARINGIN_TIMUR, AWAYAN]


def test_course_ids_as_text_and_as_uuids_are_one_course():
    [line] = aggregate([row(), dict(row(), course_id=str(SEWING))], "course")
    assert line["enrolled"] == 2 and line["courses"] == 1


def test_csv_columns():
    tail = ["courses", "enrolled", "waitlisted", "completed", "not_completed", "attendance_share", "female", "male",
            "age_0-14", "age_15-24", "age_25-34", "age_35-44", "age_45-59", "age_60+", "villages"]
    assert csv_columns("course") == ["course_id", "course_title", "provider_agency", "skill_area"] + tail
    assert csv_columns("provider") == ["provider_agency"] + tail
    assert csv_columns("region") == ["region_code", "course_id", "course_title", "provider_agency",
                                     "skill_area"] + tail


def test_csv_row_flattens_a_line():
    rows = [row(sex="F", age=22, village=PARINGIN), row(sex="M", age=61, village=AWAYAN, attended=4),
            row(sex="F", age=30, village=PARINGIN, status="completed", attended=6),
            row(sex="F", age=23, village=PARINGIN, status="waitlisted")]
    [line] = aggregate(rows, "course")
    assert csv_row(line, "course") == [str(SEWING), "Menjahit Dasar", BALANGAN, "sewing", 1, 3, 1, 1, 0, 0.6,
                                       2, 1, 0, 1, 1, 0, 0, 1, f"{PARINGIN}=2 {AWAYAN}=1"]


def test_csv_row_leaves_an_unknown_share_empty():
    [line] = aggregate([row(status="waitlisted", started=False)], "provider")
    assert csv_row(line, "provider") == [BALANGAN, 1, 0, 1, 0, 0, "", 0, 0, 0, 0, 0, 0, 0, 0, ""]


def test_csv_row_by_region():
    [line] = aggregate([row()], "region", "regency")
    flat = csv_row(line, "region")
    assert flat[:5] == ["63.11", str(SEWING), "Menjahit Dasar", BALANGAN, "sewing"]
    assert len(flat) == len(csv_columns("region"))


@pytest.mark.parametrize("title", ["=HYPERLINK(\"http://x\")", "+1", "-1", "@SUM(A1)", "\tTab", "\rReturn"])
def test_csv_row_quotes_text_a_spreadsheet_would_run_as_a_formula(title):
    [line] = aggregate([dict(row(), course_title=title)], "course")
    assert csv_row(line, "course")[1] == "'" + title


@pytest.mark.parametrize("title", ["Menjahit = dasar", "Las 1+1", "", "'quoted"])
def test_csv_row_leaves_other_text_alone(title):
    [line] = aggregate([dict(row(), course_title=title)], "course")
    assert csv_row(line, "course")[1] == title


def test_csv_row_does_not_quote_numbers():
    [line] = aggregate([row(status="waitlisted")], "course")
    cells = csv_row(line, "course")
    assert cells[4:9] == [1, 0, 1, 0, 0]
    assert all(isinstance(c, int) for c in cells[4:9])
