"""Bad HTTP input gets a 4xx problem document and changes nothing."""
import secrets
import time
from datetime import timedelta

import jwt
import pytest
import requests

from setiakawan_kit import auth, keys
from setiakawan_kit.http import MAX_BODY_BYTES

PROBLEM = "application/problem+json"


@pytest.fixture
def producer(pair):
    producer, _, producer_db, _ = pair()
    producer.database = producer_db
    return producer


def outbox_rows(db, name):
    with db(name).cursor() as cur:
        cur.execute("SELECT count(*) FROM kit_outbox")
        return cur.fetchone()[0]


def bearer(value):
    return {"Authorization": f"Bearer {value}"}


def cases(token):
    good = bearer(token())
    now = int(time.time())
    claims = {"iss": "setiakawan", "aud": "setiakawan", "sub": "x", "kind": "province", "role": "admin",
              "regions": ["62"], "iat": now, "exp": now + 3600}
    json_headers = dict(good, **{"Content-Type": "application/json"})
    return [
        ("malformed JSON", dict(data=b'{"count": 1,', headers=json_headers), 400, "bad-request"),
        ("not UTF-8", dict(data=b'\xff\xfe{}', headers=json_headers), 400, "bad-request"),
        ("nested beyond the parser's depth", dict(data=b"[" * 100_000, headers=json_headers), 400, "bad-request"),
        ("a NUL character", dict(data=b'{"count": 1, "subject_prefix": "a\\u0000b"}', headers=json_headers),
         422, "validation-failed"),
        ("wrong content type", dict(data=b'{"count": 1}', headers=dict(good, **{"Content-Type": "text/plain"})),
         415, "unsupported-media-type"),
        ("no content type", dict(data=b'{"count": 1}', headers=good), 415, "unsupported-media-type"),
        ("unknown field", dict(json={"count": 1, "colour": "red"}, headers=good), 422, "validation-failed"),
        ("wrong type", dict(json={"count": "lots"}, headers=good), 422, "validation-failed"),
        ("out of range", dict(json={"count": 0}, headers=good), 422, "validation-failed"),
        ("a list, not an object", dict(json=[1, 2], headers=good), 422, "validation-failed"),
        ("missing token", dict(json={"count": 1}), 401, "unauthorized"),
        ("not a bearer token", dict(json={"count": 1}, headers={"Authorization": "Basic Zm9vOmJhcg=="}),
         401, "unauthorized"),
        ("expired token", dict(json={"count": 1}, headers=bearer(token(ttl=timedelta(minutes=-5)))),
         401, "unauthorized"),
        ("tampered token", dict(json={"count": 1}, headers=bearer(token()[:-4] + "AAAA")), 401, "unauthorized"),
        ("token signed with a key nobody trusts", dict(json={"count": 1}, headers=bearer(
            auth.issue_token(keys.generate(), "x", "ngo", "operator", ["62"]))), 401, "unauthorized"),
        ("token signed with the old shared secret", dict(json={"count": 1}, headers=bearer(jwt.encode(
            claims, secrets.token_hex(32), algorithm="HS256"))), 401, "unauthorized"),
        ("unsigned token (alg none)", dict(json={"count": 1}, headers=bearer(jwt.encode(
            claims, None, algorithm="none"))), 401, "unauthorized"),
        ("viewer may not publish", dict(json={"count": 1}, headers=bearer(token(role="viewer"))),
         403, "forbidden"),
        ("region outside the agency's", dict(json={"count": 1, "region": "62.11.01"},
                                             headers=bearer(token(kind="district", regions=("62.13",)))),
         403, "forbidden"),
        ("sibling region with a common prefix", dict(json={"count": 1, "region": "62.131"},
                                                     headers=bearer(token(regions=("62.13",)))),
         403, "forbidden"),
    ]


def test_bad_requests_get_problem_documents_and_change_nothing(producer, token, db):
    for label, kwargs, status, kind in cases(token):
        response = requests.post(producer.url + "/things", timeout=10, **kwargs)
        assert response.status_code == status, (label, response.text)
        assert response.headers["Content-Type"] == PROBLEM, label
        problem = response.json()
        assert problem["status"] == status and problem["type"] == f"urn:setiakawan:problem:{kind}", label
        assert problem["title"] and problem["detail"], label
        if kind == "validation-failed":
            assert problem["errors"] and all({"field", "message"} <= set(e) for e in problem["errors"]), label
    assert outbox_rows(db, producer.database) == 0

    ok = requests.post(producer.url + "/things", json={"count": 1, "region": "62.13.01.2003"},
                       headers=bearer(token(kind="district", regions=("62.13",))), timeout=10)
    assert ok.status_code == 201, ok.text
    assert outbox_rows(db, producer.database) == 1


def test_a_body_over_the_limit_is_refused_whether_or_not_it_announces_its_length(producer, token, db):
    oversize = b'{"count": 1, "subject_prefix": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = dict(bearer(token()), **{"Content-Type": "application/json"})
    announced = requests.post(producer.url + "/things", data=oversize, headers=headers, timeout=60)
    sent = []

    def chunks():  # no Content-Length: Transfer-Encoding: chunked
        for start in range(0, len(oversize), 1 << 20):
            sent.append(start)
            yield oversize[start:start + (1 << 20)]

    chunked = requests.post(producer.url + "/things", data=chunks(), headers=headers, timeout=60)
    for response in (announced, chunked):
        assert response.status_code == 413, response.text
        assert response.headers["Content-Type"] == PROBLEM
        assert response.json()["type"] == "urn:setiakawan:problem:content-too-large"
    assert outbox_rows(db, producer.database) == 0
    small = requests.post(producer.url + "/things", data=iter([b'{"count": ', b'2}']), headers=headers, timeout=10)
    assert small.status_code == 201, small.text


def test_unknown_field_names_the_field(producer, token):
    response = requests.post(producer.url + "/things", json={"count": 1, "colour": "red"},
                             headers=bearer(token()), timeout=10)
    assert {"field": "colour", "message": "Unknown field."} in response.json()["errors"]


def test_unknown_route_and_wrong_method_are_problems(producer):
    missing = requests.get(producer.url + "/no/such/thing", timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == PROBLEM
    wrong = requests.delete(producer.url + "/health", timeout=10)
    assert wrong.status_code == 405 and wrong.headers["Content-Type"] == PROBLEM
    assert "GET" in wrong.headers["Allow"]


def test_health_metrics_and_openapi(producer, token):
    health = requests.get(producer.url + "/health", timeout=10)
    assert health.json() == {"service": "producer", "status": "ok", "database": "ok", "broker": "ok"}
    requests.post(producer.url + "/things", json={"count": 1}, headers=bearer(token()), timeout=10)
    metrics = requests.get(producer.url + "/metrics", timeout=10)
    assert metrics.headers["Content-Type"].startswith("text/plain")
    assert "setiakawan_outbox_backlog{service=\"producer\"}" in metrics.text
    latency_series = 'setiakawan_http_request_seconds_count{method="POST",route="/things",service="producer",status="201"}'
    assert latency_series in metrics.text
    spec = requests.get(producer.url + "/openapi.json", timeout=10).json()
    assert spec["openapi"] == "3.0.3"
    post = spec["paths"]["/things"]["post"]
    assert post["security"] == [{"bearer": []}]
    body_schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert "count" in spec["components"]["schemas"][body_schema["$ref"].rsplit("/", 1)[1]]["properties"]
    assert {"401", "403", "415", "422"} <= set(post["responses"])
    assert "security" not in spec["paths"]["/health"]["get"]


def test_a_correlation_id_that_cannot_travel_in_an_event_is_replaced(producer, token, db):
    headers = dict(bearer(token()), **{"X-Correlation-ID": "x" * 201})
    response = requests.post(producer.url + "/things", json={"count": 1}, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    replaced = response.headers["X-Correlation-ID"]
    assert replaced != "x" * 201 and len(replaced) == 36
    kept = requests.post(producer.url + "/things", json={"count": 1}, timeout=10,
                         headers=dict(bearer(token()), **{"X-Correlation-ID": "batch-7:row-9"}))
    assert kept.headers["X-Correlation-ID"] == "batch-7:row-9"

