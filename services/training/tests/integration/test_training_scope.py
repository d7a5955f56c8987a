"""Agencies do not trust each other: a course is its provider's; a draft is
the provider's alone; an agency whose regions share ground with a published
course sees it, and of its participants only those living in its regions;
the partners a course names record attendance but do not run the course;
an agency of another regency sees nothing of it at all."""
import csv
import io

from training_support import PROVIDER, mark, open_course
from training_samples import course_body, household, member

KUKAR_AGENCY = "Dinas Sosial Kabupaten Kutai Kartanegara"
PROVINCE_AGENCY = "Dinas Sosial Provinsi Kalimantan Selatan"
LABOUR_OFFICE = "Dinas Tenaga Kerja Kabupaten Balangan"  # another agency of the same regency
JUAI_NGO = "Yayasan Peduli Juai"  # an NGO working in one district of Balangan (Juai, 63.11.01)
PARTNER = "PT Adaro Indonesia"  # named in the sample course's partners
VILLAGE_GOVERNMENT = "Pemerintah Desa Muara Ninian"

MUARA_NINIAN = "63.11.01.2001"  # Juai, Balangan
HAMARUNG = "63.11.01.2002"  # Juai, Balangan
HAUWAI = "63.11.02.2001"  # Halong, Balangan
JAHAB = "64.02.06.1001"  # Tenggarong, Kutai Kartanegara


def ids(page):
    return {item["id"] for item in page["items"]}


def report_lines(caller, **query):
    response = caller.get("/reports/participation", params=query)
    assert response.status_code == 200, response.text
    return response.json()["lines"]


def csv_rows(caller, **query):
    response = caller.get("/reports/participation.csv", params=query)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def enrol(caller, course, person, status=201):
    response = caller.post(f"/courses/{course['id']}/enrolments", {"person_ref": person["person_ref"]})
    assert response.status_code == status, response.text
    return response.json()


def balangan_course(client, registry_events):
    """Balangan's published sewing course (partner PT Adaro Indonesia) with
    participants from two villages of Juai and one of Halong, and a draft;
    and Kutai Kartanegara's own course with one participant of its own."""
    provider = client()
    people = {"ninian_1": member(age=19, sex="F"), "ninian_2": member(age=24, sex="M", relationship="child"),
              "hamarung": member(age=30, sex="F"), "hauwai": member(age=21, sex="F"),
              "hauwai_2": member(age=27, sex="M"), "kukar": member(age=22, sex="F")}
    registry_events.household(household([people["ninian_1"], people["ninian_2"]], village=MUARA_NINIAN))
    registry_events.household(household([people["hamarung"]], village=HAMARUNG))
    registry_events.household(household([people["hauwai"]], village=HAUWAI))
    registry_events.household(household([people["hauwai_2"]], village=HAUWAI))
    registry_events.household(household([people["kukar"]], village=JAHAB))
    course = open_course(provider, course_body(capacity=10))
    draft = provider.post("/courses", course_body(first_day=20, title="Pelatihan tata boga"))
    assert draft.status_code == 201, draft.text
    kukar_provider = client(regions=("64.02",), agency=KUKAR_AGENCY)
    kukar_course = open_course(kukar_provider, course_body(regions=("64.02",), venue=JAHAB, partners=[],
                                                           title="Pemberdayaan masyarakat Tenggarong"))
    kukar_seat = enrol(kukar_provider, kukar_course, people["kukar"])
    return provider, people, course, draft.json(), kukar_course, kukar_seat


def test_an_agency_of_another_regency_sees_and_does_nothing_to_balangans_course(client, registry_events, db,
                                                                                  training):
    provider, people, course, draft, kukar_course, kukar_seat = balangan_course(client, registry_events)
    seats = {name: enrol(provider, course, people[name]) for name in ("ninian_1", "hamarung", "hauwai")}
    assert provider.post(f"/courses/{course['id']}/start").status_code == 200
    first = course["sessions"][0]["id"]
    sheet = provider.post(f"/courses/{course['id']}/attendance",
                          {"marks": [mark(first, seat["id"]) for seat in seats.values()]})
    assert sheet.status_code == 200 and sheet.json()["recorded"] == 3, sheet.text

    viewer = client(role="viewer", regions=("64.02",), agency=KUKAR_AGENCY)
    operator = client(role="operator", regions=("64.02",), agency=KUKAR_AGENCY)
    for caller in (viewer, operator):
        listed = caller.get("/courses")
        assert listed.status_code == 200 and ids(listed.json()) == {kukar_course["id"]}, listed.text
        assert listed.json()["total"] == 1
        for query in ({"provider": PROVIDER}, {"region": "63.11"}, {"status": "running"}, {"skill_area": "sewing",
                                                                                          "region": "63"}):
            filtered = caller.get("/courses", params=query)
            assert filtered.status_code == 200 and course["id"] not in ids(filtered.json()), (query, filtered.text)
        for path in (f"/courses/{course['id']}", f"/courses/{draft['id']}", f"/courses/{course['id']}/enrolments",
                     f"/courses/{course['id']}/attendance", f"/enrolments/{seats['ninian_1']['id']}"):
            response = caller.get(path)
            assert response.status_code == 404, (path, response.text)
            assert PROVIDER not in response.text and people["ninian_1"]["person_ref"] not in response.text
        assert report_lines(caller) == report_lines(caller, provider=KUKAR_AGENCY)
        assert {line["course_id"] for line in report_lines(caller)} == {kukar_course["id"]}
        assert report_lines(caller, course_id=course["id"]) == []
        assert report_lines(caller, provider=PROVIDER) == []
        assert report_lines(caller, by="region", level="village", region="63.11") == []
        assert [row["course_id"] for row in csv_rows(caller)] == [kukar_course["id"]]
    jahab_person = member(age=25, sex="M")
    registry_events.household(household([jahab_person], village=JAHAB))

    def counts():
        with db(training.database).cursor() as cur:
            cur.execute("SELECT (SELECT count(*) FROM enrolments), (SELECT count(*) FROM attendance_marks),"
                        " (SELECT sum(version) FROM courses), (SELECT count(*) FROM kit_outbox)")
            return cur.fetchone()

    before = counts()
    for method, path, body in (
            ("post", f"/courses/{course['id']}/enrolments", {"person_ref": jahab_person["person_ref"]}),
            ("post", f"/courses/{course['id']}/enrolments", {"person_ref": people["hauwai_2"]["person_ref"]}),
            ("post", f"/courses/{course['id']}/attendance", {"marks": [mark(first, seats["hauwai"]["id"])]}),
            ("put", f"/courses/{course['id']}/assessments", {"results": [{"enrolment_id": seats["hauwai"]["id"],
                                                                          "passed": False}]}),
            ("post", f"/enrolments/{seats['hauwai']['id']}/withdraw", None),
            ("post", f"/courses/{course['id']}/finish", None),
            ("post", f"/courses/{course['id']}/cancel", {"reason": "bukan urusan kami"}),
            ("post", f"/courses/{draft['id']}/publish", None),
            ("put", f"/courses/{draft['id']}", course_body(regions=("64.02",), venue=JAHAB))):
        response = getattr(operator, method)(path, body) if body is not None else getattr(operator, method)(path)
        assert response.status_code == 404, (method, path, response.text)
    assert counts() == before

    finished = provider.post(f"/courses/{course['id']}/finish")
    assert finished.status_code == 200 and finished.json()["completed"] == 3, finished.text
    code = provider.get(f"/enrolments/{seats['hauwai']['id']}").json()["certificate_code"]
    assert code
    assert viewer.get(f"/certificates/{code}/pdf").status_code == 404
    assert provider.get(f"/certificates/{code}/pdf").status_code == 200
    public = viewer.get(f"/certificates/{code}").json()  # anyone checks a code: the course, nothing of the person
    assert public["valid"] and public["course_id"] == course["id"]
    assert people["hauwai"]["person_ref"] not in str(public) and seats["hauwai"]["id"] not in str(public)

    balangan_viewer = client(role="viewer")
    assert kukar_course["id"] not in ids(balangan_viewer.get("/courses").json())
    assert balangan_viewer.get(f"/enrolments/{kukar_seat['id']}").status_code == 404
    assert {line["course_id"] for line in report_lines(balangan_viewer)} == {course["id"]}


def test_a_draft_is_its_providers_alone(client, registry_events):
    provider, people, course, draft, kukar_course, _ = balangan_course(client, registry_events)
    others = {"the provider's viewer": (client(role="viewer"), True),
              "another agency of Balangan": (client(agency=LABOUR_OFFICE), False),
              "the partner it names": (client(agency=PARTNER, kind="csr", regions=("63.09",)), False),
              "the province": (client(role="viewer", agency=PROVINCE_AGENCY, kind="province", regions=("63",)), False)}
    for label, (caller, sees) in others.items():
        listed = caller.get("/courses")
        assert listed.status_code == 200, (label, listed.text)
        assert (draft["id"] in ids(listed.json())) is sees, label
        assert course["id"] in ids(listed.json()), label
        assert caller.get(f"/courses/{draft['id']}").status_code == (200 if sees else 404), label
        assert caller.get(f"/courses/{draft['id']}/enrolments").status_code == (200 if sees else 404), label
        assert caller.get("/courses", params={"status": "draft"}).json()["total"] == (1 if sees else 0), label
    for caller in (others["another agency of Balangan"][0], others["the partner it names"][0]):
        assert caller.post(f"/courses/{draft['id']}/publish").status_code == 404
        assert caller.put(f"/courses/{draft['id']}", course_body()).status_code == 404
    assert provider.get(f"/courses/{draft['id']}").json()["status"] == "draft"
    published = provider.post(f"/courses/{draft['id']}/publish")
    assert published.status_code == 200, published.text
    assert others["another agency of Balangan"][0].get(f"/courses/{draft['id']}").status_code == 200


def test_the_province_sees_balangans_published_course_and_its_participants(client, registry_events):
    provider, people, course, draft, kukar_course, _ = balangan_course(client, registry_events)
    seats = [enrol(provider, course, people[name]) for name in ("ninian_1", "hauwai")]
    province = client(role="viewer", agency=PROVINCE_AGENCY, kind="province", regions=("63",))
    listed = province.get("/courses").json()
    assert ids(listed) == {course["id"]} and listed["total"] == 1  # not the draft, not Kalimantan Timur's
    assert province.get(f"/courses/{course['id']}").json()["provider_agency"] == PROVIDER
    enrolments = province.get(f"/courses/{course['id']}/enrolments").json()
    assert [e["id"] for e in enrolments["items"]] == [s["id"] for s in seats] and enrolments["total"] == 2
    assert province.get(f"/enrolments/{seats[1]['id']}").status_code == 200
    assert [(line["course_id"], line["enrolled"]) for line in report_lines(province)] == [(course["id"], 2)]
    assert province.post(f"/courses/{course['id']}/enrolments",
                         {"person_ref": people["hamarung"]["person_ref"]}).status_code == 403  # a viewer
    kaltim = client(role="viewer", agency="Dinas Sosial Provinsi Kalimantan Timur", kind="province", regions=("64",))
    assert ids(kaltim.get("/courses").json()) == {kukar_course["id"]}
    assert kaltim.get(f"/courses/{course['id']}").status_code == 404


def test_a_partner_records_attendance_but_does_not_run_the_course(client, registry_events, db, training):
    provider, people, course, draft, _, _ = balangan_course(client, registry_events)
    seats = [enrol(provider, course, people[name]) for name in ("ninian_1", "hauwai")]
    partner = client(agency=PARTNER, kind="csr", regions=("63.09",))  # Tabalong: it is the course's by name
    trainer = client(role="field_officer", agency=PARTNER, kind="csr", regions=("63.09",))
    partner_viewer = client(role="viewer", agency=PARTNER, kind="csr", regions=("63.09",))
    assert partner.get(f"/courses/{course['id']}").status_code == 200
    assert course["id"] in ids(partner.get("/courses").json())
    assert {e["id"] for e in partner.get(f"/courses/{course['id']}/enrolments").json()["items"]} == {
        s["id"] for s in seats}
    first = course["sessions"][0]["id"]
    assert partner.post(f"/courses/{course['id']}/attendance",
                        {"marks": [mark(first, seats[0]["id"])]}).status_code == 409  # not running yet
    assert provider.post(f"/courses/{course['id']}/start").status_code == 200
    for caller in (partner, trainer):
        sheet = caller.post(f"/courses/{course['id']}/attendance", {"marks": [mark(first, s["id"]) for s in seats]})
        assert sheet.status_code == 200 and sheet.json()["recorded"] == 2, sheet.text
    recorded_by = {m["recorded_by"] for m in provider.get(f"/courses/{course['id']}/attendance",
                                                          params={"history": "true"}).json()["marks"]}
    assert recorded_by == {PARTNER}
    assessed = partner.put(f"/courses/{course['id']}/assessments",
                           {"results": [{"enrolment_id": seats[0]["id"], "passed": True}]})
    assert assessed.status_code == 200, assessed.text
    assert partner_viewer.post(f"/courses/{course['id']}/attendance",
                               {"marks": [mark(first, seats[0]["id"])]}).status_code == 403

    with db(training.database).cursor() as cur:
        cur.execute("SELECT status, version FROM courses WHERE id = %s", (course["id"],))
        before = cur.fetchone()
    for method, path, body in (("post", f"/courses/{course['id']}/finish", None),
                               ("post", f"/courses/{course['id']}/publish", None),
                               ("post", f"/courses/{course['id']}/start", None),
                               ("post", f"/courses/{course['id']}/cancel", {"reason": "mitra mundur"}),
                               ("put", f"/courses/{course['id']}", course_body())):
        response = getattr(partner, method)(path, body) if body is not None else getattr(partner, method)(path)
        assert response.status_code == 403, (method, path, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
    with db(training.database).cursor() as cur:
        cur.execute("SELECT status, version FROM courses WHERE id = %s", (course["id"],))
        assert cur.fetchone() == before == ("running", before[1])
    labour = client(agency=LABOUR_OFFICE)  # sees the course (same regency) but does not organise it
    assert labour.post(f"/courses/{course['id']}/attendance",
                       {"marks": [mark(first, seats[0]["id"])]}).status_code == 403
    assert provider.post(f"/courses/{course['id']}/finish").status_code == 200


def test_another_agency_of_the_regency_enrols_people_of_its_regions_but_does_not_run_the_course(client,
                                                                                                 registry_events):
    provider, people, course, draft, _, _ = balangan_course(client, registry_events)
    ngo = client(agency=JUAI_NGO, kind="ngo", regions=("63.11.01",))
    labour = client(agency=LABOUR_OFFICE)
    ngo_seat = enrol(ngo, course, people["hamarung"])
    assert ngo_seat["requested_by"] == JUAI_NGO and ngo_seat["status"] == "confirmed"
    refused = enrol(ngo, course, people["hauwai"], status=422)  # Halong is not the NGO's: told no more than for a stranger
    assert "outside your regions" in refused["detail"]
    labour_seat = enrol(labour, course, people["hauwai"])
    provider_seat = enrol(provider, course, people["hauwai_2"])
    listed = ngo.get(f"/courses/{course['id']}/enrolments").json()
    assert [e["id"] for e in listed["items"]] == [ngo_seat["id"]] and listed["total"] == 1
    assert ngo.get(f"/enrolments/{labour_seat['id']}").status_code == 404
    assert ngo.post(f"/enrolments/{provider_seat['id']}/withdraw").status_code == 404
    assert {e["id"] for e in labour.get(f"/courses/{course['id']}/enrolments").json()["items"]} == {
        ngo_seat["id"], labour_seat["id"], provider_seat["id"]}
    assert provider.post(f"/courses/{course['id']}/start").status_code == 200
    for caller in (ngo, labour):
        for path in (f"/courses/{course['id']}/finish", f"/courses/{course['id']}/publish"):
            response = caller.post(path)
            assert response.status_code == 403, (path, response.text)
        assert caller.post(f"/courses/{course['id']}/cancel", {"reason": "x"}).status_code == 403
    assert provider.get(f"/courses/{course['id']}").json()["status"] == "running"


def test_a_village_government_sees_only_its_villagers(client, registry_events):
    provider, people, course, draft, _, _ = balangan_course(client, registry_events)
    seats = {name: enrol(provider, course, people[name]) for name in ("ninian_1", "hamarung", "ninian_2", "hauwai")}
    village = client(role="viewer", agency=VILLAGE_GOVERNMENT, kind="village", regions=(MUARA_NINIAN,))
    assert ids(village.get("/courses").json()) == {course["id"]}  # the course is for all Balangan
    listed = village.get(f"/courses/{course['id']}/enrolments").json()
    assert [e["id"] for e in listed["items"]] == [seats["ninian_1"]["id"], seats["ninian_2"]["id"]]
    assert listed["total"] == 2 and {e["village_code"] for e in listed["items"]} == {MUARA_NINIAN}
    assert village.get(f"/enrolments/{seats['ninian_2']['id']}").status_code == 200
    assert village.get(f"/enrolments/{seats['hamarung']['id']}").status_code == 404
    assert provider.post(f"/courses/{course['id']}/start").status_code == 200
    first = course["sessions"][0]["id"]
    sheet = provider.post(f"/courses/{course['id']}/attendance", {"marks": [mark(first, s["id"])
                                                                            for s in seats.values()]})
    assert sheet.status_code == 200, sheet.text
    marks = village.get(f"/courses/{course['id']}/attendance").json()["marks"]
    assert sorted(m["enrolment_id"] for m in marks) == sorted([seats["ninian_1"]["id"], seats["ninian_2"]["id"]])
    [line] = report_lines(village)
    assert (line["enrolled"], line["by_village"]) == (2, {MUARA_NINIAN: 2})
    village_clerk = client(role="operator", agency=VILLAGE_GOVERNMENT, kind="village", regions=(MUARA_NINIAN,))
    assert village_clerk.post(f"/courses/{course['id']}/attendance",
                              {"marks": [mark(first, seats["ninian_1"]["id"])]}).status_code == 403
    assert provider.post(f"/courses/{course['id']}/finish").status_code == 200
    codes = {name: provider.get(f"/enrolments/{seat['id']}").json()["certificate_code"]
             for name, seat in seats.items()}
    assert all(codes.values()), codes
    assert village.get(f"/certificates/{codes['ninian_1']}/pdf").status_code == 200
    assert village.get(f"/certificates/{codes['hamarung']}/pdf").status_code == 404


def test_enrolling_a_person_of_another_regency_tells_nothing_about_them(client, registry_events, db, training):
    """A person_ref of Kutai Kartanegara sent to Balangan's course (by its
    provider, or by a partner whose token covers neither) is refused without
    telling where the person lives, their age or their household's decile:
    those are Kutai Kartanegara's to know."""
    provider, people, course, draft, _, _ = balangan_course(client, registry_events)
    stranger = member(age=61, sex="M")
    registry_events.household(household([stranger], village=JAHAB, decile=7))
    partner = client(agency=PARTNER, kind="csr", regions=("63.09",))
    for label, caller in (("the provider", provider), ("the partner", partner)):
        response = caller.post(f"/courses/{course['id']}/enrolments", {"person_ref": stranger["person_ref"]})
        assert response.status_code in (403, 422), (label, response.text)
        assert response.headers["Content-Type"] == "application/problem+json"
        for fact in (JAHAB, "64.02", "age 61", "decile 7"):
            assert fact not in response.text, (label, fact, response.text)
    with db(training.database).cursor() as cur:
        cur.execute("SELECT count(*) FROM enrolments WHERE person_ref = %s", (stranger["person_ref"],))
        assert cur.fetchone()[0] == 0
    inside = partner.post(f"/courses/{course['id']}/enrolments", {"person_ref": people["hauwai"]["person_ref"]})
    assert inside.status_code == 201, inside.text  # a partner enrols people of the course's regions
