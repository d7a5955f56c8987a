"""Setiakawan notifications service. Messages to beneficiaries and agency staff (SMS, WhatsApp, email) and signed partner webhooks."""
import secrets
from pathlib import Path

from setiakawan_kit.service import ServiceInfo

_HERE = Path(__file__).parent

SERVICE = ServiceInfo(name="notifications", module="setiakawan_notifications.service:NotificationsService",
                      default_port=8004, migrations=_HERE / "migrations", config=_HERE / "config.yaml",
                      # a key made for the test run (the service refuses to start without one)
                      test_config={"ADDRESS_HASH_KEY": secrets.token_urlsafe(16)})
