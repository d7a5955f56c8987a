"""All four Setiakawan services together: each starts, reports healthy,
serves its OpenAPI document, and a diagnostic ping sent through any
service's outbox reaches every service."""
import pytest
import requests

from setiakawan_kit.cli import installed_services
from setiakawan_kit.testing import wait_for


@pytest.fixture
def platform(make_database, run_service):
    return {info.name: run_service(info.name, info.module, make_database(info.migrations, prefix=info.name),
                                   **info.test_config)
            for info in installed_services()}


def test_four_services_exchange_events_end_to_end(platform, token):
    assert set(platform) == {"registry", "distribution", "training", "notifications", "coordination"}
    auth = {"Authorization": f"Bearer {token(role='operator')}"}
    sent = {}
    for name, service in platform.items():
        health = requests.get(service.url + "/health", timeout=10).json()
        details = {"bulk_import": "c"} if name == "registry" else {}  # the registry's C accelerator, built here
        assert health == {"service": name, "status": "ok", "database": "ok", "broker": "ok", **details}
        spec = requests.get(service.url + "/openapi.json", timeout=10).json()
        assert {"/health", "/metrics", "/diagnostics/ping", "/diagnostics/pings"} <= set(spec["paths"])
        response = requests.post(service.url + "/diagnostics/ping", json={"message": f"halo dari {name}"},
                                 headers=auth, timeout=10)
        assert response.status_code == 202, response.text
        sent[response.json()["event_id"]] = name

    def everyone_heard_everyone():
        for service in platform.values():
            pings = requests.get(service.url + "/diagnostics/pings", headers=auth, timeout=10).json()
            if {p["event_id"] for p in pings} != set(sent):
                return False
        return True

    wait_for(everyone_heard_everyone, timeout=30, what="every service heard every ping",
             services=platform.values())
    pings = requests.get(platform["notifications"].url + "/diagnostics/pings", headers=auth, timeout=10).json()
    assert {p["source"] for p in pings} == {f"/setiakawan/{n}" for n in platform}
    assert {p["message"] for p in pings} == {f"halo dari {n}" for n in platform}


def test_viewer_cannot_send_pings(platform, token):
    response = requests.post(platform["registry"].url + "/diagnostics/ping", json={},
                             headers={"Authorization": f"Bearer {token(role='viewer')}"}, timeout=10)
    assert response.status_code == 403
