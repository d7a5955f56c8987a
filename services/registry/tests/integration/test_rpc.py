"""The registry's RPC for other services, called over AMQP the way any
client can (nameko's RPC protocol: exchange ``nameko-rpc``, routing key
``registry.<method>``, reply to a queue bound to that exchange)."""
import json
import uuid

import kombu

from conftest import household_body


def call(amqp_uri, method, *args):
    exchange = kombu.Exchange("nameko-rpc", type="topic", durable=True)
    reply_queue = kombu.Queue(f"rpc-reply-{uuid.uuid4()}", exchange=exchange, exclusive=True, auto_delete=True)
    reply_queue.routing_key = reply_queue.name
    correlation = str(uuid.uuid4())
    with kombu.Connection(amqp_uri) as conn:
        channel = conn.channel()
        bound = reply_queue(channel)
        bound.declare()
        kombu.Producer(channel).publish(json.dumps({"args": list(args), "kwargs": {}}), exchange=exchange,
                                        routing_key=f"registry.{method}", reply_to=reply_queue.name,
                                        correlation_id=correlation, content_type="application/json")
        replies = []
        with conn.Consumer(bound, callbacks=[lambda body, message: (replies.append(body), message.ack())],
                           accept=["application/json"]):
            while not replies:
                conn.drain_events(timeout=20)
    reply = replies[0]
    assert reply["error"] is None, reply["error"]
    return reply["result"]


def test_contact_details_and_nik_check_keep_personal_data_in_the_registry(client, amqp_uri, access_rows):
    household = client().post("/households", household_body()).json()
    head = household["members"][0]
    details = call(amqp_uri, "contact_details", head["person_ref"])
    assert details == {"person_ref": head["person_ref"], "name": "Siti Aminah", "phone": "+6281234567890",
                       "village_code": "62.13.01.2003"}
    assert call(amqp_uri, "contact_details", str(uuid.uuid4())) is None
    assert call(amqp_uri, "contact_details", "not-a-reference") is None
    assert call(amqp_uri, "contact_details", "urn:uuid:" + head["person_ref"])["name"] == "Siti Aminah"
    assert call(amqp_uri, "nik_belongs_to", "6213014107850003", head["person_ref"]) is True
    assert call(amqp_uri, "nik_belongs_to", "6213011503100002", head["person_ref"]) is False
    assert call(amqp_uri, "nik_belongs_to", "6213014107850003", "junk") is False

    # each call that returned or checked a person's data is in the access log
    rows = access_rows(kind="service")
    assert [(r["agency"], r["role"], r["action"], r["disclosure"], str(r["person_ref"]), str(r["household_id"]),
             r["region_code"]) for r in rows] == [
        ("unknown", "rpc", action, disclosure, head["person_ref"], household["id"], "62.13.01.2003")
        for action, disclosure in (("contact_details", "clear"), ("contact_details", "clear"),
                                   ("nik_belongs_to", "check"), ("nik_belongs_to", "check"))]
