"""What an operator looks at and does on a running platform: queue depths
per service, dead-lettered messages (listed, and replayed after a fix),
outbox backlogs, and the health of each service. The commands of
``setiakawan`` (``cli_platform.py``) print what these return."""
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone

import kombu
import kombu.exceptions
import psycopg2
import psycopg2.extras

from . import topology
from .db import database_dsn

#: evt-<source>-<type>--<service>.<handler>[.retry.<ms>ms|.dead]
_HANDLER_QUEUE = re.compile(r"^(?P<queue>evt-.+--(?P<service>[a-z0-9_-]+)\.[A-Za-z0-9_]+)"
                            r"(?P<kind>\.retry\.\d+ms|\.dead)?$")
DEAD_SUFFIX = ".dead"
#: headers the consumer adds when it gives up on a message; a replay starts it afresh without them
_FAILURE_HEADERS = (topology.ERROR_HEADER, topology.ATTEMPT_HEADER, topology.DEAD_AT_HEADER,
                    topology.FAILED_QUEUE_HEADER)
REPLAYED_AT_HEADER = "x-setiakawan-replayed-at"


class OperateError(RuntimeError):
    pass


@dataclass
class HandlerQueues:
    """A handler's queue with its retry queues and dead-letter queue."""

    name: str
    service: str
    ready: int = 0
    unacked: int = 0
    consumers: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def dead_queue(self):
        return self.name + DEAD_SUFFIX


@dataclass
class ServiceQueues:
    service: str
    handlers: list = field(default_factory=list)
    other: list = field(default_factory=list)  # queues not made by @handles (RPC, a partner's own)

    def total(self, attribute):
        return sum(getattr(h, attribute) for h in self.handlers)


def service_of_queue(name):
    """The consuming service a queue belongs to: ``distribution`` for
    ``evt-registry-household.verified--distribution.households(.dead)``,
    ``registry`` for ``rpc-registry``, ``partner-x`` for ``partner-x.…``."""
    match = _HANDLER_QUEUE.match(name)
    if match:
        return match["service"]
    if name.startswith("rpc-"):
        return name[len("rpc-"):]
    if name.startswith("partner-"):
        return name.split(".", 1)[0]
    return None


def handler_queue_of(dead_queue):
    """The handler's queue a ``.dead`` queue belongs to."""
    match = _HANDLER_QUEUE.match(dead_queue)
    if not match or match["kind"] != DEAD_SUFFIX:
        raise OperateError(f"{dead_queue!r} is not a dead-letter queue (evt-<source>-<type>--<service>.<handler>.dead)")
    return match["queue"], match["service"]


def with_live_counts(amqp_uri, rows):
    """``rows`` with ready messages and consumers as the broker counts them
    now (a passive declare each): the management API's figures are
    statistics, refreshed every few seconds. Unacknowledged messages are
    only in those statistics."""
    live = []
    with kombu.Connection(amqp_uri, connect_timeout=10) as conn:
        channel = conn.channel()
        for row in rows:
            try:
                declared = channel.queue_declare(queue=row["name"], passive=True)
            except Exception as exc:  # noqa: BLE001 - deleted meanwhile (404: the broker closed the channel)
                if getattr(exc, "code", None) != 404:
                    raise
                channel = conn.channel()
                continue
            live.append(dict(row, ready=declared.message_count, consumers=declared.consumer_count))
    return live


def group_queues(rows):
    """Broker queue rows ({name, ready, unacked, consumers}) grouped by the
    service that consumes them, each handler's retry and dead-letter queues
    added up beside it."""
    services = {}
    handlers = {}

    def of(service):
        return services.setdefault(service, ServiceQueues(service))

    for row in rows:
        match = _HANDLER_QUEUE.match(row["name"])
        if not match:
            owner = service_of_queue(row["name"])
            if owner and not row["name"].startswith("rpc.reply-"):
                of(owner).other.append(row)
            continue
        handler = handlers.get(match["queue"])
        if handler is None:
            handler = handlers[match["queue"]] = HandlerQueues(match["queue"], match["service"])
            of(match["service"]).handlers.append(handler)
        messages = row["ready"] + row["unacked"]
        if match["kind"] == DEAD_SUFFIX:
            handler.dead = messages
        elif match["kind"]:
            handler.retrying += messages
        else:
            handler.ready, handler.unacked, handler.consumers = row["ready"], row["unacked"], row["consumers"]
    return [services[name] for name in sorted(services)]


@dataclass(frozen=True)
class DeadLetter:
    position: int
    event_id: str
    event_type: str
    source: str
    subject: str
    dead_at: str
    attempts: object
    error: str
    size: int


def _describe(position, message):
    headers = message.headers or {}
    return DeadLetter(
        position=position, event_id=_text(headers.get("ce-id")), event_type=_text(headers.get("ce-type")),
        source=_text(headers.get("ce-source")), subject=_text(headers.get("ce-subject")),
        dead_at=_text(headers.get(topology.DEAD_AT_HEADER)), attempts=headers.get(topology.ATTEMPT_HEADER),
        error=_text(headers.get(topology.ERROR_HEADER)), size=len(message.body or b""))


def _text(value):
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def peek_dead_letters(amqp_uri, dead_queue, limit=None):
    """The messages of ``dead_queue``, oldest first, without taking them:
    each is fetched unacknowledged and goes back when the channel closes."""
    handler_queue_of(dead_queue)
    found = []
    with kombu.Connection(amqp_uri, connect_timeout=10) as conn:
        channel = conn.channel()
        try:
            if queue_length(conn.channel(), dead_queue) is None:
                raise OperateError(f"no queue {dead_queue}")
            queue = _passive(dead_queue)(channel)
            while limit is None or len(found) < limit:
                message = queue.get(no_ack=False, accept=_ANY_CONTENT)
                if message is None:
                    break
                found.append(_describe(len(found) + 1, message))
        finally:
            _close(channel)
    return found


def replay_dead_letters(amqp_uri, dead_queue, event_ids=None, progress=None):
    """Send the messages of ``dead_queue`` (those whose ``ce-id`` is in
    ``event_ids``, or all) back to their handler's queue, through the
    consuming service's retry exchange, each confirmed by the broker before
    it leaves the dead-letter queue; the handler gets its full attempts
    again. The others stay where they were, and a message that fails again
    meanwhile waits for the next replay (only those there at the start are
    taken). Returns the replayed DeadLetters; ``progress(n)`` is called as
    each is replayed."""
    handler_queue, service = handler_queue_of(dead_queue)
    wanted = set(event_ids) if event_ids is not None else None
    replayed = []
    now = datetime.now(timezone.utc).isoformat()
    with kombu.Connection(amqp_uri, connect_timeout=10, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        try:
            waiting = queue_length(conn.channel(), dead_queue)
            if waiting is None:
                raise OperateError(f"no queue {dead_queue}")
            if queue_length(conn.channel(), handler_queue) is None:
                raise OperateError(f"the handler's queue {handler_queue} does not exist: start its service first")
            queue = _passive(dead_queue)(channel)
            producer = kombu.Producer(conn.channel())
            for position in range(1, (waiting or 0) + 1):
                message = queue.get(no_ack=False, accept=_ANY_CONTENT)
                if message is None:
                    break
                letter = _describe(position, message)
                if wanted is not None and letter.event_id not in wanted:
                    continue  # left unacknowledged: it goes back when the channel closes
                headers = {k: v for k, v in (message.headers or {}).items() if k not in _FAILURE_HEADERS}
                headers[REPLAYED_AT_HEADER] = now
                producer.publish(message.body, exchange=topology.retry_exchange_name(service),
                                 routing_key=handler_queue, headers=headers,
                                 content_type=message.content_type,
                                 content_encoding=message.content_encoding or "utf-8", delivery_mode=2)
                message.ack()
                replayed.append(letter)
                if progress:
                    progress(1)
                if wanted is not None and len(replayed) == len(wanted):
                    break
        finally:
            _close(channel)
    return replayed


def peek_count(amqp_uri, queue):
    """Messages ready in ``queue`` now."""
    with kombu.Connection(amqp_uri, connect_timeout=10) as conn:
        count = queue_length(conn.channel(), queue)
    if count is None:
        raise OperateError(f"no queue {queue}")
    return count


def queue_length(channel, name):
    """Messages ready in queue ``name``, or None if it does not exist (the
    broker closes the channel then: pass one of its own)."""
    try:
        return channel.queue_declare(queue=name, passive=True).message_count
    except kombu.exceptions.ChannelError:
        return None
    except Exception as exc:  # noqa: BLE001 - amqp's NotFound (404)
        if getattr(exc, "code", None) == 404:
            return None
        raise


_ANY_CONTENT = ["application/json", "text/plain", "application/octet-stream", "application/data"]


def _passive(name):
    return kombu.Queue(name, no_declare=True)


def _close(channel):
    try:
        channel.close()
    except Exception:  # noqa: BLE001 - the connection's close puts unacknowledged messages back too
        pass


@dataclass(frozen=True)
class Backlog:
    service: str
    database: str
    unsent: int = None
    oldest_s: float = None
    failing: int = None
    last_error: str = None
    problem: str = None


def outbox_backlog(database_url, service, database):
    """Events a service has committed and its relay has not yet published."""
    try:
        conn = psycopg2.connect(database_dsn(database_url, database), connect_timeout=5)
    except psycopg2.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        if "does not exist" in reason:
            reason = f"no database {database} (setiakawan migrate makes it)"
        return Backlog(service, database, problem=reason)
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT to_regclass('kit_outbox') IS NOT NULL AS present")
            if not cur.fetchone()["present"]:
                return Backlog(service, database, problem="not migrated (no kit_outbox)")
            cur.execute("""
                SELECT count(*) AS unsent,
                       extract(epoch FROM clock_timestamp() - min(created_at)) AS oldest_s,
                       count(*) FILTER (WHERE attempts > 0) AS failing,
                       (array_agg(last_error ORDER BY id DESC) FILTER (WHERE last_error IS NOT NULL))[1]
                           AS last_error
                  FROM kit_outbox WHERE sent_at IS NULL""")
            row = cur.fetchone()
    finally:
        conn.close()
    return Backlog(service, database, unsent=row["unsent"],
                   oldest_s=float(row["oldest_s"]) if row["oldest_s"] is not None else None,
                   failing=row["failing"], last_error=row["last_error"])


def health(address, timeout=3):
    """(status, the service's /health document or the reason it gave none)."""
    try:
        with urllib.request.urlopen(f"http://{address}/health", timeout=timeout) as response:
            return "ok", json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503: up, but a dependency is not
        try:
            document = json.loads(exc.read())
        except ValueError:
            document = {}
        return document.get("status") or f"HTTP {exc.code}", document
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return "unreachable", {"error": str(reason)}
