"""What the training tests share besides fixtures (a module of its own:
every service's tests have a conftest, so ``from conftest import`` finds
whichever was loaded last)."""
import uuid

from setiakawan_kit.testing import ApiClient


PROVIDER = "Dinas Sosial Kabupaten Balangan"


Client = ApiClient  # the services' tests' name for it


def open_course(client, body):
    created = client.post("/courses", body)
    assert created.status_code == 201, created.text
    published = client.post(f"/courses/{created.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return published.json()


def mark(session_id, enrolment_id, present=True, recorded_at="2026-11-02T02:00:00+00:00", mark_id=None):
    return {"mark_id": mark_id or str(uuid.uuid4()), "session_id": session_id, "enrolment_id": enrolment_id,
            "present": present, "recorded_at": recorded_at}
