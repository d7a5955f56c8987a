"""What the training tests share besides fixtures (a module of its own:
every service's tests have a conftest, so ``from conftest import`` finds
whichever was loaded last)."""
import uuid

import requests

PROVIDER = "Dinas Sosial Kabupaten Balangan"


class Client:
    def __init__(self, url, token):
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, path, body=None, **kw):
        return requests.post(self.url + path, json=body, headers=self.headers, timeout=60, **kw)

    def put(self, path, body, **kw):
        return requests.put(self.url + path, json=body, headers=self.headers, timeout=60, **kw)

    def get(self, path, **kw):
        return requests.get(self.url + path, headers=self.headers, timeout=60, **kw)


def open_course(client, body):
    created = client.post("/courses", body)
    assert created.status_code == 201, created.text
    published = client.post(f"/courses/{created.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return published.json()


def mark(session_id, enrolment_id, present=True, recorded_at="2026-11-02T02:00:00+00:00", mark_id=None):
    return {"mark_id": mark_id or str(uuid.uuid4()), "session_id": session_id, "enrolment_id": enrolment_id,
            "present": present, "recorded_at": recorded_at}
