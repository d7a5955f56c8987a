"""Event throughput and latency, outbox to idempotent consumer, measured end to end.

    python bench/events.py [--quick] [--events N] [--latency-seconds S] ...

What it runs, all on the local RabbitMQ and PostgreSQL (``DATABASE_URL``,
``AMQP_URI`` override them), on a fresh vhost and fresh databases that are
dropped at the end:

* the producer service (``tests.support.services:Producer``, a KitService
  whose outbox relay publishes with persistence and publisher confirms) and
  the consumer service (``tests.support.services:Consumer``, whose
  ``@handles`` handler records the event in ``kit_inbox`` and applies it to
  ``applied`` in one transaction), each as its own process;
* throughput: this process writes N events into the producer's outbox with
  ``setiakawan_kit.outbox.write``, ``--batch`` per transaction, as fast as it
  can; ``events_per_s`` = N / (time from the first write until the consumer
  database holds all N applied rows). Every event must be applied exactly
  once, or the bench exits non-zero;
* raw baseline, same broker, own vhost: kombu publishing N persistent
  messages, waiting for each confirm, while a consumer in another process
  acks each (prefetch 200); ``raw_events_per_s`` = N / (first publish to last
  ack). It waits for every confirm before the next publish, as specified,
  while the relay publishes a whole batch per confirm wait, so the ratio can
  exceed 1;
* latency: one event per transaction at a steady ``--latency-rate`` for
  ``--latency-seconds``; latency = the consumer's ``applied_at`` minus the
  time just after the producer-side commit (same machine clock);
* recovery: a second pair on a vhost of its own, the consumer's database on a
  PostgreSQL cluster made for the bench (``postgres_node``, never the
  machine's server); events at ``--latency-rate`` one per transaction, the
  consumer's cluster stopped for ``--outage-seconds`` (fast shutdown, as in a
  failover) and started again; ``recovery_seconds`` = from its return until
  every event committed before the return is applied (the backlog caught
  up), all exactly once with nothing dead-lettered.

Context lines also show where the time went: when the relay had confirmed
everything, the CPU each part of the pipeline used per event (Linux only;
the broker's figure includes whatever else it serves, and a line shows what
else ran on the machine meanwhile), and any warnings the services logged.

Figures go to stdout as ``name: value`` lines; context lines start with ``#``.
Nothing here is a test: it asserts correctness, never timings.
"""
import argparse
import multiprocessing
import os
import time

import harness  # first: it puts the repository on sys.path and quiets eventlet's warning
import kombu

from harness import BenchFailure, CpuMeter, Setup, context, figure, percentile, scalar
from setiakawan_contract import wire
from setiakawan_contract.envelope import make_event
from setiakawan_kit import migrate, outbox, postgres_node, topology
from tests.support.services import THING_HAPPENED

SUPPORT_MIGRATIONS = harness.ROOT / "tests" / "support" / "migrations"
PRODUCER_TARGET = "tests.support.services:Producer"
CONSUMER_TARGET = "tests.support.services:Consumer"
HANDLER_QUEUE = topology.handler_queue_name("producer", "thing.happened", "consumer", "on_thing")
SUBJECTS = 100
STALL_TIMEOUT = 60.0  # seconds without progress before the bench gives up


class PipelineCpuMeter(CpuMeter):
    """CPU seconds used by each part of the pipeline, to show where an event's
    cost goes. The broker's figure includes anything else it serves."""

    def __init__(self, setup, producer_db, consumer_db):
        super().__init__(setup, {producer_db: "postgres(producer db)", consumer_db: "postgres(consumer db)"},
                         "bench writer (this process)", every_broker_node=True)

    def report(self, before, after, events, seconds, label):
        use = self.use(before, after)
        if not use.parts:
            return
        context(f"{label}: CPU per event, pipeline {use.total / events * 1e6:.0f} us "
                f"({use.total / seconds:.2f} of {os.cpu_count()} cores busy on average):")
        for part, value in use.parts:
            context(f"  {part:30s} {value / events * 1e6:6.0f} us/event  ({value / seconds * 100:3.0f}% of a core)")


def write_event(cur, seq, notify=True):
    return outbox.write(cur, THING_HAPPENED, f"thing-{seq % SUBJECTS}", {"seq": seq},
                        service="producer", agency="bench", notify=notify)


def wait_applied(consumer_conn, lo, hi, poll=0.05):
    """Wait until every seq in [lo, hi) has an applied row; returns time.time() then."""
    return harness.wait_progress(
        lambda: scalar(consumer_conn, "SELECT count(*) FROM applied WHERE seq >= %s AND seq < %s", (lo, hi)),
        hi - lo, "events applied", STALL_TIMEOUT, poll=poll)


def verify_exactly_once(setup, producer_conn, consumer_conn, amqp_uri, lo, hi, label):
    """Every event of [lo, hi) applied exactly once, nothing left behind."""
    # The consumer may apply an event before the relay has committed its
    # sent_at; give the relay time to settle, then nothing may be left.
    deadline, waited = time.monotonic() + STALL_TIMEOUT, time.monotonic()
    while True:
        unsent = scalar(producer_conn, "SELECT count(*) FROM kit_outbox WHERE sent_at IS NULL")
        producer_conn.commit()
        if not unsent or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    waited = time.monotonic() - waited
    if waited > 1:
        context(f"{label}: the relay marked the last outbox rows sent {waited:.1f}s after they were applied")
    time.sleep(0.5)  # let a late or re-sent copy, if any, land (the inbox must drop it)
    with consumer_conn.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT seq), min(applications), max(applications),"
                    " min(seq), max(seq) FROM applied WHERE seq >= %s AND seq < %s", (lo, hi))
        count, distinct, min_apps, max_apps, min_seq, max_seq = cur.fetchone()
        cur.execute("SELECT count(*) FROM kit_inbox k JOIN applied a ON a.event_id = k.event_id"
                    " WHERE a.seq >= %s AND a.seq < %s", (lo, hi))
        inbox = cur.fetchone()[0]
    want = hi - lo
    problems = []
    if count != want or distinct != want or (want and (min_seq, max_seq) != (lo, hi - 1)):
        problems.append(f"{count} applied rows ({distinct} distinct seqs, {min_seq}..{max_seq}), expected {want}")
    if want and (min_apps, max_apps) != (1, 1):
        problems.append(f"applications range {min_apps}..{max_apps}, expected exactly 1 everywhere")
    if inbox != want:
        problems.append(f"{inbox} kit_inbox rows for these events, expected {want}")
    if unsent:
        problems.append(f"{unsent} outbox rows still unsent")
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.default_channel
        for queue in (HANDLER_QUEUE, topology.dead_letter_queue("consumer", HANDLER_QUEUE).name):
            _, messages, _ = channel.queue_declare(queue, passive=True)
            if messages:
                problems.append(f"{messages} messages left in {queue}")
    if problems:
        raise BenchFailure(f"{label}: " + "; ".join(problems))


# -- phases -----------------------------------------------------------------------
def run_throughput(setup, producer_conn, consumer_conn, amqp_uri, lo, n, batch, meter):
    hi = lo + n
    cpu_before = meter.snapshot()
    start = time.time()
    with producer_conn.cursor() as cur:
        for first in range(lo, hi, batch):
            for seq in range(first, min(first + batch, hi)):
                write_event(cur, seq, notify=(seq == first))
            producer_conn.commit()
    written = time.time()
    done = wait_applied(consumer_conn, lo, hi)
    cpu_after = meter.snapshot()
    elapsed = done - start
    verify_exactly_once(setup, producer_conn, consumer_conn, amqp_uri, lo, hi, "throughput")
    # Where the time went, from the rows' own timestamps.
    relayed = scalar(producer_conn, "SELECT extract(epoch FROM max(sent_at)) FROM kit_outbox")
    context(f"throughput: {n} events in {elapsed:.2f}s, {batch} per outbox transaction")
    context(f"  all written to the outbox after {written - start:.2f}s ({n / (written - start):.0f}/s)")
    context(f"  all confirmed by the broker (relay) after {float(relayed) - start:.2f}s")
    context(f"  all applied by the consumer after {elapsed:.2f}s")
    meter.report(cpu_before, cpu_after, n, elapsed, "throughput")
    return n / elapsed


def _raw_consumer(uri, exchange_name, queue_name, n, prefetch, ready, result):
    """Child process: consume with a manual ack per message; reports the time of the last ack."""
    exchange = kombu.Exchange(exchange_name, type="topic", durable=True)
    queue = kombu.Queue(queue_name, exchange=exchange, routing_key="thing.happened", durable=True)
    count = 0
    last_ack = None

    def on_message(body, message):
        nonlocal count, last_ack
        message.ack()
        count += 1
        if count == n:
            last_ack = time.time()

    try:
        with kombu.Connection(uri) as conn:
            with conn.Consumer(queue, callbacks=[on_message], prefetch_count=prefetch,
                               accept=["application/json"]):
                ready.set()
                deadline = time.monotonic() + 600
                while count < n and time.monotonic() < deadline:
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        pass
        result.put((count, last_ack))
    except Exception as exc:  # noqa: BLE001 - report to the parent
        ready.set()
        result.put((count, f"{type(exc).__name__}: {exc}"))


def run_raw(uri, n, prefetch):
    """kombu: publish n persistent messages, each waiting for its confirm, to a
    durable queue through a topic exchange, while another process acks them."""
    exchange = kombu.Exchange("bench.events", type="topic", durable=True, delivery_mode=2)
    queue = kombu.Queue("bench-raw", exchange=exchange, routing_key="thing.happened", durable=True)
    with kombu.Connection(uri) as conn:
        queue.declare(channel=conn.default_channel)  # declares and binds the exchange too
    sample = make_event(THING_HAPPENED, "thing-1", {"seq": 1}, service="producer", agency="bench")
    headers, content_type, body = wire.to_message(sample)

    mp = multiprocessing.get_context("spawn")
    ready, result = mp.Event(), mp.Queue()
    child = mp.Process(target=_raw_consumer, args=(uri, exchange.name, queue.name, n, prefetch, ready, result),
                       daemon=True)
    child.start()
    try:
        if not ready.wait(60):
            raise BenchFailure("raw consumer did not start")
        time.sleep(0.2)  # its basic.consume has gone out with the ready signal; let it settle
        with kombu.Connection(uri, transport_options={"confirm_publish": True}) as conn:
            producer = conn.Producer()
            start = time.time()
            for _ in range(n):
                producer.publish(body, exchange=exchange, routing_key="thing.happened", headers=headers,
                                 content_type=content_type, content_encoding="utf-8", delivery_mode=2)
            published = time.time()
        count, last_ack = result.get(timeout=STALL_TIMEOUT + 600)
    finally:
        child.join(10)
        if child.is_alive():
            child.terminate()
    if count != n or not isinstance(last_ack, float):
        raise BenchFailure(f"raw consumer acked {count} of {n} messages ({last_ack})")
    elapsed = last_ack - start
    context(f"raw kombu: {n} persistent messages, confirm per publish; published in {published - start:.2f}s "
            f"({n / (published - start):.0f}/s), last ack after {elapsed:.2f}s; consumer process, prefetch {prefetch}")
    return n / elapsed


def run_latency(setup, producer_conn, consumer_conn, amqp_uri, lo, rate, seconds):
    n = max(1, int(rate * seconds))
    hi = lo + n
    committed, event_ids = {}, {}
    interval = 1.0 / rate
    max_lag = 0.0
    with producer_conn.cursor() as cur:
        start = time.monotonic()
        for i in range(n):
            due = start + i * interval
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                max_lag = max(max_lag, -wait)
            seq = lo + i
            event = write_event(cur, seq)
            producer_conn.commit()
            committed[seq] = time.time()
            event_ids[event.id] = seq
        wrote_for = time.monotonic() - start
    wait_applied(consumer_conn, lo, hi)
    verify_exactly_once(setup, producer_conn, consumer_conn, amqp_uri, lo, hi, "latency")
    with consumer_conn.cursor() as cur:
        cur.execute("SELECT seq, event_id, extract(epoch FROM applied_at)::float8 FROM applied"
                    " WHERE seq >= %s AND seq < %s", (lo, hi))
        applied = cur.fetchall()
    with producer_conn.cursor() as cur:
        cur.execute("SELECT event_id::text, extract(epoch FROM sent_at)::float8 FROM kit_outbox"
                    " WHERE event_id = ANY(%s::uuid[])", (list(event_ids),))
        sent = dict(cur.fetchall())
    producer_conn.commit()
    total = sorted((at - committed[seq]) * 1000 for seq, _, at in applied)
    relay = sorted((sent[eid] - committed[seq]) * 1000 for seq, eid, _ in applied)
    consume = sorted((at - sent[eid]) * 1000 for _, eid, at in applied)
    context(f"latency: {n} events, one per transaction, at {n / wrote_for:.0f}/s for {wrote_for:.1f}s "
            f"(target {rate}/s; at most {max_lag * 1000:.1f} ms behind schedule)")
    context(f"  commit -> relay confirmed (sent_at):    p50 {percentile(relay, 50):.1f} ms, "
            f"p99 {percentile(relay, 99):.1f} ms")
    context(f"  relay confirmed -> consumer applied_at: p50 {percentile(consume, 50):.1f} ms, "
            f"p99 {percentile(consume, 99):.1f} ms")
    context(f"  commit -> consumer applied_at: min {total[0]:.1f} ms, max {total[-1]:.1f} ms")
    return percentile(total, 50), percentile(total, 99)


# -- main -------------------------------------------------------------------------
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2,000 events, 3 s of latency sampling")
    parser.add_argument("--events", type=int, help="events for throughput and raw (default 20000)")
    parser.add_argument("--batch", type=int, default=500, help="events per outbox transaction (default 500)")
    parser.add_argument("--latency-rate", type=int, default=500, help="events/s in the latency phase")
    parser.add_argument("--latency-seconds", type=float, help="length of the latency phase (default 10)")
    parser.add_argument("--warmup", type=int, default=500, help="events sent through before measuring")
    parser.add_argument("--consumer-workers", type=int, default=10,
                        help="consumer max_workers (also its prefetch count; default 10)")
    parser.add_argument("--relay-batch", type=int, default=500, help="producer OUTBOX_BATCH_SIZE")
    parser.add_argument("--raw-prefetch", type=int, default=200)
    parser.add_argument("--queue-version", type=int, choices=(1, 2),
                        help="set a classic-queue-version policy on both vhosts (default: the broker's)")
    parser.add_argument("--skip-raw", action="store_true", help="no raw baseline (no ratio)")
    parser.add_argument("--outage-seconds", type=float, default=10.0,
                        help="how long the recovery phase's consumer database is down (default 10)")
    parser.add_argument("--skip-recovery", action="store_true", help="no recovery phase")
    parser.add_argument("--keep-logs", action="store_true", help="keep the service logs")
    args = parser.parse_args(argv)
    if args.events is None:
        args.events = 2000 if args.quick else 20000
    if args.latency_seconds is None:
        args.latency_seconds = 3.0 if args.quick else 10.0
    if args.events < 1 or args.batch < 1 or args.latency_rate < 1:
        parser.error("--events, --batch and --latency-rate must be positive")
    return args


def main(argv=None):
    args = parse_args(argv)
    with Setup(queue_version=args.queue_version, keep_logs=args.keep_logs) as setup:
        context(setup.banner("event"))
        vhost, amqp_uri = setup.vhost("flow")
        _, raw_uri = setup.vhost("raw")
        producer_db = setup.database("producer")
        consumer_db = setup.database("consumer", SUPPORT_MIGRATIONS)
        # The consumer first: its queue must exist before the relay publishes.
        setup.service("consumer", CONSUMER_TARGET, vhost, consumer_db, max_workers=args.consumer_workers)
        setup.service("producer", PRODUCER_TARGET, vhost, producer_db, OUTBOX_BATCH_SIZE=args.relay_batch)
        context(f"services up on vhost {vhost}: consumer max_workers {args.consumer_workers}, "
                f"relay batch {args.relay_batch}")
        producer_conn = setup.connect(producer_db)
        consumer_conn = setup.connect(consumer_db, autocommit=True)

        # Warm-up: connections, caches, the relay's broker channel.
        seq = 0
        if args.warmup:
            run_throughput_quiet(producer_conn, consumer_conn, seq, args.warmup, args.batch)
            seq += args.warmup

        raw = None
        if not args.skip_raw:
            raw = run_raw(raw_uri, args.events, args.raw_prefetch)

        meter = PipelineCpuMeter(setup, producer_db, consumer_db)
        e2e = run_throughput(setup, producer_conn, consumer_conn, amqp_uri, seq, args.events, args.batch, meter)
        seq += args.events

        p50, p99 = run_latency(setup, producer_conn, consumer_conn, amqp_uri, seq,
                               args.latency_rate, args.latency_seconds)

        recovery = None
        if not args.skip_recovery:
            recovery = run_recovery(setup, args.latency_rate, args.outage_seconds)

        harness.report_service_warnings(setup)
        context(f"targets: events_per_s >= 2000, ratio_to_raw >= 0.5, latency_p99_ms < 100 "
                f"at {args.latency_rate}/s")
        figure("events_per_s", f"{e2e:.0f}")
        if raw is not None:
            figure("raw_events_per_s", f"{raw:.0f}")
            figure("ratio_to_raw", f"{e2e / raw:.2f}")
        figure("latency_p50_ms", f"{p50:.1f}")
        figure("latency_p99_ms", f"{p99:.1f}")
        if recovery is not None:
            figure("recovery_seconds", f"{recovery:.2f}")
    return 0


def run_recovery(setup, rate, outage_seconds, before=5.0, after=5.0):
    """Seconds from the consumer database's return until the backlog has
    caught up (see the module's doc); None where no cluster can be made."""
    try:
        cluster = postgres_node.PostgresCluster().start()
    except postgres_node.ClusterUnavailable as exc:
        context(f"recovery: skipped, no PostgreSQL cluster of the bench's own ({exc})")
        return None
    try:
        vhost, amqp_uri = setup.vhost("recovery")
        producer_db = setup.database("rproducer")
        consumer_db = f"setiakawan_bench_rconsumer_{setup.run_id}"
        migrate.migrate(cluster.url, consumer_db, SUPPORT_MIGRATIONS)
        setup.service("consumer", CONSUMER_TARGET, vhost, consumer_db, DATABASE_URL=cluster.url)
        setup.service("producer", PRODUCER_TARGET, vhost, producer_db)
        producer_conn = setup.connect(producer_db)
        interval, seq, written_at_return = 1.0 / rate, 0, None
        stop_at, start_at, end_at = before, before + outage_seconds, before + outage_seconds + after
        stopped = returned = recovered = consumer_conn = None
        polled_at = 0.0

        def caught_up():
            return scalar(consumer_conn, "SELECT count(*) FROM applied WHERE seq < %s",
                          (written_at_return,)) >= written_at_return

        with producer_conn.cursor() as cur:
            began = time.monotonic()
            while (now := time.monotonic() - began) < end_at:
                if stopped is None and now >= stop_at:
                    cluster.stop()
                    stopped = time.monotonic()
                elif returned is None and now >= start_at:
                    cluster.start()
                    returned, written_at_return = time.monotonic(), seq
                    outage = returned - stopped
                    consumer_conn = setup.connect(consumer_db, autocommit=True, server_url=cluster.url)
                    continue
                if returned is not None and recovered is None and time.monotonic() - polled_at >= 0.02:
                    polled_at = time.monotonic()  # the writes go on meanwhile, at the same rate
                    if caught_up():
                        recovered = polled_at - returned
                wait = began + seq * interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                write_event(cur, seq)
                producer_conn.commit()
                seq += 1
        while recovered is None:
            if caught_up():
                recovered = time.monotonic() - returned
            elif time.monotonic() - returned > STALL_TIMEOUT * 2:
                raise BenchFailure("the consumer did not catch up after its database came back")
            else:
                time.sleep(0.02)
        wait_applied(consumer_conn, 0, seq)
        verify_exactly_once(setup, producer_conn, consumer_conn, amqp_uri, 0, seq, "recovery")
        context(f"recovery: {seq} events at {rate}/s, the consumer's database down {outage:.1f} s; "
                f"{written_at_return} committed before its return, caught up {recovered:.2f} s after")
        return recovered
    finally:
        for proc in [p for p in setup.services if p.config.get("DATABASE_URL") == cluster.url]:
            proc.stop()
        cluster.remove()


def run_throughput_quiet(producer_conn, consumer_conn, lo, n, batch):
    with producer_conn.cursor() as cur:
        for first in range(lo, lo + n, batch):
            for seq in range(first, min(first + batch, lo + n)):
                write_event(cur, seq, notify=(seq == first))
            producer_conn.commit()
    wait_applied(consumer_conn, lo, lo + n)


if __name__ == "__main__":
    harness.run_main(main)
