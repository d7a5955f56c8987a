"""Yayasan Wahana Peduli's service: it keeps the verified households of its
district from the registry's events, runs its own monthly food top-up
through Setiakawan's distribution API, and records its handovers there.

It imports Setiakawan's contract and kit only (never a service's code), and
reaches the platform with its own token and its own broker account."""
from pathlib import Path

from setiakawan_kit.service import ServiceInfo

_HERE = Path(__file__).parent

SERVICE = ServiceInfo(name="wahana", module="wahana_partner.service:WahanaService", default_port=8101,
                      migrations=_HERE / "migrations", config=_HERE / "config.yaml")
