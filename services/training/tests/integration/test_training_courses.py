"""A course's life over HTTP, against the real broker and database."""
from conftest import PROVIDER, open_course
from training_samples import course_body


def test_a_draft_is_published_started_and_its_events_are_on_the_broker(client, events):
    provider = client()
    created = provider.post("/courses", course_body())
    assert created.status_code == 201, created.text
    course = created.json()
    assert course["status"] == "draft" and course["provider_agency"] == PROVIDER and len(course["sessions"]) == 2
    assert course["partners"] == ["PT Adaro Indonesia"]
    published = provider.post(f"/courses/{course['id']}/publish")
    assert published.status_code == 200, published.text
    [(kind, data)] = events.wait_for(1)
    assert kind == "course.published"
    assert data["course"]["course_id"] == course["id"] and data["course"]["status"] == "open"
    assert provider.post(f"/courses/{course['id']}/publish").status_code == 409
    started = provider.post(f"/courses/{course['id']}/start")
    assert started.status_code == 200 and started.json()["status"] == "running"
