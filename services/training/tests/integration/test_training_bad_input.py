"""Every kind of bad input to the training service is a 4xx problem document
(application/problem+json with type, title and status), never a 500, and
changes nothing: no course, session, enrolment, mark or certificate is
stored or changed, and no event is written to the outbox."""
import json
import re
import uuid

import requests

from training_support import PROVIDER, mark, open_course
from setiakawan_kit.http import MAX_BODY_BYTES
from setiakawan_kit.testing import assert_problem, database_state
from training_samples import BALANGAN, PARINGIN, at, course_body, group, household, member

#: tables whose rows must stay exactly as they were (compared row by row)
TABLES = ("courses", "sessions", "enrolments", "attendance_marks", "certificates")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
KUKAR = ("64.02",)


def state(db, training):
    return database_state(db(training.database), TABLES)


def names(doc, field):
    """Whether a problem's errors name ``field`` (or a part of it:
    ``eligibility`` for ``eligibility._schema``), ``sessions[0].ends_at``
    read as the schema spells it, ``sessions.0.ends_at``."""
    named = {re.sub(r"\[(\d+)\]", r".\1", e["field"]) for e in doc.get("errors") or ()}
    return any(n == field or n.startswith(field + ".") for n in named)


def broken(mutate, **kw):
    body = course_body(**kw)
    mutate(body)
    return body


def session(day, hour=1, hours=6, venue=PARINGIN):
    return {"starts_at": at(day, hour), "ends_at": at(day, hour + hours), "venue_village_code": venue}


def _without(key):
    return lambda b: b.pop(key)


def _session(**changes):
    return lambda b: b["sessions"][0].update(changes)


#: (what, how the sample course is spoilt, a field the problem names)
COURSE_CASES = [
    ("unknown field", lambda b: b.update(colour="red"), "colour"),
    ("unknown field in a session", _session(room="B"), "sessions.0.room"),
    ("unknown field in the eligibility", lambda b: b["eligibility"].update(religion="x"), "eligibility.religion"),
    ("no title", _without("title"), "title"),
    ("no sessions", _without("sessions"), "sessions"),
    ("no capacity", _without("capacity"), "capacity"),
    ("no region codes", _without("region_codes"), "region_codes"),
    ("a session without its end", lambda b: b["sessions"][0].pop("ends_at"), "sessions.0.ends_at"),
    ("empty title", lambda b: b.update(title=""), "title"),
    ("title too long", lambda b: b.update(title="x" * 301), "title"),
    ("no session at all", lambda b: b.update(sessions=[]), "sessions"),
    ("no region at all", lambda b: b.update(region_codes=[]), "region_codes"),
    ("capacity as text", lambda b: b.update(capacity="twenty"), "capacity"),
    ("capacity 0", lambda b: b.update(capacity=0), "capacity"),
    ("capacity negative", lambda b: b.update(capacity=-5), "capacity"),
    ("capacity beyond any hall", lambda b: b.update(capacity=10 ** 30), "capacity"),
    ("title a number", lambda b: b.update(title=42), "title"),
    ("title null", lambda b: b.update(title=None), "title"),
    ("eligibility null", lambda b: b.update(eligibility=None), "eligibility"),
    ("a region code null", lambda b: b.update(region_codes=[None]), "region_codes.0"),
    ("region codes a string", lambda b: b.update(region_codes="63.11"), "region_codes"),
    ("sessions an object", lambda b: b.update(sessions={"starts_at": at(0)}), "sessions"),
    ("partners a string", lambda b: b.update(partners="PT Adaro Indonesia"), "partners"),
    ("eligibility a list", lambda b: b.update(eligibility=[16, 35]), "eligibility"),
    ("verified_only a word", lambda b: b["eligibility"].update(verified_only="perhaps"), "eligibility.verified_only"),
    ("min attendance above 1", lambda b: b["completion"].update(min_attendance_share=1.5),
     "completion.min_attendance_share"),
    ("unknown skill area", lambda b: b.update(skill_area="juggling"), "skill_area"),
    ("unknown mode", lambda b: b.update(mode="online"), "mode"),
    ("unknown sex", lambda b: b["eligibility"].update(sex="X"), "eligibility.sex"),
    ("decile 11", lambda b: b["eligibility"].update(max_decile=11), "eligibility.max_decile"),
    ("negative age", lambda b: b["eligibility"].update(min_age=-1), "eligibility.min_age"),
    ("unknown group kind", lambda b: b["eligibility"].update(group_kind="choir"), "eligibility.group_kind"),
    ("min_age above max_age", lambda b: b["eligibility"].update(min_age=40, max_age=20), "eligibility.max_age"),
    ("a group course naming no group kind", lambda b: b.update(mode="group"), "eligibility.group_kind"),
    ("30 February", _session(starts_at="2026-02-30T01:00:00+07:00"), "sessions.0.starts_at"),
    ("hour 25", _session(ends_at="2026-11-02T25:00:00+07:00"), "sessions.0.ends_at"),
    ("a date without a time zone", _session(starts_at="2026-11-02T01:00:00"), "sessions.0.starts_at"),
    ("a date that is not a date", _session(starts_at="besok pagi"), "sessions.0.starts_at"),
    ("a date as a number", _session(starts_at=1793581200), "sessions.0.starts_at"),
    ("a session ending before it starts", _session(starts_at=at(0, 7), ends_at=at(0, 1)), "sessions.0.ends_at"),
    ("a session ending as it starts", _session(starts_at=at(0, 1), ends_at=at(0, 1)), "sessions.0.ends_at"),
    ("overlapping sessions", lambda b: b.update(sessions=[session(0, 1), session(0, 3)]), "sessions"),
    ("a venue village not on the Kemendagri list", _session(venue_village_code="63.11.01.9999"),
     "sessions.0.venue_village_code"),
    ("a venue that is a district, not a village", _session(venue_village_code="63.11.01"),
     "sessions.0.venue_village_code"),
    ("a venue outside the course's regions", _session(venue_village_code="63.09.01.2001"),
     "sessions.0.venue_village_code"),
    ("a region code of a bad format", lambda b: b.update(region_codes=["6311"]), "region_codes.0"),
    ("a region code with letters", lambda b: b.update(region_codes=["63.1a"]), "region_codes.0"),
    ("a region not on the list", lambda b: b.update(region_codes=["63.99"]), "region_codes.0"),
    ("a NUL in the title", lambda b: b.update(title="Menjahit\u0000"), "body"),
    ("a NUL in a partner", lambda b: b.update(partners=["PT\u0000Adaro"]), "body"),
    ("a NUL in a venue", _session(venue="Balai\u0000Desa"), "body"),
]


def test_each_bad_course_is_a_422_naming_the_field_and_changes_nothing(client, db, training):
    provider = client()
    draft = provider.post("/courses", course_body())
    assert draft.status_code == 201, draft.text
    draft = draft.json()
    before = state(db, training)
    for label, mutate, field in COURSE_CASES:
        for method, path in (("post", "/courses"), ("put", f"/courses/{draft['id']}")):
            response = getattr(provider, method)(path, broken(mutate))
            doc = assert_problem(response, 422, f"{method} {label}")
            assert names(doc, field), (label, method, doc)
        assert state(db, training) == before, label
    assert provider.get(f"/courses/{draft['id']}").json() == draft


def test_malformed_requests_are_problems_and_change_nothing(client, db, training, token):
    provider = client()
    before = state(db, training)
    url, auth = training.url + "/courses", provider.headers
    as_json = dict(auth, **{"Content-Type": "application/json"})
    sample = json.dumps(course_body()).encode()
    cases = [
        ("malformed JSON", 400, dict(data=b'{"title": "Menjahit",', headers=as_json)),
        ("invalid UTF-8", 400, dict(data=b'{"title": "\xff\xfe"}', headers=as_json)),
        ("an empty body", 400, dict(data=b"", headers=as_json)),
        ("JSON nested too deep", 400, dict(data=b"[" * 100_000 + b"]" * 100_000, headers=as_json)),
        ("a JSON array instead of an object", 422, dict(data=json.dumps([course_body()]), headers=as_json)),
        ("a JSON string instead of an object", 422, dict(data=b'"a course"', headers=as_json)),
        ("JSON null", 422, dict(data=b"null", headers=as_json)),
        ("NaN as the capacity", 422, dict(data=sample.replace(b'"capacity": 20', b'"capacity": NaN'),
                                          headers=as_json)),
        ("Infinity as the capacity", 422, dict(data=sample.replace(b'"capacity": 20', b'"capacity": Infinity'),
                                               headers=as_json)),
        ("a form instead of JSON", 415, dict(data={"title": "Menjahit"}, headers=auth)),
        ("text/plain", 415, dict(data=sample, headers=dict(auth, **{"Content-Type": "text/plain"}))),
        ("no content type", 415, dict(data=sample, headers=auth)),
        ("JSON over 10 MiB", 413, dict(data=b'{"title": "' + b"x" * MAX_BODY_BYTES + b'"}', headers=as_json)),
        ("no token", 401, dict(json=course_body())),
        ("a token that is not a JWT", 401, dict(json=course_body(), headers={"Authorization": "Bearer abc.def"})),
        ("not a bearer token", 401, dict(json=course_body(), headers={"Authorization": "Basic dXNlcjpwYXNz"})),
        ("a viewer creating", 403, dict(json=course_body(), headers=client(role="viewer").headers)),
        ("a field officer creating", 403, dict(json=course_body(), headers=client(role="field_officer").headers)),
        ("regions outside the caller's", 403, dict(json=course_body(regions=("64.02",), venue="64.02.06.1001"),
                                                  headers=auth)),
    ]
    for label, status, request in cases:
        assert_problem(requests.post(url, timeout=60, **request), status, label)
        assert state(db, training) == before, label

    def chunks():  # no Content-Length: the body is refused all the same once past the limit
        body = b'{"title": "' + b"x" * MAX_BODY_BYTES + b'"}'
        for start in range(0, len(body), 1 << 20):
            yield body[start:start + (1 << 20)]

    assert_problem(requests.post(url, data=chunks(), headers=as_json, timeout=60), 413, "chunked over 10 MiB")
    expired = token(regions=(BALANGAN,), agency=PROVIDER, kind="district", now=_long_ago())
    assert_problem(requests.post(url, json=course_body(), timeout=60,
                                 headers={"Authorization": f"Bearer {expired}"}), 401, "an expired token")
    assert_problem(requests.delete(url, headers=auth, timeout=60), 405, "a method the path has not")
    assert_problem(requests.get(training.url + "/no/such/thing", headers=auth, timeout=60), 404, "no such path")
    assert state(db, training) == before
    assert provider.get("/courses").json()["total"] == 0


def _long_ago():
    from datetime import datetime, timedelta, timezone
    return datetime.now(timezone.utc) - timedelta(days=2)


def test_unknown_ids_and_ids_that_are_not_uuids_are_404(client, db, training):
    provider = client()
    course = open_course(provider, course_body())
    before = state(db, training)
    viewer = client(role="viewer")
    cases = [
        (provider, "get", f"/courses/{UNKNOWN}", None),
        (provider, "put", f"/courses/{UNKNOWN}", course_body()),
        (provider, "post", f"/courses/{UNKNOWN}/publish", None),
        (provider, "post", f"/courses/{UNKNOWN}/start", None),
        (provider, "post", f"/courses/{UNKNOWN}/finish", None),
        (provider, "post", f"/courses/{UNKNOWN}/cancel", {"reason": "dana tidak cair"}),
        (provider, "post", f"/courses/{UNKNOWN}/enrolments", {"person_ref": str(uuid.uuid4())}),
        (provider, "post", f"/courses/{UNKNOWN}/attendance", {"marks": [mark(UNKNOWN, UNKNOWN)]}),
        (provider, "put", f"/courses/{UNKNOWN}/assessments", {"results": [{"enrolment_id": UNKNOWN, "passed": True}]}),
        (viewer, "get", f"/courses/{UNKNOWN}/enrolments", None),
        (viewer, "get", f"/courses/{UNKNOWN}/attendance", None),
        (viewer, "get", f"/enrolments/{UNKNOWN}", None),
        (provider, "post", f"/enrolments/{UNKNOWN}/withdraw", None),
        (viewer, "get", "/courses/not-a-uuid", None),
        (viewer, "get", f"/courses/{course['id']}x", None),
        (viewer, "get", f"/courses/{course['id'][:-1]}", None),
        (provider, "post", "/courses/12345/publish", None),
        (viewer, "get", "/enrolments/not-a-uuid", None),
        (provider, "post", "/enrolments/%00/withdraw", None),
        (viewer, "get", "/certificates/0000-0000-00/pdf", None),
        (viewer, "get", "/certificates/not%20a%20code/pdf", None),
    ]
    for caller, method, path, body in cases:
        response = getattr(caller, method)(path, body) if body is not None else getattr(caller, method)(path)
        assert_problem(response, 404, f"{method} {path}")
    for code in ("NOT-A-CODE", "0000-0000-00", "0000000000", "ABCD-EFGH-JK-LM", "x" * 1000, "%00", "%F0%9F%98%80",
                 "..%2F..%2Fetc%2Fpasswd"):
        assert_problem(requests.get(f"{training.url}/certificates/{code}", timeout=30), 404, code)  # no token needed
    assert state(db, training) == before


def test_bad_enrolments_are_refused_and_change_nothing(client, db, training, registry_events):
    provider = client()
    young = member(age=22, sex="F")
    too_old = member(age=60, sex="M", relationship="parent")
    registry_events.household(household([young, too_old]))
    course = open_course(provider, course_body())
    draft = provider.post("/courses", course_body(first_day=20)).json()
    enrolled = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": young["person_ref"]})
    assert enrolled.status_code == 201, enrolled.text
    before = state(db, training)
    enrol = f"/courses/{course['id']}/enrolments"
    cases = [
        ("an unknown person_ref", enrol, {"person_ref": str(uuid.uuid4())}, 422, "person_ref"),
        ("a person_ref that is not a UUID", enrol, {"person_ref": "Siti Aminah"}, 422, "person_ref"),
        ("a person_ref that is a number", enrol, {"person_ref": 6211}, 422, "person_ref"),
        ("no person_ref", enrol, {}, 422, "person_ref"),
        ("a NIK instead of a person_ref", enrol, {"person_ref": "6311014107850003"}, 422, "person_ref"),
        ("an unknown field", enrol, {"person_ref": young["person_ref"], "note": "x"}, 422, "note"),
        ("a person too old for the course", enrol, {"person_ref": too_old["person_ref"]}, 422, None),
        ("a person enrolled already", enrol, {"person_ref": young["person_ref"]}, 409, None),
        ("enrolment in a draft", f"/courses/{draft['id']}/enrolments", {"person_ref": young["person_ref"]}, 409,
         None),
        ("a group into an individual course", f"/courses/{course['id']}/group-enrolments",
         {"group_id": str(uuid.uuid4()), "member_refs": [young["person_ref"]]}, 422, "group_id"),
        ("a group sending nobody", f"/courses/{course['id']}/group-enrolments",
         {"group_id": str(uuid.uuid4()), "member_refs": []}, 422, "member_refs"),
        ("member refs that are not UUIDs", f"/courses/{course['id']}/group-enrolments",
         {"group_id": str(uuid.uuid4()), "member_refs": ["a", "b"]}, 422, "member_refs.0"),
    ]
    for label, path, body, status, field in cases:
        doc = assert_problem(provider.post(path, body), status, label)
        if field:
            assert names(doc, field), (label, doc)
        assert state(db, training) == before, label
    viewer = client(role="viewer")
    assert_problem(viewer.post(enrol, {"person_ref": too_old["person_ref"]}), 403, "a viewer enrolling")
    assert state(db, training) == before


def test_a_group_course_refuses_unknown_groups_and_strangers(client, db, training, registry_events):
    provider = client()
    members = [member(age=20, sex="M"), member(age=24, sex="F", relationship="child")]
    stranger = member(age=23, sex="M")
    registry_events.household(household(members))
    registry_events.household(household([stranger]))
    team = group([m["person_ref"] for m in members], village=PARINGIN)
    registry_events.group(team)
    course = open_course(provider, course_body(mode="group", eligibility={"group_kind": "karang_taruna"}))
    before = state(db, training)
    path = f"/courses/{course['id']}/group-enrolments"
    cases = [
        ("an individual into a group course", f"/courses/{course['id']}/enrolments",
         {"person_ref": members[0]["person_ref"]}, "person_ref"),
        ("an unknown group", path, {"group_id": str(uuid.uuid4()), "member_refs": [members[0]["person_ref"]]},
         "group_id"),
        ("a member who is not one", path, {"group_id": team["group_id"], "member_refs": [stranger["person_ref"]]},
         "member_refs"),
    ]
    for label, url, body, field in cases:
        doc = assert_problem(provider.post(url, body), 422, label)
        assert names(doc, field), (label, doc)
        assert state(db, training) == before, label


def test_bad_attendance_and_actions_the_state_refuses_change_nothing(client, db, training, registry_events):
    provider = client()
    people = [member(age=20 + i, sex="F" if i % 2 else "M", relationship="head" if i == 0 else "child")
              for i in range(3)]
    registry_events.household(household(people))
    running = open_course(provider, course_body(capacity=1))
    other = open_course(provider, course_body(first_day=10))
    seat = provider.post(f"/courses/{running['id']}/enrolments", {"person_ref": people[0]["person_ref"]}).json()
    waiting = provider.post(f"/courses/{running['id']}/enrolments", {"person_ref": people[1]["person_ref"]}).json()
    elsewhere = provider.post(f"/courses/{other['id']}/enrolments", {"person_ref": people[2]["person_ref"]}).json()
    assert (seat["status"], waiting["status"], elsewhere["status"]) == ("confirmed", "waitlisted", "confirmed")
    assert provider.post(f"/courses/{running['id']}/start").status_code == 200
    first = running["sessions"][0]["id"]
    recorded = mark(first, seat["id"], present=True)
    sheet = provider.post(f"/courses/{running['id']}/attendance", {"marks": [recorded]})
    assert sheet.status_code == 200 and sheet.json()["recorded"] == 1, sheet.text
    before = state(db, training)

    attendance = f"/courses/{running['id']}/attendance"
    same_id = str(uuid.uuid4())
    refused = [
        ("a session of another course", attendance, [mark(other["sessions"][0]["id"], seat["id"])], 422,
         "marks.0.session_id"),
        ("a session that does not exist", attendance, [mark(UNKNOWN, seat["id"])], 422, "marks.0.session_id"),
        ("an enrolment of another course", attendance, [mark(first, elsewhere["id"])], 422, "marks.0.enrolment_id"),
        ("a waitlisted enrolment", attendance, [mark(first, waiting["id"])], 422, "marks.0.enrolment_id"),
        ("a mark made in the future", attendance, [mark(first, seat["id"], recorded_at="2099-01-01T00:00:00+00:00")],
         422, "marks.0.recorded_at"),
        ("a mark time without a time zone", attendance, [mark(first, seat["id"], recorded_at="2026-11-02T02:00:00")],
         422, "marks.0.recorded_at"),
        ("present as a word", attendance, [dict(mark(first, seat["id"]), present="hadir")], 422, "marks.0.present"),
        ("a mark id that is not a UUID", attendance, [mark(first, seat["id"], mark_id="m-1")], 422, "marks.0.mark_id"),
        ("one mark id twice with different content", attendance,
         [mark(first, seat["id"], mark_id=same_id), mark(first, seat["id"], present=False, mark_id=same_id)], 422,
         "marks.1.mark_id"),
        ("a good mark with a bad one", attendance, [mark(first, seat["id"]), mark(UNKNOWN, seat["id"])], 422,
         "marks.1.session_id"),
        ("an empty sheet", attendance, [], 422, "marks"),
        ("a mark id used before for another mark", attendance, [dict(recorded, present=False)], 409, None),
        ("a mark id used before for another time", attendance,
         [dict(recorded, recorded_at="2026-11-02T03:00:00+00:00")], 409, None),
    ]
    for label, path, marks, status, field in refused:
        doc = assert_problem(provider.post(path, {"marks": marks}), status, label)
        if field:
            assert names(doc, field), (label, doc)
        assert state(db, training) == before, label
    resent = provider.post(attendance, {"marks": [dict(recorded, recorded_at="2026-11-02T09:00:00+07:00")]})
    assert resent.status_code == 200 and resent.json() == {"received": 1, "recorded": 0, "already_recorded": 1}
    assert state(db, training) == before

    assessments = f"/courses/{running['id']}/assessments"
    for label, results, field in (
            ("an enrolment of another course", [{"enrolment_id": elsewhere["id"], "passed": True}], "results"),
            ("a waitlisted enrolment", [{"enrolment_id": waiting["id"], "passed": True}], "results"),
            ("a participant with a stranger", [{"enrolment_id": seat["id"], "passed": True},
                                               {"enrolment_id": elsewhere["id"], "passed": True}], "results"),
            ("passed as a word", [{"enrolment_id": seat["id"], "passed": "lulus"}], "results.0.passed")):
        doc = assert_problem(provider.put(assessments, {"results": results}), 422, label)
        assert names(doc, field), (label, doc)
        assert state(db, training) == before, label

    draft = provider.post("/courses", course_body(first_day=30)).json()
    before = state(db, training)
    conflicts = [
        ("attendance on an open course", "post", f"/courses/{other['id']}/attendance",
         {"marks": [mark(other["sessions"][0]["id"], elsewhere["id"])]}),
        ("attendance on a draft", "post", f"/courses/{draft['id']}/attendance",
         {"marks": [mark(draft["sessions"][0]["id"], seat["id"])]}),
        ("assessments on an open course", "put", f"/courses/{other['id']}/assessments",
         {"results": [{"enrolment_id": elsewhere["id"], "passed": True}]}),
        ("finish an open course", "post", f"/courses/{other['id']}/finish", None),
        ("finish a draft", "post", f"/courses/{draft['id']}/finish", None),
        ("edit an open course", "put", f"/courses/{other['id']}", course_body(first_day=10, capacity=5)),
        ("edit a running course", "put", f"/courses/{running['id']}", course_body(capacity=5)),
        ("publish an open course", "post", f"/courses/{other['id']}/publish", None),
        ("start a draft", "post", f"/courses/{draft['id']}/start", None),
        ("start a running course", "post", f"/courses/{running['id']}/start", None),
        ("enrol in a running course", "post", f"/courses/{running['id']}/enrolments",
         {"person_ref": people[2]["person_ref"]}),
    ]
    for label, method, path, body in conflicts:
        response = getattr(provider, method)(path, body) if body is not None else getattr(provider, method)(path)
        assert_problem(response, 409, label)
        assert state(db, training) == before, label

    finished = provider.post(f"/courses/{running['id']}/finish")
    assert finished.status_code == 200 and finished.json()["completed"] == 1, finished.text
    before = state(db, training)
    for label, method, path, body in (
            ("cancel a finished course", "post", f"/courses/{running['id']}/cancel", {"reason": "terlambat"}),
            ("attendance on a finished course", "post", attendance, {"marks": [mark(first, seat["id"])]}),
            ("withdraw from a finished course", "post", f"/enrolments/{seat['id']}/withdraw", None),
            ("edit a finished course", "put", f"/courses/{running['id']}", course_body())):
        response = getattr(provider, method)(path, body) if body is not None else getattr(provider, method)(path)
        assert_problem(response, 409, label)
        assert state(db, training) == before, label
    for label, body, field in (("a cancel without a reason", {}, "reason"),
                               ("a reason that is empty", {"reason": ""}, "reason"),
                               ("a reason with a NUL", {"reason": "dana\u0000"}, "body")):
        doc = assert_problem(provider.post(f"/courses/{other['id']}/cancel", body), 422, label)
        assert names(doc, field), (label, doc)
    assert state(db, training) == before


def test_bad_query_parameters_are_422(client, db, training):
    provider = client()
    course = open_course(provider, course_body())
    before = state(db, training)
    cases = [
        ("/courses", {"per_page": "0"}, "per_page"),
        ("/courses", {"per_page": "501"}, "per_page"),
        ("/courses", {"page": "0"}, "page"),
        ("/courses", {"page": "satu"}, "page"),
        ("/courses", {"status": "closed"}, "status"),
        ("/courses", {"skill_area": "juggling"}, "skill_area"),
        ("/courses", {"region": "63.11.01.9999"}, "region"),
        ("/courses", {"region": "6311"}, "region"),
        ("/courses", {"colour": "red"}, "colour"),
        ("/courses", {"provider": "Dinas\x00Sosial"}, "query"),
        (f"/courses/{course['id']}/enrolments", {"status": "graduated"}, "status"),
        (f"/courses/{course['id']}/enrolments", {"per_page": "-1"}, "per_page"),
        (f"/courses/{course['id']}/attendance", {"history": "perhaps"}, "history"),
        ("/reports/participation", {"by": "nonsense"}, "by"),
        ("/reports/participation", {"by": "region", "level": "street"}, "level"),
        ("/reports/participation", {"region": "63.11.01.9999"}, "region"),
        ("/reports/participation", {"course_id": "not-a-uuid"}, "course_id"),
        ("/reports/participation", {"since": "2026-02-30"}, "since"),
        ("/reports/participation", {"since": "2026-12-01", "until": "2026-11-01"}, "until"),
        ("/reports/participation", {"skill_area": "juggling"}, "skill_area"),
        ("/reports/participation", {"provider": "x" * 301}, "provider"),
        ("/reports/participation.csv", {"by": "nonsense"}, "by"),
        ("/reports/participation.csv", {"level": "street"}, "level"),
    ]
    for path, query, field in cases:
        doc = assert_problem(provider.get(path, params=query), 422, f"{path} {query}")
        assert names(doc, field), (path, query, doc)
    assert state(db, training) == before


def test_times_beyond_what_the_service_can_read_back_are_422(client, db, training, registry_events):
    """A time PostgreSQL stores but Python cannot read back (before the year 1
    or after 9999 once in UTC) is refused, not stored: stored, it would make
    every later read of the course or its attendance sheet fail."""
    provider = client()
    person = member(age=20)
    registry_events.household(household([person]))
    course = open_course(provider, course_body())
    seat = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": person["person_ref"]}).json()
    assert provider.post(f"/courses/{course['id']}/start").status_code == 200
    before = state(db, training)
    for label, starts, ends in (("the year 10000 in UTC", "9999-12-31T20:00:00-05:00", "9999-12-31T23:00:00-05:00"),
                                ("before the year 1 in UTC", "0001-01-01T00:00:00+14:00", "0001-01-01T06:00:00+14:00")):
        body = course_body()
        body["sessions"][0].update(starts_at=starts, ends_at=ends)
        doc = assert_problem(provider.post("/courses", body), 422, label)
        assert names(doc, "sessions.0.starts_at"), (label, doc)
        assert state(db, training) == before, label
    early = mark(course["sessions"][0]["id"], seat["id"], recorded_at="0001-01-01T00:00:00+14:00")
    doc = assert_problem(provider.post(f"/courses/{course['id']}/attendance", {"marks": [early]}), 422,
                         "a mark time before the year 1 in UTC")
    assert names(doc, "marks.0.recorded_at"), doc
    assert state(db, training) == before
    sheet = provider.get(f"/courses/{course['id']}/attendance", params={"history": "true"})
    assert sheet.status_code == 200 and sheet.json()["marks"] == [], sheet.text


def test_blank_text_is_refused_not_stored_empty(client, db, training):
    """A title of spaces is no title: it is refused, not stored as "" (it
    would print on every certificate); nor is a reason of spaces a reason."""
    provider = client()
    draft = provider.post("/courses", course_body())
    assert draft.status_code == 201, draft.text
    before = state(db, training)
    for method, path in (("post", "/courses"), ("put", f"/courses/{draft.json()['id']}")):
        doc = assert_problem(getattr(provider, method)(path, course_body(title=" \t ")), 422, f"{method} blank title")
        assert names(doc, "title"), doc
        assert state(db, training) == before, method
    doc = assert_problem(provider.post(f"/courses/{draft.json()['id']}/cancel", {"reason": "   "}), 422,
                         "a blank reason")
    assert names(doc, "reason"), doc
    assert state(db, training) == before
