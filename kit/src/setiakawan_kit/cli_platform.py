"""``setiakawan status``, ``queues``, ``outbox``, ``dead`` and ``ping``: the
running platform at a glance, dead-lettered messages listed and replayed, and
a diagnostic ping through every service.

The broker is read as its administrator (``AMQP_URI``, the account
``broker setup`` uses) through the management API or, where the plugin is
off, ``rabbitmqctl`` on the broker's host; the outboxes are read in each
service's database (``DATABASE_URL``)."""
import json
import os
import sys
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import click

from . import broker, operate


def _cli():
    # imported when a command runs: cli.py adds these commands as it loads
    from . import cli

    return cli


def _broker_queues():
    admin_uri = _cli()._admin_uri()
    try:
        rows = _cli()._admin(admin_uri).queues(broker.vhost_of(admin_uri))
    except broker.BrokerSetupError as exc:
        raise click.ClickException(str(exc)) from None
    return operate.group_queues(operate.with_live_counts(admin_uri, rows))


def _backlogs(services):
    url = os.environ.get("DATABASE_URL", _cli().DEFAULT_DATABASE_URL)
    return [operate.outbox_backlog(url, info.name, _cli().database_name(info)) for info in services]


def _echo_json(value):
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _age(seconds):
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def status(as_json):
    """The whole platform at a glance: each installed service's health, its
    outbox backlog, the events waiting in its queues, being retried and
    dead-lettered, and the broker's other consumers (partners).

    Exits 1 when a service is not healthy or a message is dead-lettered."""
    services = _cli().installed_services()
    if not services:
        raise click.ClickException("no Setiakawan service is installed (run 'make install')")
    try:
        queues = {q.service: q for q in _broker_queues()}
        broker_problem = None
    except click.ClickException as exc:
        queues, broker_problem = {}, exc.message
    backlogs = {b.service: b for b in _backlogs(services)}
    report = []
    for info in services:
        state, document = operate.health(_cli().http_address(info))
        service_queues = queues.get(info.name, operate.ServiceQueues(info.name))
        backlog = backlogs[info.name]
        report.append({
            "service": info.name, "address": _cli().http_address(info), "health": state,
            "database": document.get("database"), "broker": document.get("broker"),
            "outbox_unsent": backlog.unsent, "outbox_oldest_s": backlog.oldest_s,
            "outbox_problem": backlog.problem,
            "queued": service_queues.total("ready"), "in_handling": service_queues.total("unacked"),
            "retrying": service_queues.total("retrying"), "dead": service_queues.total("dead"),
            "consumers": service_queues.total("consumers"), "handlers": len(service_queues.handlers),
        })
    others = [q.service for q in queues.values() if q.service not in {s.name for s in services}]
    trouble = [r for r in report if r["health"] != "ok" or r["dead"]]
    if as_json:
        _echo_json({"services": report, "other_consumers": others, "broker_problem": broker_problem,
                    "ok": not trouble and not broker_problem})
    else:
        click.echo(f"{'service':<14} {'health':<12} {'address':<21} {'outbox':>7} {'oldest':>7} "
                   f"{'queued':>7} {'retrying':>8} {'dead':>6}")
        for r in report:
            outbox = "?" if r["outbox_unsent"] is None else r["outbox_unsent"]
            click.echo(f"{r['service']:<14} {r['health']:<12} {r['address']:<21} {outbox:>7} "
                       f"{_age(r['outbox_oldest_s']):>7} {r['queued']:>7} {r['retrying']:>8} {r['dead']:>6}")
            if r["outbox_problem"]:
                click.echo(f"  database: {r['outbox_problem']}")
        if others:
            click.echo(f"other consumers on the broker: {', '.join(sorted(others))}")
        if broker_problem:
            click.echo(f"broker: {broker_problem}")
        dead = [r["service"] for r in report if r["dead"]]
        if dead:
            click.echo(f"dead-lettered messages wait in {', '.join(dead)}: 'setiakawan dead list' shows them")
    if trouble or broker_problem:
        sys.exit(1)


@click.command()
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def queues(services, as_json):
    """Queue depths per consuming service (default: every one on the broker,
    partners' included): for each handler, the events ready, being handled
    (unacknowledged), waiting in its retry queues and dead-lettered, and
    its consumers."""
    grouped = [q for q in _broker_queues() if not services or q.service in services]
    if as_json:
        _echo_json([{"service": q.service, "handlers": [asdict(h) for h in q.handlers], "other": q.other}
                    for q in grouped])
        return
    if not grouped:
        click.echo("no queues" + (f" of {', '.join(services)}" if services else ""))
    for group in grouped:
        click.echo(f"{group.service}")
        click.echo(f"  {'queue':<64} {'ready':>7} {'unacked':>7} {'retrying':>8} {'dead':>6} {'consumers':>9}")
        for h in group.handlers:
            click.echo(f"  {h.name:<64} {h.ready:>7} {h.unacked:>7} {h.retrying:>8} {h.dead:>6} {h.consumers:>9}")
        for q in group.other:
            click.echo(f"  {q['name']:<64} {q['ready']:>7} {q['unacked']:>7} {'':>8} {'':>6} {q['consumers']:>9}")


@click.command()
@click.argument("services", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def outbox(services, as_json):
    """Outbox backlogs of SERVICES (default: all installed): events
    committed and not yet published, the age of the oldest, how many the
    relay failed to publish and its last error."""
    backlogs = _backlogs(_cli()._select(services))
    if as_json:
        _echo_json([asdict(b) for b in backlogs])
        return
    click.echo(f"{'service':<14} {'database':<28} {'unsent':>7} {'oldest':>7} {'failing':>7}")
    for b in backlogs:
        if b.problem:
            click.echo(f"{b.service:<14} {b.database:<28} {b.problem}")
            continue
        click.echo(f"{b.service:<14} {b.database:<28} {b.unsent:>7} {_age(b.oldest_s):>7} {b.failing:>7}")
        if b.last_error:
            click.echo(f"  last error: {b.last_error}")


@click.group("dead")
def dead_group():
    """Dead-lettered messages: events a handler failed on every attempt, or
    could not read. List them, fix the cause, then replay them."""


@dead_group.command("list")
@click.argument("queue", required=False)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Show at most this many messages of QUEUE.")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def dead_list(queue, limit, as_json):
    """Without QUEUE: every dead-letter queue that holds messages. With QUEUE
    (a name ending in .dead): its messages, oldest first (event id, type,
    subject, when and why it was given up), left where they are."""
    if queue is None:
        found = [(h.dead_queue, h.dead) for group in _broker_queues() for h in group.handlers if h.dead]
        if as_json:
            _echo_json([{"queue": name, "messages": count} for name, count in found])
        elif not found:
            click.echo("no dead-lettered messages")
        else:
            for name, count in found:
                click.echo(f"{count:>7}  {name}")
        return
    try:
        letters = operate.peek_dead_letters(_cli()._admin_uri(), queue, limit)
    except operate.OperateError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        _echo_json([asdict(letter) for letter in letters])
        return
    if not letters:
        click.echo(f"{queue} is empty")
    for letter in letters:
        click.echo(f"#{letter.position} {letter.event_id}  {letter.event_type}  subject {letter.subject}  "
                   f"from {letter.source}")
        click.echo(f"   dead at {letter.dead_at or '?'} after {letter.attempts or '?'} attempt(s), "
                   f"{letter.size} bytes")
        click.echo(f"   {letter.error}")


@dead_group.command("replay")
@click.argument("queue")
@click.option("--id", "event_ids", multiple=True, metavar="EVENT_ID",
              help="Replay the message with this ce-id (repeatable).")
@click.option("--all", "replay_all", is_flag=True, help="Replay every message of QUEUE.")
def dead_replay(queue, event_ids, replay_all):
    """Send dead-lettered messages of QUEUE back to their handler, after the
    cause is fixed: one (--id), or all (--all). Each gets its attempts
    afresh; the handler's inbox makes a message that had taken effect
    after all a no-op. A message that fails again is dead-lettered again."""
    if bool(event_ids) == replay_all:
        raise click.UsageError("name the messages with --id, or replay them all with --all")
    try:
        total = len(event_ids) if event_ids else operate.peek_count(_cli()._admin_uri(), queue)
        with click.progressbar(length=total, label=f"replaying {queue}", file=sys.stderr,
                               show_pos=True) as bar:
            replayed = operate.replay_dead_letters(_cli()._admin_uri(), queue, event_ids or None, progress=bar.update)
    except operate.OperateError as exc:
        raise click.ClickException(str(exc)) from None
    missing = sorted(set(event_ids) - {letter.event_id for letter in replayed})
    click.echo(f"replayed {len(replayed)} message(s) to {operate.handler_queue_of(queue)[0]}")
    if missing:
        raise click.ClickException(f"not in {queue}: {', '.join(missing)}")


@click.command()
@click.option("--http", "http_address", envvar="SANDBOX_HTTP_ADDRESS", default="127.0.0.1:8025", show_default=True,
              help="Where the gateway (POST /messages) and the logs (GET /messages, /emails, /) listen.")
@click.option("--smtp", "smtp_address", envvar="SANDBOX_SMTP_ADDRESS", default="127.0.0.1:1025", show_default=True,
              help="Where the mail catcher takes email (SMTP).")
@click.option("--token", envvar="NOTIFICATIONS_GATEWAY_TOKEN", required=True,
              help="The bearer token the gateway requires (NOTIFICATIONS_GATEWAY_TOKEN, as the service sends it).")
@click.option("--callback-url", envvar="SANDBOX_CALLBACK_URL",
              help="The notifications service's /gateway/callbacks: each message taken gets a delivery receipt.")
@click.option("--inbound-secret", envvar="NOTIFICATIONS_GATEWAY_INBOUND_SECRET",
              help="The secret receipts are signed with (NOTIFICATIONS_GATEWAY_INBOUND_SECRET).")
@click.option("--folder", envvar="SANDBOX_FOLDER", type=click.Path(file_okay=False),
              help="Also append every message and email to messages.jsonl and emails.jsonl here.")
@click.option("--not-on-whatsapp", "not_on_whatsapp", envvar="SANDBOX_NOT_ON_WHATSAPP", multiple=True,
              help="A number (E.164) the gateway says is not on WhatsApp (422), as a real one does; repeatable, "
                   "or space-separated in SANDBOX_NOT_ON_WHATSAPP.")
def sandbox(http_address, smtp_address, token, callback_url, inbound_secret, folder, not_on_whatsapp):
    """Serve a pretend SMS/WhatsApp gateway and a mail catcher, for development,
    demos and the compose stack: nothing reaches a real person.

    The gateway takes what the notifications service sends (bearer token,
    Idempotency-Key honoured) and writes it down; every email is caught.
    Read them at http://HTTP/ (a page), /messages and /emails (JSON).
    `setiakawan run` starts it in development when NOTIFICATIONS_GATEWAY_URL is not set."""
    import signal
    import threading

    from .sandbox import Sandbox

    try:
        served = Sandbox(http_address, smtp_address, token, folder, callback_url, inbound_secret,
                         not_on_whatsapp).start()
    except (OSError, RuntimeError) as exc:
        raise click.ClickException(f"the sandbox cannot listen: {exc}") from None
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    click.echo(f"sandbox: gateway and logs on http://{http_address}/ , mail catcher on smtp {smtp_address}"
               + (f", receipts to {callback_url}" if served.receipts else ""), err=True)
    stopped.wait()
    served.stop()


@click.command()
@click.argument("services", nargs=-1)
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds to wait for every ping to arrive everywhere.")
@click.option("--key", "key_path", type=click.Path(dir_okay=False, path_type=Path), envvar="SETIAKAWAN_SIGNING_KEY",
              help="The issuer's private key the ping's admin token is signed with (as 'setiakawan token').")
@click.option("--json", "as_json", is_flag=True, help="Print it as JSON.")
def ping(services, timeout, key_path, as_json):
    """A diagnostic ping through SERVICES (default: all installed): each
    publishes a diagnostic.ping event through its outbox and the broker, and
    each must receive every one's ping. Proves, service by service, HTTP,
    token checking, the database, the outbox relay, the broker account's
    permissions and the consumers.

    Exits 1 when a service cannot be reached or a ping has not arrived after --timeout."""
    import time

    import requests

    from . import auth

    selected = _cli()._select(services)
    _, signing_key = _cli().signing_key_at(key_path)
    # the diagnostics endpoints check the role only; a token needs some region
    token = auth.issue_token(signing_key, "setiakawan ping", "province", "admin", ["62"],
                             ttl=timedelta(seconds=timeout + 60))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    addresses = {info.name: _cli().http_address(info) for info in selected}
    problems, sent = {}, {}
    started = time.monotonic()
    for name, address in addresses.items():
        try:
            answer = session.post(f"http://{address}/diagnostics/ping", json={"message": "setiakawan ping"},
                                  timeout=10)
        except requests.RequestException as exc:
            problems[name] = f"unreachable at {address}: {exc.__class__.__name__}"
            continue
        try:
            sent[name] = answer.json()["event_id"] if answer.status_code == 202 else None
        except (ValueError, KeyError, TypeError):
            sent[name] = None
        if sent[name] is None:
            del sent[name]
            problems[name] = f"refused the ping: {answer.status_code} {answer.text[:200]}"
    received, waited = {}, {}
    listening = [name for name in addresses if name not in problems]
    deadline = started + timeout
    while listening and time.monotonic() < deadline:
        for name in list(listening):
            try:
                rows = session.get(f"http://{addresses[name]}/diagnostics/pings", timeout=10).json()
            except (requests.RequestException, ValueError):
                continue
            ids = {row["event_id"] for row in rows}
            received[name] = sorted(sender for sender, event_id in sent.items() if event_id in ids)
            if len(received[name]) == len(sent):
                waited[name] = time.monotonic() - started
                listening.remove(name)
        if listening:
            time.sleep(0.2)
    report = [{"service": name, "address": address, "sent": sent.get(name), "problem": problems.get(name),
               "received_from": received.get(name, []), "seconds": waited.get(name)}
              for name, address in addresses.items()]
    failed = bool(problems) or bool(listening)
    if as_json:
        _echo_json({"services": report, "ok": not failed})
    else:
        for row in report:
            if row["problem"]:
                click.echo(f"{row['service']:<14} {row['problem']}")
            elif row["seconds"] is not None:
                click.echo(f"{row['service']:<14} received all {len(sent)} pings in {row['seconds']:.1f} s")
            else:
                missing = sorted(set(sent) - set(row["received_from"]))
                click.echo(f"{row['service']:<14} missing the pings of {', '.join(missing)} after {timeout:g} s")
    if failed:
        sys.exit(1)


@click.command()
@click.argument("services", nargs=-1)
def health(services):
    """GET /health of SERVICES (default: all installed) at their HTTP
    addresses (<SERVICE>_HTTP_ADDRESS): the images' and docker-compose.yml's
    health check. Exits 1 unless every one answers ok."""
    failing = []
    for info in _cli()._select(services):
        state, document = operate.health(_cli().http_address(info))
        click.echo(f"{info.name}: {state} {json.dumps(document, ensure_ascii=False) if document else ''}".rstrip())
        if state != "ok":
            failing.append(info.name)
    if failing:
        sys.exit(1)
