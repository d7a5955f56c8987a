"""``KEY=VALUE`` files (docker compose's ``.env``) holding secrets: read,
and updated in place with mode 0600."""
import shlex
from pathlib import Path

from .keys import write_private


def read(path):
    values = {}
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return values
    for line in lines:
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            values[key.strip()] = _unquote(value.strip())
    return values


def update(path, values):
    """Set ``values`` in the file, keeping its other lines."""
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        lines = []
    left = dict(values)
    out = []
    for line in lines:
        key = line.partition("=")[0].strip()
        if key in left:
            out.append(f"{key}={_quote(left.pop(key))}")
        else:
            out.append(line)
    out.extend(f"{key}={_quote(value)}" for key, value in left.items())
    write_private(path, ("\n".join(out) + "\n").encode())


def _quote(value):
    # single quotes: docker compose and sh read them alike, with no interpolation
    return "'" + value.replace("'", "'\"'\"'") + "'" if any(c in value for c in " '\"$#{}\\") else value


def _unquote(value):
    if value[:1] in ("'", '"'):
        try:
            return shlex.split(value)[0]
        except (ValueError, IndexError):
            return value
    return value
