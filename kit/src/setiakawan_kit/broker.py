r"""Broker accounts: each service and each partner connects to RabbitMQ as a
user of its own, allowed exactly what it needs.

What a service needs is read off its class: the events it handles
(``@handles``), whether it serves RPC (``rpc.rpc``) and what it calls
(``rpc.RpcClient``). From that come RabbitMQ permissions (regular
expressions over exchange and queue names, per vhost) and topic
permissions (regular expressions over routing keys, per exchange):

* configure (declare, delete): only its own exchanges (``<service>.events``,
  ``<service>.retry``) and queues (``evt-…--<service>.<method>`` with their
  retry and dead-letter queues, ``rpc-<service>``, its RPC reply queues);
* write (publish, and bind a queue): its own exchanges and queues, and
  ``nameko-rpc`` if it serves or makes RPC calls, where topic permissions
  limit it to replies and to the methods it declared;
* read (consume, and bind to an exchange): its own queues, the events
  exchanges it consumes from, where topic permissions limit the routing
  keys it may bind to the event types it handles.

A partner ``P`` is the account ``partner-P`` (no service name holds a
``-``, so the two never meet); it may bind queues of its own
(``partner-P.…``) to the routing keys it was granted and publish nothing
under our exchanges.

Patterns end with ``\z``: in RabbitMQ's regular expressions ``$`` also
matches before a final newline. Our users carry the tag ``setiakawan``
(tags beyond RabbitMQ's own grant nothing), and a user without it is never
overwritten.

Accounts are made by importing a definitions document (users with salted
password hashes, permissions, topic permissions, exchanges), through the
management API or, where it is off, ``rabbitmqctl import_definitions``.
"""
import base64
import hashlib
import inspect
import json
import re
import secrets
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc
from setiakawan_contract.types import ANY

from . import topology
from .rpc import DEFAULT_EXCHANGE as RPC_EXCHANGE
from .rpc import RpcClient

SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
PARTNER_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PARTNER_PREFIX = "partner-"
EVENTS_EXCHANGE = re.compile(r"^[a-z][a-z0-9_]{0,39}\.events$")
ROUTING_KEY = re.compile(r"^[a-z0-9_*#]+(\.[a-z0-9_*#]+)*$")
USER_TAG = "setiakawan"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
END = r"\z"
NOTHING = "^" + END


class BrokerSetupError(RuntimeError):
    pass


@dataclass(frozen=True)
class Needs:
    """What a service does on the broker."""

    service: str
    consumes: frozenset = frozenset()  # {(source service, event type)}
    serves_rpc: bool = False
    calls: frozenset = frozenset()  # {(target service, method)}


def needs_of(service_cls, name=None):
    from .consumer import ReliableEventHandler

    name = name or service_cls.name
    consumes, serves, calls = set(), False, set()
    for _, member in inspect.getmembers(service_cls):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, ReliableEventHandler):
                consumes.add((entrypoint.source_service, entrypoint.event_type))
            elif isinstance(entrypoint, Rpc):
                serves = True
        if isinstance(member, RpcClient):
            calls.update((member.target_service, method) for method in member.methods)
    return Needs(name, frozenset(consumes), serves, frozenset(calls))


@dataclass(frozen=True)
class TopicGrant:
    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class Grant:
    """One broker user's permissions on one vhost."""

    user: str
    configure: str
    write: str
    read: str
    topics: tuple = ()


def _any_of(patterns):
    patterns = sorted(set(patterns))
    return "^(" + "|".join(patterns) + ")" + END if patterns else NOTHING


def _keys(keys):
    return _any_of(re.escape(k) for k in keys)


def service_grant(needs, user, rpc_exchange=RPC_EXCHANGE):
    service = needs.service
    if not SERVICE_NAME.match(service) or service == ANY:
        raise BrokerSetupError(f"{service!r} is not a service name (lower-case letters, digits, _; not {ANY!r})")
    s = re.escape(service)
    own_queues = rf"evt-[a-z0-9_-]+-[a-z0-9_.]+--{s}\.[A-Za-z0-9_]+(\.retry\.[0-9]+ms|\.dead)?"
    own = [re.escape(topology.exchange_name(service)), re.escape(topology.retry_exchange_name(service)),
           own_queues]
    if needs.serves_rpc:
        own.append(rf"rpc-{s}")
    if needs.calls:
        own.append(rf"rpc\.reply-{s}-{UUID}")
    uses_rpc = needs.serves_rpc or bool(needs.calls)
    rpc = [re.escape(rpc_exchange)] if uses_rpc else []
    sources = {source for source, _ in needs.consumes}
    read = own + rpc + [re.escape(topology.exchange_name(source)) for source in sources]
    topics = [TopicGrant(topology.exchange_name(source), write=".*" if source == service else NOTHING,
                         read=_keys(t for s_, t in needs.consumes if s_ == source))
              for source in sorted(sources)]
    if service not in sources:
        topics.append(TopicGrant(topology.exchange_name(service), write=".*", read=NOTHING))
    # <service>.retry is a topic exchange only so that this can hold: its routing keys are the
    # service's own queues, so it cannot be bound to another exchange (nameko-rpc) as a way round
    # that exchange's topic permissions
    topics.append(TopicGrant(topology.retry_exchange_name(service), write=_any_of([own_queues]),
                             read=_any_of([own_queues])))
    if uses_rpc:
        topics.append(TopicGrant(
            rpc_exchange,
            write=_any_of(([UUID] if needs.serves_rpc else [])
                          + [re.escape(f"{target}.{method}") for target, method in needs.calls]),
            read=_any_of(([re.escape(f"{service}.*")] if needs.serves_rpc else [])
                         + ([UUID] if needs.calls else []))))
    return Grant(user, configure=_any_of(own), write=_any_of(own + rpc), read=_any_of(read),
                 topics=tuple(topics))


def partner_account(name):
    """The account (and resource) name of partner ``name``: ``partner-<name>``."""
    if not isinstance(name, str) or not PARTNER_NAME.match(name) or len(name) > 40:
        raise BrokerSetupError(f"{name!r} cannot name a partner: use up to 40 lower-case letters and digits, "
                               "words joined by '-'")
    return PARTNER_PREFIX + name


def parse_reads(spec):
    """``registry.events:household.verified,registry.events:member.added``
    → {"registry.events": ("household.verified", "member.added")}."""
    reads = {}
    for item in (i.strip() for i in (spec or "").split(",")):
        if not item:
            continue
        exchange, sep, key = item.partition(":")
        if not sep or not EVENTS_EXCHANGE.match(exchange) or not ROUTING_KEY.match(key):
            raise BrokerSetupError(f"{item!r} is not EXCHANGE:ROUTING_KEY (like registry.events:household.verified)")
        reads.setdefault(exchange, [])
        if key not in reads[exchange]:
            reads[exchange].append(key)
    if not reads:
        raise BrokerSetupError("name at least one EXCHANGE:ROUTING_KEY to read")
    return {exchange: tuple(keys) for exchange, keys in reads.items()}


def partner_grant(name, user, reads, publishes=False):
    """Queues ``partner-<name>.…`` (and, with ``publishes``, the events
    exchange ``partner-<name>.events``) of its own; binding only the
    granted routing keys of our exchanges."""
    account = re.escape(partner_account(name))
    own = rf"{account}\..*" if publishes else rf"{account}\.(?!events{END}).*"
    topics = tuple(TopicGrant(exchange, write=NOTHING, read=_keys(keys)) for exchange, keys in sorted(reads.items()))
    if publishes:
        topics += (TopicGrant(topology.exchange_name(partner_account(name)), write=".*", read=NOTHING),)
    return Grant(user, configure=_any_of([own]), write=_any_of([own]),
                 read=_any_of([own, *(re.escape(e) for e in reads)]), topics=topics)


def exchanges_for(needs_list, rpc_exchange=RPC_EXCHANGE):
    """The exchanges that must exist before the services start (a consumer
    only declares others' exchanges passively)."""
    names = {topology.ANY_EXCHANGE}
    for needs in needs_list:
        names.add(topology.exchange_name(needs.service))
        names.update(topology.exchange_name(source) for source, _ in needs.consumes)
        if needs.serves_rpc or needs.calls:
            names.add(rpc_exchange)
    return sorted(names)


def any_source_bindings(publishers):
    """(source exchange, ``any.events``, routing key) for each event type of
    ``ANY`` source and each publisher (a service, or a partner's account):
    how a diagnostic ping from anyone reaches everyone."""
    from setiakawan_contract import event_types

    keys = sorted({t.name for t in event_types if t.source_service == ANY})
    return [(topology.exchange_name(p), topology.ANY_EXCHANGE, key) for p in sorted(set(publishers)) for key in keys]


# -- definitions --------------------------------------------------------------------
def password_hash(password):
    """RabbitMQ's ``rabbit_password_hashing_sha256``: a 4-byte salt, then
    SHA-256 of salt and password, base64."""
    salt = secrets.token_bytes(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def new_password():
    return secrets.token_urlsafe(24)


@dataclass
class Definitions:
    """A RabbitMQ definitions document being put together."""

    vhost: str
    users: dict = field(default_factory=dict)  # name -> password
    grants: list = field(default_factory=list)
    exchanges: list = field(default_factory=list)  # (name, type)
    bindings: list = field(default_factory=list)  # (source exchange, destination exchange, routing key)
    new_vhost: bool = False

    def document(self):
        doc = {
            "users": [{"name": name, "password_hash": password_hash(password),
                       "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": [USER_TAG]}
                      for name, password in self.users.items()],
            "permissions": [{"user": g.user, "vhost": self.vhost, "configure": g.configure, "write": g.write,
                             "read": g.read} for g in self.grants],
            "topic_permissions": [{"user": g.user, "vhost": self.vhost, "exchange": t.exchange, "write": t.write,
                                   "read": t.read} for g in self.grants for t in g.topics],
            "exchanges": [{"name": name, "vhost": self.vhost, "type": kind, "durable": True, "auto_delete": False,
                           "internal": False, "arguments": {}} for name, kind in self.exchanges],
            "bindings": [{"source": source, "vhost": self.vhost, "destination": destination,
                          "destination_type": "exchange", "routing_key": key, "arguments": {}}
                         for source, destination, key in self.bindings],
        }
        if self.new_vhost:
            doc["vhosts"] = [{"name": self.vhost}]
        return doc


class BrokerAdmin:
    """Administers a RabbitMQ node through its management API or, where the
    plugin is off, ``rabbitmqctl`` on this machine."""

    def __init__(self, management_url, user, password, ctl=("rabbitmqctl",)):
        self.management_url = management_url.rstrip("/")
        self.user = user
        self.password = password
        self.ctl = list(ctl)
        self._api_up = None

    @classmethod
    def for_amqp_uri(cls, amqp_uri, management_url=None):
        """An admin acting as the account in ``amqp_uri`` (which must be a
        RabbitMQ administrator), on the management API of the same host."""
        parts = urllib.parse.urlsplit(amqp_uri)
        url = management_url or f"http://{parts.hostname or '127.0.0.1'}:15672"
        return cls(url, urllib.parse.unquote(parts.username or "guest"),
                   urllib.parse.unquote(parts.password or "guest"))

    # -- the management API, or rabbitmqctl ----------------------------------------
    def api_available(self):
        if self._api_up is None:
            try:
                self._api("GET", "overview")
                self._api_up = True
            except urllib.error.HTTPError as exc:
                raise BrokerSetupError(f"the management API refused {self.user!r}: {exc.code} {exc.reason} "
                                       "(the admin account must be a RabbitMQ administrator)") from None
            except OSError:
                if not shutil.which(self.ctl[0]):
                    raise BrokerSetupError(
                        f"neither the RabbitMQ management API at {self.management_url} nor {self.ctl[0]} is "
                        "available: enable the plugin (rabbitmq-plugins enable rabbitmq_management) or run "
                        "this on the broker's host") from None
                self._api_up = False
        return self._api_up

    def _api(self, method, path, body=None, headers=None):
        auth = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            f"{self.management_url}/api/{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"content-type": "application/json", "authorization": f"Basic {auth}", **(headers or {})})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def _rabbitmqctl(self, *args, check=True, input=None):
        result = subprocess.run([*self.ctl, *args], capture_output=True, text=True, timeout=120, input=input)
        if check and result.returncode != 0:
            raise BrokerSetupError(f"{' '.join([*self.ctl, args[0]])} failed: "
                                   f"{(result.stderr or result.stdout).strip()[-500:]}")
        return result

    # -- what the tools and tests do ------------------------------------------------
    def apply(self, definitions):
        document = definitions.document()
        if self.api_available():
            if definitions.new_vhost:  # before its permissions: the API wants it to exist
                self._api("PUT", f"vhosts/{_q(definitions.vhost)}", {})
            self._api("POST", "definitions", document)
            return
        # on standard input (no path: RabbitMQ 3.10 takes "-" for a file name): the document holds
        # password hashes, which no file should
        self._rabbitmqctl("import_definitions", "--format", "json", input=json.dumps(document))

    def delete_users(self, names):
        """Delete these users (those that exist); their connections close."""
        for name in names:
            if self.api_available():
                try:
                    self._api("DELETE", f"users/{_q(name)}")
                except urllib.error.HTTPError as exc:
                    if exc.code != 404:
                        raise BrokerSetupError(f"could not delete broker user {name}: {exc.code} {exc.reason}") \
                            from None
            else:
                self._rabbitmqctl("delete_user", name, check=False)

    def user_tags(self, names):
        """{name: tags} of those of ``names`` that exist."""
        if self.api_available():
            users = json.loads(self._api("GET", "users"))
            found = {u["name"]: _tags(u.get("tags")) for u in users}
        else:
            result = self._rabbitmqctl("list_users", "--silent")
            found = {}
            for line in result.stdout.splitlines():
                name, _, tags = line.partition("\t")
                found[name] = _tags(tags.strip("[] ").replace(" ", ""))
        return {name: found[name] for name in names if name in found}

    def refuse_foreign_users(self, names):
        """Refuse to touch a user this tool did not make (``guest``, another
        deployment's service): a definitions import would replace its
        password, tags and permissions."""
        foreign = sorted(name for name, tags in self.user_tags(names).items() if USER_TAG not in tags)
        if foreign:
            raise BrokerSetupError(f"the broker user(s) {', '.join(foreign)} exist and were not made by setiakawan: "
                                   "choose another name or SETIAKAWAN_BROKER_USER_PREFIX")

    def delete_queues(self, vhost, prefix):
        """Delete the queues of ``vhost`` whose names begin with ``prefix``."""
        if self.api_available():
            queues = [q["name"] for q in json.loads(self._api("GET", f"queues/{_q(vhost)}?columns=name"))]
        else:
            result = self._rabbitmqctl("list_queues", "--silent", "-p", vhost, "name")
            queues = [line.strip() for line in result.stdout.splitlines()]
        for name in (q for q in queues if q.startswith(prefix)):
            if self.api_available():
                try:
                    self._api("DELETE", f"queues/{_q(vhost)}/{_q(name)}")
                except urllib.error.HTTPError as exc:
                    if exc.code != 404:
                        raise
            else:
                self._rabbitmqctl("delete_queue", "-p", vhost, name, check=False)

    def queues(self, vhost):
        """Every queue of ``vhost``: {name, ready, unacked, consumers}, by name."""
        if self.api_available():
            found = json.loads(self._api(
                "GET", f"queues/{_q(vhost)}?columns=name,messages_ready,messages_unacknowledged,consumers"))
            rows = [(q["name"], q.get("messages_ready"), q.get("messages_unacknowledged"), q.get("consumers"))
                    for q in found]
        else:
            result = self._rabbitmqctl("list_queues", "--silent", "-p", vhost, "name", "messages_ready",
                                       "messages_unacknowledged", "consumers", "--formatter", "json")
            rows = [(q["name"], q.get("messages_ready"), q.get("messages_unacknowledged"), q.get("consumers"))
                    for q in json.loads(result.stdout or "[]")]
        return sorted(({"name": name, "ready": int(ready or 0), "unacked": int(unacked or 0),
                        "consumers": int(consumers or 0)} for name, ready, unacked, consumers in rows),
                      key=lambda q: q["name"])

    def user_exists(self, name):
        if self.api_available():
            try:
                self._api("GET", f"users/{_q(name)}")
                return True
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return False
                raise
        result = self._rabbitmqctl("list_users", "--silent", check=False)
        return any(line.split("\t")[0] == name for line in result.stdout.splitlines())

    def connection_users(self, vhost):
        """The users of the connections open on ``vhost``."""
        if self.api_available():
            return [c["user"] for c in json.loads(self._api("GET", f"vhosts/{_q(vhost)}/connections"))]
        result = self._rabbitmqctl("list_connections", "--silent", "vhost", "user")
        rows = (line.split("\t") for line in result.stdout.splitlines())
        return [row[1] for row in rows if len(row) == 2 and row[0] == vhost]

    def close_connections(self, vhost, reason):
        """Close every client connection on ``vhost``, telling them ``reason``."""
        if not self.api_available():
            self._rabbitmqctl("close_all_connections", "-p", vhost, reason)
            return
        for connection in json.loads(self._api("GET", f"vhosts/{_q(vhost)}/connections")):
            try:
                self._api("DELETE", f"connections/{_q(connection['name'])}", headers={"X-Reason": reason})
            except urllib.error.HTTPError as exc:
                if exc.code != 404:  # closed meanwhile
                    raise

    def add_vhost(self, name, admin_user=None):
        """A vhost where ``admin_user`` (default: ours) may do everything."""
        user = admin_user or self.user
        definitions = Definitions(name, new_vhost=True,
                                  grants=[Grant(user, ".*", ".*", ".*")])
        self.apply(definitions)

    def delete_vhost(self, name):
        if self.api_available():
            try:
                self._api("DELETE", f"vhosts/{_q(name)}")
            except urllib.error.HTTPError:
                pass
            return
        self._rabbitmqctl("delete_vhost", name, check=False)


def _q(name):
    return urllib.parse.quote(name, safe="")


def _tags(value):
    if isinstance(value, list):
        return set(value)
    return {t for t in (value or "").split(",") if t}


def amqp_uri_for(base_uri, user, password):
    """``base_uri`` (host, port, vhost, options) logged in as ``user``."""
    parts = urllib.parse.urlsplit(base_uri)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    netloc = f"{_q(user)}:{_q(password)}@{host}:{parts.port or 5672}"
    return urllib.parse.urlunsplit((parts.scheme or "pyamqp", netloc, parts.path or "/", parts.query, ""))


def vhost_of(amqp_uri):
    path = urllib.parse.urlsplit(amqp_uri).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"
