"""``python -m setiakawan_kit.healthcheck SERVICE``: the containers' health
check (docker-compose.yml). GET /health at ``<SERVICE>_HTTP_ADDRESS``;
exits 0 when it answers 200. The standard library only: the whole
``setiakawan`` tool (``setiakawan health``, the same for an operator) takes
about 2 s of CPU to start, which on a busy machine outlasts the check's
timeout and marks a healthy service unhealthy."""
import os
import sys
import urllib.error
import urllib.request


def main(argv):
    if len(argv) != 2:
        print("usage: python -m setiakawan_kit.healthcheck SERVICE", file=sys.stderr)
        return 2
    variable = f"{argv[1].upper()}_HTTP_ADDRESS"
    address = os.environ.get(variable)
    if not address:
        print(f"{variable} is not set", file=sys.stderr)
        return 2
    host, _, port = address.rpartition(":")
    if host in ("", "0.0.0.0", "::", "[::]"):  # listening everywhere: ask on this host
        host = "127.0.0.1"
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=5) as response:
            print(f"{argv[1]}: {response.status} {response.read(500).decode(errors='replace')}")
            return 0 if response.status == 200 else 1
    except (OSError, urllib.error.URLError) as exc:
        print(f"{argv[1]}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
