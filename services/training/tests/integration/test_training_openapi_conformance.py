"""The training service's OpenAPI document tells the truth: schemathesis,
as the provider's operator and as another regency's admin, finds no answer
the document does not describe and no server error. Real records come
first, so that lookups by id reach them."""
from training_support import mark, open_course
from tests.support import conformance
from training_samples import course_body, household, member


def seed(client, registry_events):
    document = conformance.Document(client().url)
    people = [member() for _ in range(3)]
    registry_events.household(household(people))
    provider = client()
    course = open_course(provider, course_body(capacity=2))
    enrolled = [document.check(provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": p["person_ref"]}))
                for p in people]
    assert [e.status_code for e in enrolled] == [201] * 3
    finished = open_course(provider, course_body(capacity=3, days=(10, 11)))
    ids = [document.check(provider.post(f"/courses/{finished['id']}/enrolments",
                                        {"person_ref": p["person_ref"]})).json()["id"] for p in people]
    document.check(provider.post(f"/courses/{finished['id']}/start"))
    document.check(provider.post(f"/courses/{finished['id']}/attendance",
                                 {"marks": [mark(s["id"], i) for s in finished["sessions"] for i in ids]}))
    document.check(provider.post(f"/courses/{finished['id']}/finish"))
    codes = [document.check(provider.get(f"/enrolments/{i}")).json()["certificate_code"] for i in ids]
    assert all(codes)
    return {"courses": [course["id"], finished["id"]], "enrolments": [e.json()["id"] for e in enrolled] + ids,
            "people": [p["person_ref"] for p in people], "codes": codes,
            "sessions": [s["id"] for c in (course, finished) for s in c["sessions"]]}


PARAMETERS = {"path.course_id": "courses", "path.enrolment_id": "enrolments", "path.code": "codes",
              "body.person_ref": "people", "body.member_refs[*]": "people",
              "body.marks[*].session_id": "sessions", "body.marks[*].enrolment_id": "enrolments",
              "body.results[*].enrolment_id": "enrolments", "query.course_id": "courses"}


def test_the_training_service_answers_as_its_document_says(client, registry_events, token, training, tmp_path):
    records = seed(client, registry_events)
    for label, identity in (("provider", token(role="operator", regions=("63.11",), kind="district",
                                               agency="Dinas Sosial Kabupaten Balangan")),
                            ("other-admin", token(role="admin", kind="district", regions=("64.02",),
                                                  agency="Dinas Sosial Kabupaten Kutai Kartanegara"))):
        conformance.assert_conforms(conformance.run(training.url, identity, tmp_path, label, records, PARAMETERS))
