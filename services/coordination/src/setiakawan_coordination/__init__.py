"""Setiakawan coordination service. Who does what where (3W), and which poor households nobody reaches."""
from pathlib import Path

from setiakawan_kit.service import ServiceInfo

_HERE = Path(__file__).parent

SERVICE = ServiceInfo(name="coordination", module="setiakawan_coordination.service:CoordinationService",
                      default_port=8005, migrations=_HERE / "migrations", config=_HERE / "config.yaml")
