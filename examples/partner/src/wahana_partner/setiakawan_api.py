"""Setiakawan's distribution API as the NGO calls it: with its own token,
over HTTP, as any agency's system would (no code of the service's own)."""
import requests
from nameko.extensions import DependencyProvider

from setiakawan_kit.errors import Conflict
from setiakawan_kit.outages import DependencyUnavailable

TIMEOUT_S = 30


class Distribution:
    def __init__(self, base_url, token):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = requests.Session()

    def create_programme(self, programme):
        return self._post("/programmes", programme)

    def activate(self, programme_id):
        return self._post(f"/programmes/{programme_id}/activate")

    def create_point(self, point):
        return self._post("/points", point)

    def move_stock(self, point_id, move):
        return self._post(f"/points/{point_id}/moves", move)

    def deliver(self, entitlement_id, handover):
        return self._post(f"/entitlements/{entitlement_id}/delivery", handover)

    def _post(self, path, body=None):
        try:
            answer = self.http.post(self.base_url + path, json=body, timeout=TIMEOUT_S,
                                    headers={"Authorization": f"Bearer {self.token}"})
        except requests.RequestException as exc:
            raise DependencyUnavailable("distribution", type(exc).__name__) from None
        if answer.status_code >= 500:
            raise DependencyUnavailable("distribution", f"HTTP {answer.status_code}")
        if answer.status_code >= 400:  # its problem document says why (RFC 9457)
            problem = _json(answer)
            raise Conflict(f"Setiakawan's distribution service refused it: {problem.get('detail') or answer.text}",
                           upstream=problem)
        return answer.json()


def _json(answer):
    try:
        return answer.json()
    except ValueError:
        return {}


class DistributionApi(DependencyProvider):
    """``SETIAKAWAN: {distribution_url, token}`` from the config."""

    def setup(self):
        settings = self.container.config.get("SETIAKAWAN") or {}
        if not settings.get("token"):
            raise RuntimeError("SETIAKAWAN.token (WAHANA_SETIAKAWAN_TOKEN) is not set: the NGO's own token, "
                               "from the platform's operator ('setiakawan token --kind ngo ...')")
        self.client = Distribution(settings.get("distribution_url") or "http://127.0.0.1:8002", settings["token"])

    def get_dependency(self, worker_ctx):
        return self.client
