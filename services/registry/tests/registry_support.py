"""What the registry's tests share besides fixtures (a module of its own:
every service's tests have a conftest, so ``from conftest import`` finds
whichever was loaded last)."""
import json
import re
import uuid

import amqp
import kombu
import requests

from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.service import KitService
from setiakawan_kit.testing import ApiClient, wait_for

from registry_samples import household_body  # noqa: F401 - the tests import it from here


Client = ApiClient  # the services' tests' name for it


def assert_no_identifiers(messages, numbers):
    """No event (headers or body, as on the wire) holds one of these NIKs or
    KK numbers, or a value that could be a digest of one (64 hex digits)."""
    assert messages
    for headers, body in messages:
        text = json.dumps(headers) + (body.decode() if isinstance(body, bytes) else body)
        leaked = [number for number in numbers if number in text]
        assert not leaked, f"{headers['ce-type']} carries {leaked}"
        assert not re.search(r"[0-9a-fA-F]{64}", text), f"{headers['ce-type']} carries a 64-hex-digit value"


def count_rows(db, database, table):
    with db(database).cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return cur.fetchone()[0]


class Notifications(KitService):
    """The registry's RPC callers as their accounts see them (the real services are shells)."""

    name = "notifications"
    registry = RpcClient("registry", methods=("contact_details",))


class Distribution(KitService):
    name = "distribution"
    registry = RpcClient("registry", methods=("nik_belongs_to",))


def rpc_call(uri, service, method, *args, user_id=None, timeout=20):
    """nameko's RPC protocol by hand, as ``service``'s account in ``uri``
    (its ``user_id`` unless given); the reply body."""
    return rpc_call_raw(uri, service, method, {"args": list(args), "kwargs": {}}, user_id, timeout)


def rpc_call_raw(uri, service, method, body, user_id=None, timeout=20):
    exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True, passive=True)
    routing_key = str(uuid.uuid4())
    user = kombu.Connection(uri).userid if user_id is None else user_id
    with kombu.Connection(uri) as conn:
        channel = conn.channel()
        reply = kombu.Queue(f"rpc.reply-{service}-{routing_key}", exchange=exchange, routing_key=routing_key,
                            exclusive=True, auto_delete=True)(channel)
        reply.declare()
        properties = {"reply_to": routing_key, "correlation_id": str(uuid.uuid4()),
                      "content_type": "application/json"}
        if user:
            properties["user_id"] = user
        channel.confirm_select()
        channel.basic_publish(amqp.Message(json.dumps(body), **properties),
                              exchange="nameko-rpc", routing_key=f"registry.{method}")
        message = wait_for(lambda: reply.get(no_ack=True), timeout, interval=0.05,
                           what=f"a reply to registry.{method}")
        return json.loads(message.body)


def finished_import(registry, bearer, import_id, timeout=120):
    """The import's state once it completed or failed."""
    def state():
        return requests.get(f"{registry.url}/imports/{import_id}", timeout=10,
                            headers={"Authorization": f"Bearer {bearer}"}).json()

    return wait_for(lambda: (s := state())["status"] in ("completed", "failed") and s, timeout, interval=0.2,
                    what=f"import {import_id} to end", state=state, services=[registry])
