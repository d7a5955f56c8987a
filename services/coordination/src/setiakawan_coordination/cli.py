"""``setiakawan report coordination``: the coordination figures of a region
in the terminal (a subcommand the coordination service adds to the
operator's tool), read from its HTTP API with the agency's own token."""
import json
import os
import sys
import urllib.parse

import click

from setiakawan_kit import api_client

COLUMNS = (("name", "region", 28), ("households", "households", 10), ("poor_households", "poor", 8),
           ("households_reached", "reached", 8), ("households_delivered", "delivered", 9), ("gaps", "gaps", 7),
           ("gap_share", "gap %", 6), ("persons_trained", "trained", 8), ("agencies", "agencies", 8))


#: the report's lists after its table: key, heading, one line of an item
SECTIONS = (
    ("agencies", "agencies at work: kind, programmes, courses, households reached",
     lambda a: f"{a['agency']}: {a['kind'] or '?'}, {a['programmes']}, {a['courses']}, {a['households_reached']}"),
    ("programmes_by_category", "benefits by category: programmes, households planned, delivered, blocked",
     lambda c: f"{c['category']}: {c['programmes']}, {c['planned']}, {c['delivered']}, {c['blocked']}"),
    ("courses_by_skill_area", "courses by skill area: courses, persons enrolled, completed",
     lambda s: f"{s['skill_area']}: {s['courses']}, {s['enrolled']}, {s['completed']}"),
    ("overlaps_prevented", "double benefits the ledger prevented: agencies, categories, households",
     lambda o: f"{' / '.join(o['agencies'])}: {', '.join(o['categories'])}, {o['households']}"),
)


def _cell(line, key, width):
    value = line.get(key)
    if key == "gap_share":
        text = "" if value is None else f"{value * 100:.0f}"
    else:
        text = str(value if value is not None else "")
    text = text if len(text) <= width else text[:width - 1] + "…"
    return text.ljust(width) if key == "name" else text.rjust(width)


def table(report):
    """The report as lines of text: the region, its areas, agencies, categories and overlaps."""
    region, period = report["region"], report["period"]
    lines = [f"{region['name']} ({region['code']}, {region['level']}), {period['label']} "
             f"({period['starts_on']} – {period['ends_on']}); poor: verified, decile ≤ {report['gap_decile']}", ""]
    lines.append("  ".join(title.rjust(width) if key != "name" else title.ljust(width)
                           for key, title, width in COLUMNS))
    for line in [report["totals"], *report["areas"]]:
        mark = " ◀ gaps" if line["gap_level"] == "high" else ""
        lines.append("  ".join(_cell(line, key, width) for key, _, width in COLUMNS) + mark)
    for key, heading, line_of in SECTIONS:
        if report[key]:
            lines += ["", heading] + [f"  {line_of(item)}" for item in report[key]]
    return lines


@click.group("report")
def report():
    """Reports of the platform's services, in the terminal."""


@report.command("coordination")
@click.option("--region", required=True, help="A Kemendagri code: 62, 62.13, 62.13.01 or 62.13.01.2003.")
@click.option("--period", help="2026-12 (a month), 2026-Q4 or 2026 (default: this month).")
@click.option("--gap-decile", type=click.IntRange(1, 10), help="Poor: decile at most this (default: the service's).")
@click.option("--json", "as_json", is_flag=True, help="The whole report as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="The region's line and its areas' as CSV.")
@click.option("--url", default=lambda: f"http://{os.environ.get('COORDINATION_HTTP_ADDRESS', '127.0.0.1:8005')}",
              show_default="http://127.0.0.1:8005", help="The coordination service.")
@click.option("--token", envvar="SETIAKAWAN_TOKEN", required=True,
              help="Bearer token of the agency (or SETIAKAWAN_TOKEN); the report covers its regions only.")
def coordination(region, period, gap_decile, as_json, as_csv, url, token):
    """Who does what where in REGION: agencies, programmes and courses at
    work, households reached, and the poor households nobody reached, per
    region one level below."""
    if as_json and as_csv:
        raise click.UsageError("--json or --csv, not both")
    query = {"region": region, **({"period": period} if period else {}),
             **({"gap_decile": gap_decile} if gap_decile else {})}
    found = api_client.call("GET", f"{url.rstrip('/')}/coverage?{urllib.parse.urlencode(query)}", token,
                            service="coordination service", timeout=120)
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
    elif as_csv:
        from .coverage import areas_csv  # here: every `setiakawan` command loads this module

        sys.stdout.write(areas_csv(found).lstrip("\ufeff"))
    else:
        click.echo("\n".join(table(found)))
