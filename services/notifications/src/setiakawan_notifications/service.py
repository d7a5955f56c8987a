"""The notifications service's nameko entrypoints."""
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.service import KitService


class NotificationsService(DiagnosticsMixin, KitService):
    """Messages to beneficiaries and agency staff (SMS, WhatsApp, email) and signed partner webhooks."""

    name = "notifications"
    description = "Messages to beneficiaries and agency staff (SMS, WhatsApp, email) and signed partner webhooks."

    # a person's name and phone, at send time; also what its broker account may call
    registry = RpcClient("registry", methods=("contact_details",))
