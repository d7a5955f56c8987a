"""RPC between services, on nameko's protocol (exchange ``nameko-rpc``,
routing key ``<service>.<method>``), where the answer must be live.

A caller is known by its broker account: RabbitMQ checks that a message's
``user_id`` property names the account that published it, so the callee
can trust it. ``@rpc(callers=...)`` serves a method only to the services
(or partners) named, or to those its service's ``RPC_CALLERS`` setting
lists for the method; the method receives the caller's name first::

    @rpc(callers=("notifications",))
    def contact_details(self, caller, person_ref): ...

A calling service declares what it calls, which is also what its broker
account is allowed to publish (``broker.needs_of``)::

    registry = RpcClient("registry", methods=("contact_details",))

A method that also takes a list and answers a list can be ``coalesce``d:
``RpcClient("registry", methods=("nik_belongs_to",), coalesce={"nik_belongs_to": 100})``
and ``self.registry.coalesced("nik_belongs_to", item)`` sends the items of
the calls the process's workers make meanwhile in one call (while the
process is busy, a call waits up to ``linger`` seconds for company:
``coalesce.Coalescer``).

A call that gets no answer within ``RPC_TIMEOUT`` seconds (default 10),
finds no service listening, or meets an outage in the callee (its database
down: the callee answers ``DependencyUnavailable``) raises
``outages.DependencyUnavailable``: an outage, answered 503 over HTTP and
never counted against an event.

Replies carry the answering account's ``user_id`` too, and a client takes
only replies from the service it called. A request the callee cannot
answer (no reply address, or one its account may not publish to) is
dropped with a warning: nameko would otherwise stop the whole service on
the failed reply, and again on every redelivery.
"""
import logging
import re
import urllib.parse
import uuid

import eventlet
import kombu.exceptions
import kombu.serialization
from kombu import Exchange, Queue
from nameko.amqp.publish import Publisher
from nameko.constants import DEFAULT_SERIALIZER, RPC_EXCHANGE_CONFIG_KEY, SERIALIZER_CONFIG_KEY
from nameko.exceptions import (MalformedRequest, RemoteError, UnknownService, UnserializableValueError,
                               serialize)
from nameko.rpc import (RPC_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TTL, Rpc, RpcConsumer,
                        RpcProxy, ReplyListener, ServiceProxy)

from . import outages
from .coalesce import Coalescer
from .consumer import ReconnectingQueueConsumer

log = logging.getLogger(__name__)

DEFAULT_EXCHANGE = "nameko-rpc"
DEFAULT_TIMEOUT_S = 10
#: how long a busy process's coalesced call waits for others to go with it: a few ms on a request that
#: takes tens under load (in the delivery bench, 4.1 NIK checks a registry call instead of 2.9)
COALESCE_LINGER_S = 0.005
REPLY_ADDRESS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class CallerRefused(Exception):
    """An RPC from a caller that may not make it."""


def rpc_exchange_name(config):
    return config.get(RPC_EXCHANGE_CONFIG_KEY) or DEFAULT_EXCHANGE


def _rpc_exchange(config):
    # passive: the exchange is made by `setiakawan broker setup`, and
    # declaring it for real needs a permission that also allows deleting it
    return Exchange(rpc_exchange_name(config), type="topic", durable=True, passive=True)


def broker_user(amqp_uri):
    return urllib.parse.unquote(urllib.parse.urlsplit(amqp_uri).username or "guest")


def caller_name(user_id, prefix):
    """The service or partner behind a broker account (``<prefix><name>``)."""
    if not user_id or not user_id.startswith(prefix):
        return None
    return user_id[len(prefix):] or None


class KitRpcConsumer(RpcConsumer):
    queue_consumer = ReconnectingQueueConsumer()

    def setup(self):
        if self.queue is None:
            name = self.container.service_name
            self.queue = Queue(RPC_QUEUE_TEMPLATE.format(name), exchange=_rpc_exchange(self.container.config),
                               routing_key=f"{name}.*", durable=True)
            self.queue_consumer.register_provider(self)
            self._registered = True

    def handle_message(self, body, message):
        reply_to = message.properties.get("reply_to")
        if not isinstance(reply_to, str) or not REPLY_ADDRESS.fullmatch(reply_to) \
                or not message.properties.get("correlation_id"):
            log.warning("dropped an RPC request to %s without a usable reply address (from %r)",
                        message.delivery_info.get("routing_key"), message.properties.get("user_id"))
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)

    def handle_result(self, message, result, exc_info):
        """Reply as this service's account; a reply the broker refuses is
        logged, and the request acked all the same."""
        config = self.container.config
        error = None
        if exc_info is not None:
            dependency = outages.dependency_of(exc_info[1])
            # the caller learns it met an outage here, not which driver said so
            error = serialize(outages.DependencyUnavailable(f"{self.container.service_name}'s {dependency}")
                              if dependency else exc_info[1])
        serializer = kombu.serialization.registry.type_to_name.get(
            message.properties.get("content_type"), config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER))
        try:
            kombu.serialization.dumps(result, serializer)
        except Exception:  # noqa: BLE001 - as nameko's Responder: never die on a bad result
            error, result = serialize(UnserializableValueError(result)), None
        try:
            # unconfirmed and transient: a reply lost on the way is the same to the caller as one never sent
            # (it times out), and the reply address was checked above, so the broker has nothing to refuse;
            # a confirm would cost the callee a round trip per call and tell it nothing it could act on
            Publisher(config["AMQP_URI"], use_confirms=False, delivery_mode=1).publish(
                {"result": result, "error": error}, serializer=serializer, exchange=_rpc_exchange(config),
                routing_key=message.properties["reply_to"],
                correlation_id=message.properties.get("correlation_id"),
                user_id=broker_user(config["AMQP_URI"]))
        except Exception as exc:  # noqa: BLE001 - one bad request must not stop the service
            log.warning("could not reply to an RPC request to %s: %s", message.delivery_info.get("routing_key"),
                        exc)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class CallerCheckedRpc(Rpc):
    rpc_consumer = KitRpcConsumer()

    def __init__(self, callers=(), **kwargs):
        self.callers = tuple(callers)
        super().__init__(**kwargs)

    def setup(self):
        super().setup()
        config = self.container.config
        configured = (config.get("RPC_CALLERS") or {}).get(self.method_name)
        self.allowed = frozenset(self.callers if configured is None else configured)
        self.prefix = config.get("BROKER_USER_PREFIX") or ""

    def handle_message(self, body, message):
        caller = caller_name(message.properties.get("user_id"), self.prefix)
        if caller not in self.allowed:
            log.warning("refused RPC %s.%s from broker account %r", self.container.service_name,
                        self.method_name, message.properties.get("user_id"))
            raise CallerRefused(f"{caller or 'an unnamed caller'} may not call "
                                f"{self.container.service_name}.{self.method_name}")
        if not isinstance(body, dict) or not isinstance(body.get("args"), list) \
                or not isinstance(body.get("kwargs"), dict) or "caller" in body["kwargs"]:
            raise MalformedRequest("an RPC request is {args: [...], kwargs: {...}}, and the caller is not an argument")
        super().handle_message(dict(body, args=[caller, *body["args"]]), message)


rpc = CallerCheckedRpc.decorator


class KitReplyListener(ReplyListener):
    queue_consumer = ReconnectingQueueConsumer()

    def setup(self):
        self.routing_key = str(uuid.uuid4())
        self.queue = Queue(RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, self.routing_key),
                           exchange=_rpc_exchange(self.container.config), routing_key=self.routing_key,
                           queue_arguments={"x-expires": RPC_REPLY_QUEUE_TTL})
        self.prefix = self.container.config.get("BROKER_USER_PREFIX") or ""
        self._expected = {}
        self.queue_consumer.register_provider(self)

    def get_reply_event(self, correlation_id, target=None):
        self._expected[correlation_id] = target
        return super().get_reply_event(correlation_id)

    def handle_message(self, body, message):
        correlation_id = message.properties.get("correlation_id")
        target = self._expected.pop(correlation_id, None)
        if target is not None and message.properties.get("user_id") != self.prefix + target:
            log.warning("dropped an RPC reply from %r posing as %s", message.properties.get("user_id"), target)
            self._reply_events.pop(correlation_id, None)
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)


class RpcClient(RpcProxy):
    """Calls ``methods`` of ``target_service``, as this service's broker
    account (``user_id``), so the callee knows who asks."""

    rpc_reply_listener = KitReplyListener()

    def __init__(self, target_service, methods, coalesce=None, linger=COALESCE_LINGER_S, **options):
        super().__init__(target_service, **options)
        self.methods = frozenset(methods)
        #: {method: most items a call carries}: methods that take a list of items and answer a list, whose
        #: concurrent single calls (``proxy.coalesced(method, item)``) go together (``coalesce.Coalescer``)
        self.coalescers = {name: Coalescer(size, linger, interrupted=lambda: outages.DependencyUnavailable(
            target_service, "the call carrying this request was interrupted")) for name, size in (coalesce or {}).items()}

    def setup(self):
        config = self.container.config
        self.options["user_id"] = broker_user(config["AMQP_URI"])
        self.timeout = float(config.get("RPC_TIMEOUT") or DEFAULT_TIMEOUT_S)
        # a request nobody took in time is dropped by the broker, not run when the callee comes back
        self.options.setdefault("expiration", self.timeout)
        self.health = outages.dependency(self.container.service_name, self.target_service)

    def get_dependency(self, worker_ctx):
        listener = _TargetedReplies(self.rpc_reply_listener, self.target_service)
        return _DeclaredMethods(ServiceProxy(worker_ctx, self.target_service, listener, **self.options),
                                self.target_service, self.methods, self.timeout, self.health, self.coalescers)


class _TargetedReplies:
    """The shared reply listener, told which service each call went to."""

    def __init__(self, listener, target):
        self._listener, self._target = listener, target

    @property
    def routing_key(self):
        return self._listener.routing_key

    def get_reply_event(self, correlation_id):
        return self._listener.get_reply_event(correlation_id, self._target)


class _DeclaredMethods:
    def __init__(self, proxy, target, methods, timeout, health, coalescers):
        self._proxy, self._target, self._methods = proxy, target, methods
        self._timeout, self._health, self._coalescers = timeout, health, coalescers

    def coalesced(self, name, item):
        """``name``'s answer for ``item``, sent in one list with the items of
        the calls made meanwhile by the other workers of this process."""
        return self._coalescers[name](item, getattr(self, name))

    def __getattr__(self, name):
        if name not in self._methods:
            raise AttributeError(f"{name} is not among the {self._target} methods this service declared "
                                 f"(RpcClient methods=...), so its broker account may not call it")
        method = getattr(self._proxy, name)

        def call(*args, **kwargs):
            timer = eventlet.Timeout(self._timeout)
            try:
                result = method(*args, **kwargs)
            except eventlet.Timeout as exc:
                if exc is not timer:
                    raise  # a caller's own deadline
                self._unavailable(f"no answer to {name} within {self._timeout:g} s")
            except UnknownService:
                self._unavailable("no instance is listening")
            except kombu.exceptions.OperationalError as exc:
                self._unavailable(f"the broker: {outages.one_line(exc)}")
            except RemoteError as exc:
                if exc.exc_type != outages.DependencyUnavailable.__name__:
                    raise
                self._unavailable(exc.value)
            finally:
                timer.cancel()
            self._health.succeeded()
            return result

        return call

    def _unavailable(self, detail):
        error = outages.DependencyUnavailable(self._target, detail)
        self._health.failed(error)
        raise error
