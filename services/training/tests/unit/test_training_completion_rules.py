"""Whether a participant completed a course (rules/completion.py)."""
import pytest

from setiakawan_training.rules.completion import Result, decide


def test_full_attendance_completes():
    assert decide(4, 4, 0.75, False, None) == Result(True, 1.0, ())


def test_exactly_at_the_minimum_completes():
    result = decide(4, 3, 0.75, False, None)
    assert result == Result(True, 0.75, ())


@pytest.mark.parametrize("total, attended, minimum", [(10, 7, 0.7), (10, 8, 0.8), (5, 3, 0.6), (20, 11, 0.55)])
def test_exactly_at_a_minimum_not_exact_in_binary_completes(total, attended, minimum):
    assert decide(total, attended, minimum, False, None).completed is True


def test_below_the_minimum_does_not_complete():
    result = decide(4, 2, 0.75, False, None)
    assert result.completed is False
    assert result.attendance_share == 0.5
    assert result.reasons == ("attended 2 of 4 sessions (50.0%), 75.0% needed",)


def test_one_session_short_of_the_minimum():
    assert decide(20, 14, 0.75, False, None).completed is False
    assert decide(20, 15, 0.75, False, None).completed is True


def test_the_share_is_rounded_to_three_places():
    assert decide(3, 2, 0.5, False, None).attendance_share == 0.667
    assert decide(3, 1, 0.5, False, None).attendance_share == 0.333
    assert decide(7, 1, 0.0, False, None).attendance_share == 0.143


def test_the_rounded_share_meets_a_minimum_written_to_three_places():
    # min_attendance_share is numeric(4,3): "two thirds" is stored as 0.667
    assert decide(3, 2, 0.667, False, None).completed is True
    assert decide(3, 2, 0.668, False, None).completed is False


def test_zero_sessions():
    assert decide(0, 0, 0.75, False, None) == Result(False, 0.0, ("attended 0 of 0 sessions (0.0%), 75.0% needed",))
    assert decide(0, 0, 0.0, False, None) == Result(True, 0.0, ())


def test_no_minimum_completes_without_attending():
    assert decide(5, 0, 0.0, False, None) == Result(True, 0.0, ())


@pytest.mark.parametrize("passed, completed, reasons", [
    (True, True, ()),
    (False, False, ("assessment not passed",)),
    (None, False, ("assessment not taken",)),
])
def test_a_required_assessment(passed, completed, reasons):
    assert decide(4, 4, 0.75, True, passed) == Result(completed, 1.0, reasons)


@pytest.mark.parametrize("passed", [True, False, None])
def test_an_assessment_not_required_does_not_matter(passed):
    assert decide(4, 4, 0.75, False, passed) == Result(True, 1.0, ())


def test_both_reasons_in_order():
    result = decide(10, 2, 0.8, True, False)
    assert result == Result(False, 0.2, ("attended 2 of 10 sessions (20.0%), 80.0% needed", "assessment not passed"))
