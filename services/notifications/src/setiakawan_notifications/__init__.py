"""Setiakawan notifications service. Messages to beneficiaries and agency staff (SMS, WhatsApp, email) and signed partner webhooks."""
from pathlib import Path

from setiakawan_kit.service import ServiceInfo

_HERE = Path(__file__).parent

SERVICE = ServiceInfo(name="notifications", module="setiakawan_notifications.service:NotificationsService", default_port=8004,
                      migrations=_HERE / "migrations", config=_HERE / "config.yaml")
