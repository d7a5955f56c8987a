"""Attendance from the field, finishing a course exactly once, and the
certificates anyone can check."""
import io
from concurrent.futures import ThreadPoolExecutor

import requests
from pypdf import PdfReader
from setiakawan_kit.testing import wait_for

from training_support import mark, open_course
from training_samples import course_body, household, member


def running_course(client, registry_events, seats=3, **body):
    refs = []
    for _ in range(seats):
        person = member()
        registry_events.household(household([person]))
        refs.append(person["person_ref"])
    provider = client()
    course = open_course(provider, course_body(capacity=seats, **body))
    enrolments = [provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": r}).json() for r in refs]
    started = provider.post(f"/courses/{course['id']}/start")
    assert started.status_code == 200, started.text
    return provider, course, enrolments


def test_an_offline_sheet_sent_twice_records_once_and_a_correction_keeps_history(client, registry_events, db, training):
    provider, course, enrolments = running_course(client, registry_events)
    session = course["sessions"][0]["id"]
    sheet = {"marks": [mark(session, e["id"], present=i != 2) for i, e in enumerate(enrolments)]}
    first = provider.post(f"/courses/{course['id']}/attendance", sheet)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 3, "recorded": 3, "already_recorded": 0}
    again = provider.post(f"/courses/{course['id']}/attendance", sheet)
    assert again.json() == {"received": 3, "recorded": 0, "already_recorded": 3}
    with db(training.database).cursor() as cur:
        cur.execute("SELECT count(*) FROM attendance_marks")
        assert cur.fetchone()[0] == 3
    # the trainer corrects the third mark later the same day; an older offline mark arriving after it loses
    correction = mark(session, enrolments[2]["id"], present=True, recorded_at="2026-11-02T05:00:00+00:00")
    late_original = mark(session, enrolments[2]["id"], present=False, recorded_at="2026-11-02T03:00:00+00:00")
    assert provider.post(f"/courses/{course['id']}/attendance", {"marks": [correction]}).json()["recorded"] == 1
    assert provider.post(f"/courses/{course['id']}/attendance", {"marks": [late_original]}).json()["recorded"] == 1
    current = provider.get(f"/courses/{course['id']}/attendance").json()["marks"]
    assert len(current) == 3 and all(m["present"] for m in current)
    history = provider.get(f"/courses/{course['id']}/attendance?history=true").json()["marks"]
    assert [m["present"] for m in history if m["enrolment_id"] == enrolments[2]["id"]] == [False, False, True]
    changed = dict(sheet["marks"][0], present=False)
    refused = provider.post(f"/courses/{course['id']}/attendance", {"marks": [changed]})
    assert refused.status_code == 409 and refused.json()["mark_ids"] == [changed["mark_id"]]


def test_retried_and_concurrent_finish_requests_emit_one_result_per_participant(client, registry_events, events):
    provider, course, enrolments = running_course(client, registry_events, seats=4)
    first, second = (s["id"] for s in course["sessions"])
    marks = [mark(first, e["id"]) for e in enrolments] + [mark(second, e["id"]) for e in enrolments[:3]]
    marks.append(mark(second, enrolments[3]["id"], present=False))
    assert provider.post(f"/courses/{course['id']}/attendance", {"marks": marks}).status_code == 200
    events.wait_for(1 + 4)  # published, four confirmed
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: client().post(f"/courses/{course['id']}/finish"), range(4)))
    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert {(a.json()["completed"], a.json()["not_completed"]) for a in answers} == {(4, 0)}
    retried = provider.post(f"/courses/{course['id']}/finish")
    assert retried.status_code == 200 and retried.json()["completed"] == 4
    got = events.wait_for(5)
    # a marker sent after everything: nothing more came before it
    marker = provider.post("/diagnostics/ping", {"message": "marker"})
    assert marker.status_code == 202
    later = events.wait_for(1)
    assert [k for k, _ in later] == ["diagnostic.ping"]
    results = [d for k, d in got if k.startswith("participant.")]
    assert sorted(d["enrolment_id"] for d in results) == sorted(e["id"] for e in enrolments)
    assert {k for k, _ in got} == {"participant.completed", "course.finished"}
    assert all(d["skill_area"] == "sewing" and d["provider_agency"] == course["provider_agency"] for d in results)
    finished = next(d for k, d in got if k == "course.finished")
    assert (finished["completed"], finished["not_completed"]) == (4, 0)
    assert {d["attendance_share"] for d in results} == {1.0, 0.5}


def test_a_certificate_is_checked_by_anyone_and_printed_by_the_provider(client, registry_events, events, training):
    provider, course, enrolments = running_course(client, registry_events, seats=2, completion={
        "min_attendance_share": 1.0, "assessment_required": True})
    sessions = [s["id"] for s in course["sessions"]]
    provider.post(f"/courses/{course['id']}/attendance", {"marks": [mark(s, e["id"]) for s in sessions
                                                                      for e in enrolments]})
    assessed = provider.put(f"/courses/{course['id']}/assessments", {"results": [
        {"enrolment_id": enrolments[0]["id"], "passed": True}, {"enrolment_id": enrolments[1]["id"], "passed": False}]})
    assert assessed.status_code == 200 and assessed.json() == {"recorded": 2}
    assert provider.post(f"/courses/{course['id']}/finish").json()["completed"] == 1
    done = provider.get(f"/enrolments/{enrolments[0]['id']}").json()
    failed = provider.get(f"/enrolments/{enrolments[1]['id']}").json()
    assert done["status"] == "completed" and failed["status"] == "not_completed"
    assert failed["result_reasons"] == ["assessment not passed"] and failed["certificate_code"] is None
    code = done["certificate_code"]
    public = requests.get(f"{training.url}/certificates/{code}", timeout=10)
    assert public.status_code == 200, public.text
    answer = public.json()
    assert answer["valid"] is True and answer["course_title"] == course["title"]
    assert answer["provider_agency"] == course["provider_agency"] and answer["completed_on"]
    assert not {"person_ref", "household_id", "enrolment_id", "village_code"} & set(answer)
    typed = code.lower().replace("-", "").replace("0", "o")
    assert requests.get(f"{training.url}/certificates/{typed}", timeout=10).json()["code"] == code
    assert requests.get(f"{training.url}/certificates/AAAA-BBBB-CC", timeout=10).status_code == 404
    pdf = provider.get(f"/certificates/{code}/pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert code in text and f"https://cek.example.go.id/certificates/{code}" in text
    assert requests.get(f"{training.url}/certificates/{code}/pdf", timeout=10).status_code == 401
    wait_for(lambda: events.of_type("participant.completed"), timeout=30, what="participant.completed")
    assert [d["certificate_code"] for d in events.of_type("participant.completed")] == [code]
