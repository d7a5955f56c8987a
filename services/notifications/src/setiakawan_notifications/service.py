"""The notifications service's nameko entrypoints."""
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.service import KitService


class NotificationsService(DiagnosticsMixin, KitService):
    """Messages to beneficiaries and agency staff (SMS, WhatsApp, email) and signed partner webhooks."""

    name = "notifications"
    description = "Messages to beneficiaries and agency staff (SMS, WhatsApp, email) and signed partner webhooks."
