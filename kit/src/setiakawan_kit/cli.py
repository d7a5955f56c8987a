"""``setiakawan``: the operator's command-line tool."""
import base64
import json
import os
import secrets
import signal
import sys
import time
import urllib.request
from datetime import timedelta
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path

import click

from . import auth, broker, envfile, keys, settings, supervise, topology

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _webhook_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


#: random secrets services keep, by environment variable, and how each is made: 'keys init
#: --env-file' writes them, 'run' makes them in $SETIAKAWAN_HOME in development. The gateway's
#: token and callback secret are those of the sandbox (`setiakawan sandbox`) until an operator
#: puts a real gateway's in their place.
SERVICE_SECRETS = {"NOTIFICATIONS_ADDRESS_HASH_KEY": lambda: secrets.token_urlsafe(32),
                   "NOTIFICATIONS_GATEWAY_TOKEN": lambda: secrets.token_urlsafe(32),
                   "NOTIFICATIONS_GATEWAY_INBOUND_SECRET": _webhook_secret}
#: where `setiakawan sandbox` serves by default (its HTTP side: the gateway, the logs; and SMTP)
SANDBOX_HTTP_ADDRESS, SANDBOX_SMTP_ADDRESS = "127.0.0.1:8025", "127.0.0.1:1025"
#: the broker as its administrator: where `broker setup` makes accounts (RabbitMQ's own default user)
DEFAULT_AMQP_URI = "pyamqp://guest:guest@127.0.0.1:5672/"


def home():
    """The folder of development keys and broker accounts (git-ignored)."""
    return Path(os.environ.get("SETIAKAWAN_HOME", ".setiakawan"))


def amqp_uri_variable(info):
    return f"{info.name.upper()}_AMQP_URI"


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
@click.option("--hours", default=12.0, show_default=True, type=click.FloatRange(0, auth.MAX_TOKEN_HOURS, min_open=True),
              help=f"Hours until the token expires (at most {auth.MAX_TOKEN_HOURS}).")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path), envvar="SETIAKAWAN_SIGNING_KEY",
              help="The issuer's private key (or SETIAKAWAN_SIGNING_KEY; default: the development key "
                   "in $SETIAKAWAN_HOME/keys, made by 'make run').")
@click.option("--issuer", default=auth.DEFAULT_ISSUER, show_default=True, help="The iss claim.")
@click.option("--audience", default=auth.DEFAULT_AUDIENCE, show_default=True, help="The aud claim.")
def token(agency, kind, role, regions, hours, key_path, issuer, audience):
    """Print a bearer token for an agency, signed with the issuer's private key."""
    from lokal.wilayah import get_wilayah

    codes = [c.strip() for c in regions.split(",") if c.strip()]
    for code in codes:
        try:
            auth.check_region_code(code)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--regions") from None
        if get_wilayah(code) is None:
            raise click.BadParameter(f"{code} is not a Kemendagri region", param_hint="--regions")
    key_path, signing_key = signing_key_at(key_path)
    click.echo(auth.issue_token(signing_key, agency, kind, role, codes, ttl=timedelta(hours=hours),
                                issuer=issuer, audience=audience))
    click.echo(f"signed by issuer {issuer!r} with key {signing_key.kid} ({key_path})", err=True)


def signing_key_at(key_path):
    """The issuer's signing key at ``key_path`` (default: the development key), and its path."""
    key_path = key_path or keys.KeyFiles(home() / "keys").signing_key
    if not key_path.exists():
        raise click.ClickException(
            f"no signing key at {key_path}: make one with 'setiakawan keys init' (or 'make run' in "
            "development), or name it with --key / SETIAKAWAN_SIGNING_KEY")
    try:
        return key_path, keys.load_signing_key(key_path)
    except keys.KeyFileError as exc:
        raise click.ClickException(str(exc)) from None


@main.group("keys")
def keys_group():
    """The token issuer's signing key and the JWKS services verify with."""


def _key_files(directory):
    return keys.KeyFiles(directory or home() / "keys")


_KEY_DIR = click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
                        help="The key folder (default: $SETIAKAWAN_HOME/keys, i.e. .setiakawan/keys).")


@keys_group.command("init")
@_KEY_DIR
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write SETIAKAWAN_TOKEN_ISSUERS and SETIAKAWAN_SIGNING_KEY to this file (e.g. .env).")
def keys_init(directory, env_file):
    """Make an Ed25519 key pair (private key mode 0600) and its JWKS, unless the folder has one."""
    files = _key_files(directory)
    try:
        key, created = files.init()
    except keys.KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{'made' if created else 'kept'} signing key {key.kid}: {files.signing_key} (private), "
               f"{files.jwks} (public; services trust it)", err=True)
    values = {"SETIAKAWAN_TOKEN_ISSUERS": str(files.jwks.resolve()),
              "SETIAKAWAN_SIGNING_KEY": str(files.signing_key.resolve())}
    if env_file:
        # secrets a service keeps (not keys of a pair): made once, kept when the file has them
        known = envfile.read(env_file) if env_file.exists() else {}
        values.update({name: known.get(name) or make() for name, make in SERVICE_SECRETS.items()})
        envfile.update(env_file, values)
        click.echo(f"wrote {', '.join(values)} to {env_file}", err=True)
    else:
        for name, value in values.items():
            click.echo(f"{name}={value}")


@keys_group.command("rotate")
@_KEY_DIR
def keys_rotate(directory):
    """Sign with a new key from now on; the JWKS keeps the old public key, so
    tokens already issued stay valid until you retire it."""
    files = _key_files(directory)
    old = keys.load_signing_key(files.signing_key).kid if files.signing_key.exists() else None
    key = files.rotate()
    click.echo(f"signing with {key.kid}; the JWKS still holds {old}: retire it with "
               f"'setiakawan keys retire {old}' once its tokens have expired")


@keys_group.command("retire")
@click.argument("kid")
@_KEY_DIR
def keys_retire(kid, directory):
    """Remove public key KID from the JWKS: tokens it signed stop being valid."""
    try:
        _key_files(directory).retire(kid)
    except keys.KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"retired {kid}")


@main.command()
@click.argument("services", nargs=-1)
def migrate(services):
    """Create (if needed) and migrate the databases of SERVICES (default: all)."""
    _preflight(amqp_uri=None)
    for info in _select(services):
        applied = _migrate(info)
        click.echo(f"{info.name}: database {database_name(info)} "
                   + (f"migrated ({', '.join(applied)})" if applied else "up to date"))


@main.command()
@click.argument("services", nargs=-1)
def run(services):
    """Migrate and start SERVICES (default: all) in the foreground; Ctrl-C stops them.

    A service that exits is restarted, after 1 s, 2 s, 4 s … (at most 30 s)
    if it keeps exiting; the others go on serving.

    In development it makes, once, a signing key and the services' broker
    accounts in $SETIAKAWAN_HOME (.setiakawan, git-ignored). With
    SETIAKAWAN_ENV=production it makes nothing and refuses to start without
    them."""
    selected = _select(services)
    env = dict(os.environ)
    if settings.production():
        refusals = _refusals(selected, env)
        if refusals:
            raise click.ClickException("cannot start in production: " + "; ".join(refusals))
        _preflight(amqp_uri=env[amqp_uri_variable(selected[0])])
    else:
        _preflight(amqp_uri=_admin_uri())
        env.update(_development_settings(selected))
    for info in selected:
        _migrate(info)
    stopping = []

    def stop(*_):
        stopping.append(True)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    say = partial(click.echo, err=True)
    commands = {info.name: ([sys.executable, "-m", "setiakawan_kit.runner", "--config", str(info.config), info.module],
                            dict(env, **{f"{info.name.upper()}_HTTP_ADDRESS": http_address(info)}))
                for info in selected}
    addresses = {info.name: http_address(info) for info in selected}
    if not settings.production() and "notifications" in addresses and not os.environ.get("NOTIFICATIONS_GATEWAY_URL"):
        commands, addresses = _with_sandbox(commands, addresses, env)
    supervisor = supervise.Supervisor(commands, say)
    try:
        supervisor.start()
        _serve(supervisor, addresses, stopping, say)
    finally:
        say("stopping…")
        supervisor.stop()
        say("stopped.")


@main.command()
@click.argument("service")
def serve(service):
    """Migrate SERVICE and run it as this very process: a container's command
    (docker-compose.yml), where the engine restarts what exits and `run`'s
    supervisor would only stand in the way. Its settings come from the
    environment, as `run`'s do in production."""
    (info,) = _select([service])
    if settings.production():
        refusals = _refusals([info], dict(os.environ))
        if refusals:
            raise click.ClickException(f"{info.name} cannot start: " + "; ".join(refusals))
    _preflight(amqp_uri=None)
    _migrate(info)
    os.environ[f"{info.name.upper()}_HTTP_ADDRESS"] = http_address(info)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "setiakawan_kit.runner", "--config", str(info.config), info.module])


def _with_sandbox(commands, addresses, env):
    """In development without a gateway: the sandbox (``setiakawan sandbox``) as one more
    supervised process, and the notifications service sending to it."""
    sandbox = os.environ.get("SANDBOX_HTTP_ADDRESS", SANDBOX_HTTP_ADDRESS)
    smtp = os.environ.get("SANDBOX_SMTP_ADDRESS", SANDBOX_SMTP_ADDRESS)
    smtp_host, _, smtp_port = smtp.rpartition(":")
    notifications = dict(commands["notifications"][1], NOTIFICATIONS_GATEWAY_URL=f"http://{sandbox}",
                         NOTIFICATIONS_SMTP_HOST=smtp_host, NOTIFICATIONS_SMTP_PORT=smtp_port)
    commands = dict(commands, notifications=(commands["notifications"][0], notifications))
    commands["sandbox"] = ([sys.executable, "-m", "setiakawan_kit.cli", "sandbox"], dict(
        env, SANDBOX_HTTP_ADDRESS=sandbox, SANDBOX_SMTP_ADDRESS=smtp, SANDBOX_FOLDER=str(home() / "sandbox"),
        SANDBOX_CALLBACK_URL=f"http://{addresses['notifications']}/gateway/callbacks"))
    return commands, dict(addresses, sandbox=sandbox)


def _serve(supervisor, addresses, stopping, say):
    """Until Ctrl-C: restart processes that exit, and say when each is (again) healthy."""
    unhealthy = dict(addresses)
    say_running_by = time.monotonic() + 60
    while not stopping:
        for name in supervisor.tend():
            unhealthy[name] = addresses[name]
        for name, address in list(unhealthy.items()):
            if _healthy(address):
                say(f"{name:<14} listening on http://{address}")
                del unhealthy[name]
        if say_running_by and (not unhealthy or time.monotonic() > say_running_by):
            if unhealthy:
                say(f"not healthy after 60 s: {', '.join(unhealthy)} (see the log above); the others are serving")
            say("Setiakawan is running. Press Ctrl-C to stop.")
            say_running_by = None
        time.sleep(0.3)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the full contract as JSON schemas.")
def contract(as_json):
    """List the published event types (exchange, routing key, dataschema); the
    same as `python -m setiakawan_contract` where only the contract is installed."""
    from setiakawan_contract.__main__ import describe

    items = describe()
    if as_json:
        click.echo(json.dumps(items, indent=2, ensure_ascii=False))
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


def _preflight(amqp_uri):
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
    if amqp_uri:
        try:
            with kombu.Connection(amqp_uri, connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:  # noqa: BLE001 - any failure means unreachable
            raise click.ClickException(
                f"RabbitMQ is not reachable at {_without_password(amqp_uri)} ({type(exc).__name__}); start it "
                "with 'rabbitmq-server -detached' or set AMQP_URI.")


def _without_password(uri):
    import urllib.parse

    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))


def _admin_uri():
    return os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)


def _service_class(info):
    import importlib

    module, _, attr = info.module.partition(":")
    return getattr(importlib.import_module(module), attr)


def _refusals(selected, env):
    """What keeps SELECTED from starting with ENV, each reason once."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        found = []
        for info in selected:
            config = settings.load_config(info.config)
            for reason in settings.missing(config, settings.environment_names(info.config), is_production=True):
                if reason not in found:
                    found.append(reason)
        return found
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _development_settings(selected):
    """Development keys and broker accounts, made once in $SETIAKAWAN_HOME
    for whatever the environment does not set."""
    folder = home()
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    values = {}
    if not os.environ.get("SETIAKAWAN_TOKEN_ISSUERS"):
        files = keys.KeyFiles(folder / "keys")
        key, created = files.init()
        values["SETIAKAWAN_TOKEN_ISSUERS"] = str(files.jwks.resolve())
        if created:
            click.echo(f"made a development signing key ({key.kid}) and its JWKS in {files.directory} "
                       "(git-ignored, not for production); 'setiakawan token' signs with it", err=True)
    secrets_file = folder / "secrets.env"
    missing = [name for name in SERVICE_SECRETS if not os.environ.get(name)]
    if missing:
        known = envfile.read(secrets_file) if secrets_file.exists() else {}
        made = {name: known.get(name) or SERVICE_SECRETS[name]() for name in missing}
        envfile.update(secrets_file, made)
        values.update(made)
    needing = [info for info in selected if not os.environ.get(amqp_uri_variable(info))]
    if needing:
        accounts_file = folder / "broker.env"
        made, uris = setup_service_accounts(needing, _admin_uri(), accounts_file)
        values.update(uris)
        if made:
            click.echo(f"made development broker accounts for {', '.join(made)} (passwords in {accounts_file})",
                       err=True)
    return values


def setup_service_accounts(selected, admin_uri, env_file=None, dry_run=False, echo=None):
    """Make (or update) each selected service's broker account on the vhost
    of ADMIN_URI; returns (the services given a new account, {<SVC>_AMQP_URI: uri})."""
    prefix = _user_prefix()
    admin = _admin(admin_uri)
    known = envfile.read(env_file) if env_file else {}
    definitions = broker.Definitions(broker.vhost_of(admin_uri))
    needs_list, uris, made = [], {}, []
    for info in selected:
        needs = broker.needs_of(_service_class(info), name=info.name)
        user = prefix + info.name
        password = _known_password(known.get(amqp_uri_variable(info)), user)
        if password is None:
            password = broker.new_password()
            made.append(info.name)
        grant = broker.service_grant(needs, user)
        definitions.users[user] = password
        definitions.grants.append(grant)
        needs_list.append(needs)
        uris[amqp_uri_variable(info)] = broker.amqp_uri_for(admin_uri, user, password)
        if echo:
            echo(_describe(grant))
    definitions.exchanges = [(name, "topic") for name in broker.exchanges_for(needs_list)]
    definitions.bindings = broker.any_source_bindings(n.service for n in needs_list)
    if dry_run:
        return made, uris
    try:
        admin.refuse_foreign_users(definitions.users)
        admin.apply(definitions)
    except broker.BrokerSetupError as exc:
        raise click.ClickException(str(exc)) from None
    if env_file:
        envfile.update(env_file, uris)
    return made, uris


def _known_password(uri, user):
    import urllib.parse

    if not uri:
        return None
    parts = urllib.parse.urlsplit(uri)
    if urllib.parse.unquote(parts.username or "") != user or not parts.password:
        return None
    return urllib.parse.unquote(parts.password)


def _describe(grant):
    lines = [f"{grant.user}:", f"  configure {grant.configure}", f"  write     {grant.write}",
             f"  read      {grant.read}"]
    lines += [f"  topic {t.exchange}: write {t.write}  read {t.read}" for t in grant.topics]
    return "\n".join(lines)


@main.group("broker")
def broker_group():
    """Broker accounts: one per service and per partner, allowed only what it needs.

    Acts on the vhost of AMQP_URI as its user, who must be a RabbitMQ
    administrator, through the management API (RABBITMQ_MANAGEMENT_URL,
    default port 15672 on the same host) or, where it is off, rabbitmqctl."""


@broker_group.command("setup")
@click.argument("services", nargs=-1)
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Keep the accounts' passwords as <SERVICE>_AMQP_URI lines in this file (e.g. .env); "
                   "a password already there is kept.")
@click.option("--dry-run", is_flag=True, help="Only print the permissions each account would get.")
def broker_setup(services, env_file, dry_run):
    """Make or update the broker accounts of SERVICES (default: all) and the exchanges they need."""
    made, uris = setup_service_accounts(_select(services), _admin_uri(), env_file, dry_run,
                                        echo=lambda text: click.echo(text, err=True))
    if dry_run:
        return
    click.echo(f"broker accounts ready: {', '.join(s.name for s in _select(services))}"
               + (f" (new: {', '.join(made)})" if made else ""), err=True)
    if env_file:
        click.echo(f"their AMQP URIs are in {env_file} ({', '.join(uris)})", err=True)
    else:
        for name, uri in uris.items():
            click.echo(f"{name}={uri}")


@broker_group.command("grant-partner")
@click.argument("name")
@click.option("--read", "reads", required=True,
              help="Comma-separated EXCHANGE:ROUTING_KEY the partner may bind, "
                   "e.g. registry.events:household.verified,registry.events:household.registered.")
@click.option("--publish", is_flag=True, help="Also let it publish its own events on partner-NAME.events.")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write its AMQP URI to this file (PARTNER_<NAME>_AMQP_URI) instead of printing it.")
def grant_partner(name, reads, publish, env_file):
    """Make (or update) the broker account of partner NAME (user and queues
    partner-NAME…): its own queues bound only to the routing keys granted,
    nothing published under our exchanges. Prints its AMQP URI, password
    included: hand it over privately."""
    from setiakawan_contract import event_types

    try:
        account = broker.partner_account(name)
        granted = broker.parse_reads(reads)
    except broker.BrokerSetupError as exc:
        raise click.BadParameter(str(exc)) from None
    known = {}
    for t in event_types:
        known.setdefault(f"{t.source_service}.events", set()).add(t.name)
    for exchange, routing_keys in granted.items():
        for key in routing_keys:
            if exchange in known and "*" not in key and "#" not in key and key not in known[exchange]:
                raise click.BadParameter(f"{exchange} carries no event type {key!r}", param_hint="--read")
    admin_uri = _admin_uri()
    user = _user_prefix() + account
    variable = f"{account.upper().replace('-', '_')}_AMQP_URI"
    password = _known_password(envfile.read(env_file).get(variable), user) if env_file else None
    password = password or broker.new_password()
    grant = broker.partner_grant(name, user, granted, publish)
    definitions = broker.Definitions(broker.vhost_of(admin_uri), users={user: password}, grants=[grant],
                                     exchanges=[(e, "topic") for e in sorted(granted)])
    if publish:  # its pings reach every service, as ours do
        definitions.exchanges += [(topology.exchange_name(account), "topic"), (topology.ANY_EXCHANGE, "topic")]
        definitions.bindings = broker.any_source_bindings([account])
    admin = _admin(admin_uri)
    try:
        admin.refuse_foreign_users([user])
        admin.apply(definitions)
    except broker.BrokerSetupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(_describe(grant), err=True)
    uri = broker.amqp_uri_for(admin_uri, user, password)
    if env_file:
        envfile.update(env_file, {variable: uri})
        click.echo(f"its AMQP URI is {variable} in {env_file}", err=True)
    else:
        click.echo(uri)


@broker_group.command("revoke-partner")
@click.argument("name")
def revoke_partner(name):
    """Delete partner NAME's broker account (its connections close) and its queues."""
    try:
        account = broker.partner_account(name)
    except broker.BrokerSetupError as exc:
        raise click.BadParameter(str(exc)) from None
    user = _user_prefix() + account
    admin_uri = _admin_uri()
    admin = _admin(admin_uri)
    try:
        tags = admin.user_tags([user])
        if user not in tags:
            raise click.ClickException(f"no broker account {user}")
        if broker.USER_TAG not in tags[user]:
            raise click.ClickException(f"the broker user {user} was not made by setiakawan; not deleting it")
        admin.delete_users([user])
        admin.delete_queues(broker.vhost_of(admin_uri), account + ".")
    except broker.BrokerSetupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"deleted broker account {user} and its queues", err=True)


def _user_prefix():
    return os.environ.get("SETIAKAWAN_BROKER_USER_PREFIX", "")


def _admin(admin_uri):
    return broker.BrokerAdmin.for_amqp_uri(admin_uri, os.environ.get("RABBITMQ_MANAGEMENT_URL"))


def _healthy(address):
    try:
        with urllib.request.urlopen(f"http://{address}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


from . import cli_platform  # noqa: E402 - its commands use this module's helpers

for _command in (cli_platform.status, cli_platform.queues, cli_platform.outbox, cli_platform.dead_group,
                 cli_platform.sandbox, cli_platform.ping, cli_platform.health):
    main.add_command(_command)

for _entry in entry_points(group="setiakawan.commands"):  # subcommands added by installed services
    main.add_command(_entry.load(), _entry.name)

if __name__ == "__main__":
    main()
