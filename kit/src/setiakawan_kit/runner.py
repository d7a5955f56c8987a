"""``python -m setiakawan_kit.runner --config CONFIG MODULE:Class``: what
``nameko run`` does, with eventlet's monkey patching and psycogreen in place
before any service code is imported, and without nameko's command-line
module (it imports ``pkg_resources``, which Python 3.12+ environments lack).

A service whose configuration lacks a setting it cannot start without (its
broker account, its trusted token issuers) stops here with one line saying
which. SIGINT and SIGTERM both stop the service gracefully, once: Ctrl-C in
a terminal reaches every process of ``setiakawan run``, which then sends
SIGTERM too, and a second stop running beside the first can hang in
nameko."""
import argparse
import logging
import logging.config
import os
import signal
import sys

import yaml

import setiakawan_kit  # noqa: F401 - quiets eventlet's deprecation notice

import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

from . import settings  # noqa: E402


def _refusal(config, path, target):
    problems = settings.missing(config, settings.environment_names(path))
    if problems:
        return f"{target.split(':')[-1]} cannot start: " + "; ".join(problems)
    return None


def serve(services, config):
    """Run ``services`` until SIGINT or SIGTERM has stopped them."""
    from nameko.runners import ServiceRunner

    runner = ServiceRunner(config)
    for service_cls in services:
        runner.add_service(service_cls)
    # A signal handler cannot use the hub; a byte in this pipe wakes it at once
    # (a green thread spawned by the handler would wait for the hub's next timer).
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)

    def stop_at_first_signal():
        os.read(wakeup_read, 1)  # green: eventlet patched os
        runner.stop()

    runner.start()
    eventlet.spawn_n(stop_at_first_signal)
    runner.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m setiakawan_kit.runner",
                                     description="Run nameko services as 'nameko run --config' does.")
    parser.add_argument("--config", required=True, help="The service's nameko config file (YAML, ${VAR:default}).")
    parser.add_argument("services", nargs="+", metavar="MODULE[:CLASS]")
    args = parser.parse_args(argv)
    try:
        config = settings.load_config(args.config)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        return _fail(f"cannot read the configuration {args.config}: {exc}")
    refusal = _refusal(config, args.config, args.services[0])
    if refusal:
        return _fail(refusal)
    if "LOGGING" in config:
        logging.config.dictConfig(config["LOGGING"])
    else:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    from .outages import QuietOutages
    logging.getLogger("nameko.containers").addFilter(QuietOutages())
    if "." not in sys.path:
        sys.path.insert(0, ".")  # as nameko run: modules in the working folder
    from nameko.cli.run import import_service
    from nameko.exceptions import CommandError

    try:
        services = [cls for target in args.services for cls in import_service(target)]
    except CommandError as exc:
        return _fail(str(exc))
    serve(services, config)
    return 0


def _fail(message):
    print(f"Error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
