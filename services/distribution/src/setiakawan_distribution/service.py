"""The distribution service's nameko entrypoints."""
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.service import KitService


class DistributionService(DiagnosticsMixin, KitService):
    """Aid programmes, eligibility, entitlements, stock, delivery with proof and the cross-agency ledger."""

    name = "distribution"
    description = "Aid programmes, eligibility, entitlements, stock, delivery with proof and the cross-agency ledger."

    # proof of delivery: the NIK shown is the recipient's; also what its broker account may call
    registry = RpcClient("registry", methods=("nik_belongs_to",))
