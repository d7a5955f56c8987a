"""The kit's endpoints, in every service, answer as the service's own
OpenAPI document says: schemathesis against the notifications service (the
kit's endpoints and its own: routing rules, contacts, subscriptions,
opt-outs, the log, the gateway's callbacks) as an operator and as an admin,
after a diagnostic ping made GET /diagnostics/pings answer a list that is
not empty. The registry's own operations: services/registry/tests/
integration/test_registry_openapi_conformance.py."""
import requests

from setiakawan_kit.cli import installed_services
from tests.support import conformance
from tests.test_event_flow import wait_for


def test_a_service_answers_as_its_document_says(make_database, run_service, token, tmp_path):
    info = {s.name: s for s in installed_services()}["notifications"]
    service = run_service(info.name, info.module, make_database(info.migrations, prefix=info.name), **info.test_config)
    document = conformance.Document(service.url)
    operator = {"Authorization": f"Bearer {token(role='operator')}"}
    sent = document.check(requests.post(service.url + "/diagnostics/ping", json={"message": "halo"},
                                        headers=operator, timeout=10))
    assert sent.status_code == 202, sent.text
    wait_for(lambda: document.check(requests.get(service.url + "/diagnostics/pings", headers=operator,
                                                 timeout=10)).json(), timeout=30)
    for label, role in (("operator", "operator"), ("admin", "admin")):
        conformance.assert_conforms(conformance.run(service.url, token(role=role), tmp_path, label))
