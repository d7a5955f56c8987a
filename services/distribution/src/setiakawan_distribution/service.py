"""The distribution service's nameko entrypoints."""
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.service import KitService


class DistributionService(DiagnosticsMixin, KitService):
    """Aid programmes, eligibility, entitlements, stock, delivery with proof and the cross-agency ledger."""

    name = "distribution"
    description = "Aid programmes, eligibility, entitlements, stock, delivery with proof and the cross-agency ledger."
