"""Setiakawan registry service. Households (keluarga, by KK number), their members (by NIK), community groups, verification and duplicate detection."""
from pathlib import Path

from setiakawan_kit.service import ServiceInfo

_HERE = Path(__file__).parent

SERVICE = ServiceInfo(name="registry", module="setiakawan_registry.service:RegistryService", default_port=8001,
                      migrations=_HERE / "migrations", config=_HERE / "config.yaml")
