"""``setiakawan import``: upload a list to the registry and follow its
progress (a subcommand the registry adds to the operator's tool)."""
import json
import os
import time
import urllib.parse
import urllib.request
from pathlib import Path

import click

from setiakawan_kit import api_client


def _request(method, url, token, data=None, headers=None):
    return api_client.call(method, url, token, service="registry", data=data, headers=headers,
                           closed_means="the registry closed the connection during the upload "
                                        "(is the file larger than its IMPORT_MAX_BYTES?)")


def _check_token(url, token):
    """Refuse early, before uploading a large file with a token the registry
    will not take: the diagnostics list asks for the roles an upload does
    (admin or operator)."""
    _request("GET", f"{url}/diagnostics/pings", token)


registry_url = click.option(
    "--url", default=lambda: f"http://{os.environ.get('REGISTRY_HTTP_ADDRESS', '127.0.0.1:8001')}",
    show_default="http://127.0.0.1:8001", help="The registry service.")
agency_token = click.option("--token", envvar="SETIAKAWAN_TOKEN", required=True,
                            help="Bearer token of the agency (or SETIAKAWAN_TOKEN).")


@click.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@registry_url
@agency_token
@click.option("--rejections", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to save the rejected rows (CSV, with the file's own delimiter).")
@click.option("--delimiter", type=click.Choice(["comma", "semicolon", "tab"]),
              help="How a CSV file separates its columns (default: what splits the header line into most).")
@click.option("--sheet", help="The sheet of an .xlsx workbook to import (default: the first).")
@click.option("--dry-run", is_flag=True,
              help="Check the whole file and say what would be created, skipped and rejected; write nothing.")
@click.option("--mapping", help="A column mapping by name: your agency's (see import-mapping) or the built-in dtks.")
@click.option("--columns", help="A mapping of the file's headers: HEADER=column pairs, e.g. NIK=nik,NAMA=name.")
def import_command(csv_file, url, token, rejections, delimiter, sheet, dry_run, mapping, columns):
    """Import CSV_FILE, a CSV file (comma, semicolon or tab separated) or an Excel
    workbook (.xlsx) with one row per member, into the registry, with a progress bar."""
    size = csv_file.stat().st_size
    _check_token(url, token)
    workbook = csv_file.suffix.lower() == ".xlsx"
    query = {"filename": csv_file.name}
    if delimiter:
        query["delimiter"] = {"comma": ",", "semicolon": ";", "tab": "tab"}[delimiter]
    if sheet:
        query["sheet"] = sheet
    if dry_run:
        query["dry_run"] = "true"
    if mapping:
        query["mapping"] = mapping
    if columns:
        query["columns"] = columns
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if workbook else "text/csv"
    with open(csv_file, "rb") as data:
        state = _request("POST", f"{url}/imports?{urllib.parse.urlencode(query)}", token, data,
                         {"Content-Type": content_type, "Content-Length": str(size)})
    click.echo(f"import {state['id']}: {state['total_rows']} rows", err=True)
    with click.progressbar(length=1000, label=state["stage"], show_eta=True) as bar:
        shown = 0
        while state["status"] not in ("completed", "failed"):
            time.sleep(0.5)
            state = _request("GET", f"{url}/imports/{state['id']}", token)
            bar.label = state["stage"]
            done = int(state["progress"] * 1000)
            bar.update(done - shown)
            shown = done
        bar.update(1000 - shown)
    if state["status"] == "failed":
        raise click.ClickException(f"the import failed: {state['error']}")
    would = "dry run, nothing written: would be " if dry_run else ""
    click.echo(f"{would}households created: {state['households_created']}, members accepted: "
               f"{state['accepted_rows']}, already registered: {state['already_registered']}, "
               f"rejected: {state['rejected_rows']}")
    if rejections and state["rejected_rows"]:
        request = urllib.request.Request(f"{url}/imports/{state['id']}/rejections",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=600) as response:
            rejections.write_bytes(response.read())
        click.echo(f"rejected rows with their reasons: {rejections}")


@click.command("import-mapping")
@click.argument("name")
@click.argument("mapping_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@registry_url
@agency_token
def import_mapping_command(name, mapping_file, url, token):
    """Save MAPPING_FILE (JSON: columns, values, defaults) as your agency's column mapping NAME,
    for `setiakawan import FILE --mapping NAME`."""
    try:
        document = json.loads(mapping_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{mapping_file} is not a JSON mapping: {exc}") from None
    body = json.dumps(document).encode()
    saved = _request("PUT", f"{url}/import-mappings/{urllib.parse.quote(name)}", token, body,
                     {"Content-Type": "application/json", "Content-Length": str(len(body))})
    click.echo(f"saved mapping {saved['name']}: {len(saved['columns'])} columns, "
               f"codes for {len(saved['values'])}, defaults for {len(saved['defaults'])}")
