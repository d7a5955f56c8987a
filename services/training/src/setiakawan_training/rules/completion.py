"""Whether a participant completed a course: the share of sessions attended
and, where the course requires it, an assessment passed."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    completed: bool
    attendance_share: float
    reasons: tuple


def decide(sessions_total, sessions_attended, min_attendance_share, assessment_required, assessment_passed):
    share = round(sessions_attended / sessions_total, 3) if sessions_total else 0.0
    reasons = []
    if share + 1e-9 < min_attendance_share:
        reasons.append(f"attended {sessions_attended} of {sessions_total} sessions ({share:.1%}), "
                       f"{min_attendance_share:.1%} needed")
    if assessment_required and assessment_passed is not True:
        reasons.append("assessment not passed" if assessment_passed is False else "assessment not taken")
    return Result(not reasons, share, tuple(reasons))
