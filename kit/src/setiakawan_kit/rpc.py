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
"""
import logging
import urllib.parse
import uuid

from kombu import Exchange, Queue
from nameko.constants import RPC_EXCHANGE_CONFIG_KEY
from nameko.rpc import (RPC_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TEMPLATE, RPC_REPLY_QUEUE_TTL, Rpc, RpcConsumer,
                        RpcProxy, ReplyListener, ServiceProxy)

log = logging.getLogger(__name__)

DEFAULT_EXCHANGE = "nameko-rpc"


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
    def setup(self):
        if self.queue is None:
            name = self.container.service_name
            self.queue = Queue(RPC_QUEUE_TEMPLATE.format(name), exchange=_rpc_exchange(self.container.config),
                               routing_key=f"{name}.*", durable=True)
            self.queue_consumer.register_provider(self)
            self._registered = True


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
        if isinstance(body, dict) and isinstance(body.get("args"), (list, tuple)):
            body = dict(body, args=[caller, *body["args"]])
        super().handle_message(body, message)


rpc = CallerCheckedRpc.decorator


class KitReplyListener(ReplyListener):
    def setup(self):
        self.routing_key = str(uuid.uuid4())
        self.queue = Queue(RPC_REPLY_QUEUE_TEMPLATE.format(self.container.service_name, self.routing_key),
                           exchange=_rpc_exchange(self.container.config), routing_key=self.routing_key,
                           queue_arguments={"x-expires": RPC_REPLY_QUEUE_TTL})
        self.queue_consumer.register_provider(self)


class RpcClient(RpcProxy):
    """Calls ``methods`` of ``target_service``, as this service's broker
    account (``user_id``), so the callee knows who asks."""

    rpc_reply_listener = KitReplyListener()

    def __init__(self, target_service, methods, **options):
        super().__init__(target_service, **options)
        self.methods = frozenset(methods)

    def setup(self):
        self.options["user_id"] = broker_user(self.container.config["AMQP_URI"])

    def get_dependency(self, worker_ctx):
        return _DeclaredMethods(ServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                             **self.options), self.target_service, self.methods)


class _DeclaredMethods:
    def __init__(self, proxy, target, methods):
        self._proxy, self._target, self._methods = proxy, target, methods

    def __getattr__(self, name):
        if name not in self._methods:
            raise AttributeError(f"{name} is not among the {self._target} methods this service declared "
                                 f"(RpcClient methods=...), so its broker account may not call it")
        return getattr(self._proxy, name)
