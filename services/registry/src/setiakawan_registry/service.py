"""The registry service's nameko entrypoints."""
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.service import KitService


class RegistryService(DiagnosticsMixin, KitService):
    """Households (keluarga, by KK number), their members (by NIK), community groups, verification and duplicate detection."""

    name = "registry"
    description = "Households (keluarga, by KK number), their members (by NIK), community groups, verification and duplicate detection."
