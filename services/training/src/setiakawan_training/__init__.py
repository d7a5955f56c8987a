"""Setiakawan training service. Skills courses, enrolment with waitlists, attendance and completion certificates."""
from pathlib import Path

from setiakawan_kit.service import ServiceInfo

_HERE = Path(__file__).parent

SERVICE = ServiceInfo(name="training", module="setiakawan_training.service:TrainingService", default_port=8003,
                      migrations=_HERE / "migrations", config=_HERE / "config.yaml")
