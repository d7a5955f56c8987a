"""``setiakawan run``'s restart rule, and its supervisor on small real processes."""
import sys
import time

from setiakawan_kit import supervise


def test_restarts_wait_1_2_4_seconds_and_at_most_30():
    assert [supervise.restart_delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_process_that_stayed_up_a_minute_starts_the_count_again():
    assert supervise.exits_in_a_row(0, uptime=0.5) == 1
    assert supervise.exits_in_a_row(5, uptime=59) == 6
    assert supervise.exits_in_a_row(5, uptime=60) == 1


def test_an_exit_is_described_by_its_status_or_signal():
    assert supervise.describe_exit(1) == "status 1"
    assert supervise.describe_exit(-9) == "status -9 (SIGKILL)"


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def _python(code):
    return [sys.executable, "-c", code], None


def _exited(supervisor, name):
    process = next(s.process for s in supervisor.services if s.name == name)
    process.wait(timeout=30)


def test_an_exiting_process_is_restarted_after_its_delay_and_the_others_are_left_alone():
    said, clock = [], Clock()
    supervisor = supervise.Supervisor({"crashes": _python("raise SystemExit(3)"),
                                       "serves": _python("import time; time.sleep(60)")}, said.append, clock)
    supervisor.start()
    try:
        serving = next(s.process for s in supervisor.services if s.name == "serves")
        _exited(supervisor, "crashes")
        clock.now += 0.5
        assert supervisor.tend() == []
        assert said == ["crashes exited with status 3 after 0 s; restarting it in 1 s"]
        clock.now += 1.0
        assert supervisor.tend() == ["crashes"]
        _exited(supervisor, "crashes")
        clock.now += 0.5
        assert supervisor.tend() == []
        assert said[-1] == "crashes exited with status 3 after 0 s; restarting it in 2 s"
        clock.now += 1.0
        assert supervisor.tend() == []
        clock.now += 1.0
        assert supervisor.tend() == ["crashes"]
        assert next(s.process for s in supervisor.services if s.name == "serves") is serving
        assert serving.poll() is None
    finally:
        supervisor.stop(grace=5)
    assert serving.poll() is not None


def test_stop_kills_what_ignores_sigterm_after_the_grace_period(tmp_path):
    said, ready = [], tmp_path / "ready"
    supervisor = supervise.Supervisor({"stubborn": _python(
        "import pathlib, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(60)")}, said.append)
    supervisor.start()
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    supervisor.stop(grace=0.5)
    assert time.monotonic() - started < 5
    assert supervisor.services[0].process.returncode == -9
    assert said == ["stubborn did not stop within 0.5 s; killing it"]
