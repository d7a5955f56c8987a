"""Two small services that exercise the kit the way the real ones do: the
producer publishes ``thing.happened`` through its outbox, the consumer
applies it (counting applications, so a second effect would show)."""
import json
import os
import time

from marshmallow import Schema, fields, validate
from nameko.events import event_handler

from setiakawan_kit.auth import require_region
from setiakawan_kit.consumer import handles
from setiakawan_contract import event_types
from setiakawan_kit.http import api
from setiakawan_kit.problems import conflict
from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.service import KitService


class ThingSchema(Schema):
    seq = fields.Integer(required=True, validate=validate.Range(min=0))
    note = fields.String(load_default="")


THING_HAPPENED = event_types.define("thing.happened", "producer", ThingSchema,
                                    description="A test event.", example={"seq": 1, "note": "x"})
THING_POISONED = event_types.define("thing.poisoned", "producer", ThingSchema,
                                    description="A test event whose handler always fails.",
                                    example={"seq": 1, "note": "x"})


class PublishRequest(Schema):
    count = fields.Integer(load_default=1, validate=validate.Range(1, 10000))
    start = fields.Integer(load_default=0)
    subjects = fields.Integer(load_default=10, validate=validate.Range(min=1))
    subject_prefix = fields.String(load_default="thing")
    poisoned = fields.Boolean(load_default=False)
    fail_after_publishing = fields.Boolean(load_default=False)
    region = fields.String(load_default=None)
    note = fields.String(load_default="")
    refuse = fields.List(fields.Integer(), load_default=list)  # seqs whose note says the consumer refuses them


class Producer(KitService):
    name = "producer"

    @api("POST", "/things", body=PublishRequest, roles=("operator",), status=201)
    def publish(self, call):
        body = call.body
        if body["region"]:
            require_region(call.identity, body["region"])
        event_type = THING_POISONED if body["poisoned"] else THING_HAPPENED
        with self.db.transaction() as uow:
            ids = [uow.publish(event_type, f"{body['subject_prefix']}-{(body['start'] + i) % body['subjects']}",
                               {"seq": body["start"] + i,
                                "note": "refuse" if body["start"] + i in body["refuse"] else body["note"]}).id
                   for i in range(body["count"])]
            if body["fail_after_publishing"]:
                raise conflict("Failing on purpose after publishing; the transaction rolls back.")
        return 201, {"event_ids": ids}


def apply_things(uow, events):
    # CONSUMER_ACCEPTS_REFUSED=1: the fix is deployed (the operator tools' test replays what was refused)
    if os.environ.get("CONSUMER_ACCEPTS_REFUSED") != "1" and any(event.data.get("note") == "refuse"
                                                                   for event in events):
        raise ValueError(f"thing {[e.data['seq'] for e in events]} is refused on purpose")
    delay = float(os.environ.get("CONSUMER_DELAY_S", "0"))
    uow.execute("INSERT INTO applied (event_id, seq, subject, correlation_id)"
                " SELECT unnest(%s::text[]), unnest(%s::int[]), unnest(%s::text[]), unnest(%s::text[])"
                " ON CONFLICT (event_id) DO UPDATE SET applications = applied.applications + 1",
                ([e.id for e in events], [e.data["seq"] for e in events], [e.subject for e in events],
                 [e.correlationid for e in events]))
    if delay:
        time.sleep(delay)


class Consumer(KitService):
    """Applies things an event at a time, or a batch at a time (set-based)
    when started with ``CONSUMER_BATCH=1``."""
    name = "consumer"

    if os.environ.get("CONSUMER_BATCH") == "1":
        @handles("producer", "thing.happened", name="on_thing", batch=True)
        def on_thing(self, uow, events):
            apply_things(uow, events)
    else:
        @handles("producer", "thing.happened", name="on_thing")
        def on_thing(self, uow, event):
            apply_things(uow, [event])

    @handles("producer", "thing.poisoned", name="on_poisoned")
    def on_poisoned(self, uow, event):
        raise RuntimeError(f"cannot handle thing {event.data['seq']}{event.data['note']}")


class NamekoListener:
    """A plain nameko service, no kit: proves the relay's messages reach
    nameko's own ``@event_handler`` with the data as its payload."""

    name = "listener"

    @event_handler("producer", "thing.happened")
    def on_thing(self, payload):
        with open(os.environ["LISTENER_OUT"], "a") as out:
            out.write(json.dumps(payload) + "\n")


class ContactLookup(KitService):
    """Stands in for the notifications service: asks the registry for a
    person's contact details through the kit's RpcClient, as its own account."""

    name = "notifications"
    registry = RpcClient("registry", methods=("contact_details",))

    @api("GET", "/contacts/<person_ref>", roles=("admin",))
    def contact(self, call, person_ref):
        return self.registry.contact_details(person_ref)

    @api("GET", "/undeclared/<person_ref>", roles=("admin",))
    def undeclared(self, call, person_ref):
        return self.registry.nik_belongs_to("6213014107850003", person_ref)
