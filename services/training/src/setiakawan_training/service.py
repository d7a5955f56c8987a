"""The training service's nameko entrypoints."""
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.service import KitService


class TrainingService(DiagnosticsMixin, KitService):
    """Skills courses, enrolment with waitlists, attendance and completion certificates."""

    name = "training"
    description = "Skills courses, enrolment with waitlists, attendance and completion certificates."
