"""How ``setiakawan run`` keeps services up: each in a process of its own,
restarted with backoff when it exits unexpectedly while the others go on
serving; on stop, SIGTERM to all and SIGKILL to any still running after a
grace period."""
import signal
import subprocess
import time
from dataclasses import dataclass

BACKOFF_CAP = 30.0
#: a process that stayed up this long was working: its next exit waits 1 s again
STABLE_AFTER = 60.0
#: after SIGTERM, so that Ctrl-C ends everything within 10 s
STOP_GRACE = 8.0


def restart_delay(exits_in_a_row):
    """Seconds to wait before restarting after the n-th exit in a row: 1, 2, 4 … at most 30."""
    return min(2.0 ** (exits_in_a_row - 1), BACKOFF_CAP)


def exits_in_a_row(previous, uptime):
    """Counting this exit; a process that had stayed up ``STABLE_AFTER`` seconds starts the count again."""
    return 1 if uptime >= STABLE_AFTER else previous + 1


def describe_exit(returncode):
    """``status 1``, or ``status -9 (SIGKILL)`` for a process a signal ended."""
    if returncode < 0:
        try:
            return f"status {returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            pass
    return f"status {returncode}"


@dataclass
class _Service:
    name: str
    argv: list
    env: dict
    process: subprocess.Popen = None
    started_at: float = 0.0
    exits: int = 0
    restart_at: float = 0.0


class Supervisor:
    """``commands``: service name -> (argv, env). ``say`` prints one line for the operator."""

    def __init__(self, commands, say, clock=time.monotonic):
        self.services = [_Service(name, argv, env) for name, (argv, env) in commands.items()]
        self.say = say
        self.clock = clock

    def start(self):
        for service in self.services:
            self._start(service)

    def tend(self):
        """Notice exits and restart whatever is due; returns the names (re)started now."""
        started = []
        now = self.clock()
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                uptime = now - service.started_at
                service.exits = exits_in_a_row(service.exits, uptime)
                delay = restart_delay(service.exits)
                self.say(f"{service.name} exited with {describe_exit(service.process.returncode)} after "
                         f"{uptime:.0f} s; restarting it in {delay:.0f} s")
                service.process, service.restart_at = None, now + delay
            if service.process is None and now >= service.restart_at:
                self._start(service)
                started.append(service.name)
        return started

    def stop(self, grace=STOP_GRACE):
        """SIGTERM to every process, SIGKILL to those still running ``grace`` seconds later."""
        running = [s for s in self.services if s.process is not None and s.process.poll() is None]
        for service in running:
            service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for service in running:
            try:
                service.process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                self.say(f"{service.name} did not stop within {grace:g} s; killing it")
                service.process.kill()
                service.process.wait()

    def _start(self, service):
        service.process = subprocess.Popen(service.argv, env=service.env)
        service.started_at = self.clock()
