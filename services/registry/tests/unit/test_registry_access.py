"""The purpose header, the hourly matching allowance (rules/access.py), and
which uploads a starting service removes (imports.leftover)."""
import os
from datetime import datetime, timedelta, timezone

import pytest

from setiakawan_registry.imports import leftover
from setiakawan_registry.rules.access import PURPOSE_MAX, BadPurpose, purpose, retry_after

NOW = datetime(2025, 3, 1, 10, 30, 15, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def test_purpose_is_optional_trimmed_and_capped():
    assert purpose(None) is None and purpose("") is None and purpose("  \t ") is None
    assert purpose("  penyaluran   BLT\tdesa ") == "penyaluran BLT desa"
    assert purpose("x" * PURPOSE_MAX) == "x" * PURPOSE_MAX
    with pytest.raises(BadPurpose):
        purpose("x" * (PURPOSE_MAX + 1))
    with pytest.raises(BadPurpose):
        purpose("audit\x00")


def test_purpose_sent_as_raw_utf8_is_read_as_utf8():
    raw = "verifikasi lapangan – Pulau Patai".encode().decode("latin-1")  # as a WSGI server hands it over
    assert purpose(raw) == "verifikasi lapangan – Pulau Patai"
    assert purpose("caf\xe9") == "caf\xe9"  # Latin-1 that is no UTF-8 stays as it came


def test_lookups_that_fit_the_allowance_wait_for_nothing():
    assert retry_after([], NOW, 100, 100) == 0
    assert retry_after([(NOW - 10 * MINUTE, 60)], NOW, 100, 40) == 0


def test_over_the_allowance_waits_until_enough_old_lookups_leave_the_hour():
    minute = NOW.replace(second=0)
    used = [(minute - 50 * MINUTE, 30), (minute - 20 * MINUTE, 50), (minute, 20)]
    # 100 used; 10 more need the oldest bucket (30) gone: it counts until its minute ends an hour later
    assert retry_after(used, NOW, 100, 10) == (minute - 50 * MINUTE + MINUTE + timedelta(hours=1) - NOW).seconds
    # 40 more need the two oldest gone
    assert retry_after(used, NOW, 100, 40) == (minute - 20 * MINUTE + MINUTE + timedelta(hours=1) - NOW).seconds


def test_buckets_older_than_the_window_do_not_count():
    stale = [(NOW - timedelta(hours=1, minutes=2), 1000)]
    assert retry_after(stale, NOW, 100, 100) == 0


def test_more_than_the_whole_allowance_never_fits():
    assert retry_after([], NOW, 100, 101) == 3600


def test_the_wait_is_at_least_a_second():
    used = [(NOW - timedelta(hours=1), 100)]  # its minute ends a window later, just after now
    assert retry_after(used, NOW.replace(second=59, microsecond=999_999), 100, 1) >= 1


def alive_only(*pids):
    return lambda pid: pid in pids


OTHER = os.getpid() + 1  # some other process of this host


@pytest.mark.parametrize("state, receiver, alive, left_over", [
    # never recorded: only its receiving service answers for it
    (None, OTHER, alive_only(OTHER), False),
    (None, OTHER, alive_only(), True),
    (None, os.getpid(), alive_only(os.getpid()), True),  # the pid of a killed service, reused by this one
    # over
    ({"status": "completed", "pid": 5, "host": "here"}, OTHER, alive_only(5, OTHER), True),
    ({"status": "failed", "pid": 5, "host": "here"}, OTHER, alive_only(5, OTHER), True),
    # queued or running: its importer (or, before one runs, its receiver) answers for it
    ({"status": "running", "pid": 5, "host": "here"}, OTHER, alive_only(5), False),
    ({"status": "running", "pid": 5, "host": "here"}, OTHER, alive_only(), True),
    ({"status": "queued", "pid": None, "host": None}, OTHER, alive_only(OTHER), False),
    ({"status": "queued", "pid": None, "host": None}, OTHER, alive_only(), True),
    ({"status": "running", "pid": 5, "host": None}, OTHER, alive_only(5), False),
    # another host's importer: not ours to judge
    ({"status": "running", "pid": 5, "host": "elsewhere"}, OTHER, alive_only(), False),
], ids=["unrecorded-receiver-alive", "unrecorded-receiver-gone", "unrecorded-pid-reused", "completed", "failed",
        "running-importer-alive", "running-importer-gone", "queued-receiver-alive", "queued-receiver-gone",
        "running-no-host", "running-elsewhere"])  # no pid in an id: every process collects the same tests
def test_which_uploads_are_left_over(state, receiver, alive, left_over):
    assert leftover(state, receiver, "here", alive) is left_over
