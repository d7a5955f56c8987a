"""``python -m setiakawan_kit.runner --config CONFIG MODULE``: ``nameko run``
with eventlet's monkey patching and psycogreen in place before any service
code is imported. A service whose configuration lacks a setting it cannot
start without (its broker account, its trusted token issuers) stops here
with one line saying which, before nameko prints a traceback."""
import sys

import setiakawan_kit  # noqa: F401 - quiets eventlet's deprecation notice

import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()


def _refusal(argv):
    from . import settings

    if "--config" not in argv[:-1]:
        return None
    path = argv[argv.index("--config") + 1]
    target = next((a for a in argv if ":" in a and not a.startswith("-")), "service")
    try:
        config = settings.load_config(path)
    except (OSError, ValueError) as exc:
        return f"cannot read the configuration {path}: {exc}"
    problems = settings.missing(config, settings.environment_names(path))
    if problems:
        return f"{target.split(':')[-1]} cannot start: " + "; ".join(problems)
    return None


def main():
    from nameko.cli.main import main as nameko_main

    refusal = _refusal(sys.argv[1:])
    if refusal:
        print(f"Error: {refusal}", file=sys.stderr)
        sys.exit(2)
    sys.argv = ["nameko", "run", *sys.argv[1:]]
    nameko_main()


if __name__ == "__main__":
    main()
