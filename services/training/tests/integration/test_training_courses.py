"""A course's life over HTTP, against the real broker and database."""
from training_support import PROVIDER
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


def test_the_same_course_runs_per_sub_district_in_one_series(client):
    kukar = client(regions=("64.02",), agency="Dinas Sosial Kabupaten Kutai Kartanegara")
    first = kukar.post("/courses", course_body(regions=("64.02.06",), venue="64.02.06.1003", partners=[],
                                               title="Pemberdayaan LKS dan KUBE", skill_area="entrepreneurship"))
    assert first.status_code == 201, first.text
    source = first.json()
    run = {"region_codes": ["64.02.02"], "sessions": [
        {"starts_at": "2026-11-20T01:00:00+00:00", "ends_at": "2026-11-20T05:00:00+00:00",
         "venue_village_code": "64.02.02.2001"}], "capacity": 25}
    second = kukar.post(f"/courses/{source['id']}/runs", run)
    assert second.status_code == 201, second.text
    copy = second.json()
    assert copy["id"] != source["id"] and copy["series_id"] == source["series_id"] == source["id"]
    assert (copy["title"], copy["skill_area"], copy["capacity"], copy["region_codes"]) == (
        source["title"], "entrepreneurship", 25, ["64.02.02"])
    assert copy["sessions"][0]["venue_village_code"] == "64.02.02.2001"
    runs = kukar.get(f"/courses?series={source['id']}").json()
    assert sorted(c["id"] for c in runs["items"]) == sorted([source["id"], copy["id"]])
    outside = kukar.post(f"/courses/{source['id']}/runs", dict(run, region_codes=["63.11"]))
    assert outside.status_code == 403
