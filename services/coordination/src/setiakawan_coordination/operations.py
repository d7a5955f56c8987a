"""Use cases of the operations page (admins): each service's health and
outbox backlog, read from its public /health and /metrics; and, where the
console is given an operator's broker account, the queues per service,
the dead-lettered messages and their replay after a fix."""
import urllib.error
import urllib.request
from dataclasses import asdict
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from setiakawan_kit import broker, operate
from setiakawan_kit.auth import require_role
from setiakawan_kit.errors import RuleBroken

DEAD_LETTERS_SHOWN = 20


class Broker:
    """The operator's broker account the page acts with (None: not given)."""

    def __init__(self, amqp_uri, management_url):
        self.amqp_uri = amqp_uri or None
        self.management_url = management_url or None


def platform(identity, services, operator):
    require_role(identity, "admin")
    lines = [_service(name, url) for name, url in services.items()]
    queues, problem = [], None
    if operator.amqp_uri is None:
        problem = "not-configured"
    else:
        try:
            admin = broker.BrokerAdmin.for_amqp_uri(operator.amqp_uri, operator.management_url)
            rows = admin.queues(broker.vhost_of(operator.amqp_uri))
            queues = operate.group_queues(operate.with_live_counts(operator.amqp_uri, rows))
        except Exception as exc:  # noqa: BLE001 - the page says why the broker's figures are missing
            problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    dead = []
    for group in queues:
        for handler in group.handlers:
            if handler.dead:
                letters = operate.peek_dead_letters(operator.amqp_uri, handler.dead_queue, DEAD_LETTERS_SHOWN)
                dead.append({"queue": handler.dead_queue, "service": handler.service, "messages": handler.dead,
                             "letters": [asdict(letter) for letter in letters]})
    return {"services": lines,
            "queues": [{"service": g.service, "handlers": len(g.handlers), "ready": g.total("ready"),
                        "unacked": g.total("unacked"), "consumers": sum(h.consumers for h in g.handlers),
                        "retrying": g.total("retrying"), "dead": g.total("dead")} for g in queues],
            "queues_problem": problem, "dead": dead}


def replay(identity, operator, dead_queue, event_id=None):
    """Dead-lettered messages of ``dead_queue`` back to their handler: one, or all."""
    require_role(identity, "admin")
    if operator.amqp_uri is None:
        raise RuleBroken("The console has no operator's broker account (CONSOLE_OPERATOR_AMQP_URI).")
    if not dead_queue.endswith(operate.DEAD_SUFFIX):
        raise RuleBroken(f"{dead_queue} is not a dead-letter queue.", field="queue")
    try:
        replayed = operate.replay_dead_letters(operator.amqp_uri, dead_queue, [event_id] if event_id else None)
    except operate.OperateError as exc:
        raise RuleBroken(str(exc), field="queue") from None
    return len(replayed)


def _service(name, url):
    address = urlsplit(url).netloc
    status, document = operate.health(address)
    return {"service": name, "url": url, "status": status,
            "database": document.get("database"), "broker": document.get("broker"),
            "error": document.get("error"), "outbox_backlog": _backlog(url, name)}


def _backlog(url, name):
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/metrics", timeout=3) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError, ValueError):
        return None
    for family in text_string_to_metric_families(text):
        if family.name == "setiakawan_outbox_backlog":
            for sample in family.samples:
                if sample.labels.get("service") == name:
                    return int(sample.value)
    return None
