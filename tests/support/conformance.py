"""Schemathesis against a running service's own ``/openapi.json``: the
document must tell the truth about every answer (status code, content
type, body schema), and no request may be a server error.

Run through its command line, as an outside fuzzer would, with a bounded
number of examples per operation. Values of real records (``dictionaries``:
name -> values) can be bound to parameters (``parameters``: ``path.NAME``,
``query.NAME`` or ``body.PATH`` -> dictionary name), each used with a
probability so that unknown values are tried too."""
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")
#: cases per operation and phase; a run of the registry's 28 operations takes about half a minute
MAX_EXAMPLES = int(os.environ.get("SETIAKAWAN_FUZZ_EXAMPLES", "10"))
#: a fixed seed keeps `make test` repeatable; SETIAKAWAN_FUZZ_SEED=random explores
SEED = os.environ.get("SETIAKAWAN_FUZZ_SEED", "20251215")
BOUND_PROBABILITY = 0.8


def config_toml(dictionaries=None, parameters=None):
    """A schemathesis.toml binding ``parameters`` to ``dictionaries``."""
    lines = []
    for name, values in (dictionaries or {}).items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps([str(v) for v in values])}", ""]
    if parameters:
        lines.append("[parameters]")
        lines += [f'{json.dumps(key)} = {{ dictionary = {json.dumps(name)}, probability = {BOUND_PROBABILITY} }}'
                  for key, name in parameters.items()]
    return "\n".join(lines) + "\n"


def run(url, token, folder, label, dictionaries=None, parameters=None, max_examples=MAX_EXAMPLES):
    """Run schemathesis against the service at ``url`` as the holder of
    ``token``; the completed process (its output names each failure)."""
    folder = Path(folder)
    config = folder / f"schemathesis-{label}.toml"
    config.write_text(config_toml(dictionaries, parameters))
    # one worker: schemathesis's threads hit a CPython 3.11 bug now and then (gh-106905, "AST constructor
    # recursion depth mismatch"), and on two cores they are no faster
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
               f"{url}/openapi.json", "--checks", ",".join(CHECKS), "--max-examples", str(max_examples),
               "--header", f"Authorization: Bearer {token}", "--workers", "1", "--request-timeout", "30",
               "--generation-database", "none", "--no-color", "--output-truncate", "true"]
    if SEED != "random":
        command += ["--seed", SEED]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=folder,
                          env=dict(os.environ, NO_COLOR="1", COLUMNS="120"))


def assert_conforms(process):
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-20000:]


class Document:
    """A service's own OpenAPI document, to hold answers got outside the
    fuzzer (the records a test makes first) to it as well."""

    def __init__(self, url):
        import schemathesis  # noqa: PLC0415 - a test dependency, loaded by the tests that use it

        self.schema = schemathesis.openapi.from_url(f"{url}/openapi.json")

    def check(self, response):
        """``response`` (requests) is an answer its operation documents:
        its status, its media type and its body; returned as it is."""
        request = response.request
        operation = self.schema.find_operation_by_path(request.method, urlsplit(request.url).path)
        assert operation is not None, f"{request.method} {request.url} is not in the document"
        documented = operation.definition.raw["responses"].get(str(response.status_code))
        assert documented is not None, f"{operation.label} answered {response.status_code}: not documented"
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        assert media_type in documented.get("content", {}), \
            f"{operation.label} answered {response.status_code} as {media_type}: not documented"
        operation.validate_response(response)
        return response
