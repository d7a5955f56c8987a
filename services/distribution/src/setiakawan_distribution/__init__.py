"""Setiakawan distribution service. Aid programmes, eligibility, entitlements, stock, delivery with proof and the cross-agency ledger."""
from pathlib import Path

from setiakawan_kit.service import ServiceInfo

_HERE = Path(__file__).parent

SERVICE = ServiceInfo(name="distribution", module="setiakawan_distribution.service:DistributionService", default_port=8002,
                      migrations=_HERE / "migrations", config=_HERE / "config.yaml")
