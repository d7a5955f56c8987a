"""``python -m setiakawan_kit.runner --config CONFIG MODULE``: ``nameko run``
with eventlet's monkey patching and psycogreen in place before any service
code is imported."""
import sys

import setiakawan_kit  # noqa: F401 - quiets eventlet's deprecation notice

import eventlet  # noqa: E402

eventlet.monkey_patch()

from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()


def main():
    from nameko.cli.main import main as nameko_main

    sys.argv = ["nameko", "run", *sys.argv[1:]]
    nameko_main()


if __name__ == "__main__":
    main()
