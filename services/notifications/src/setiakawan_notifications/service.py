"""The notifications service's nameko entrypoints: thin translations from
HTTP, other services' events and the sender's timer to the use cases."""
import logging
import time

import eventlet
import urllib3
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from setiakawan_kit import outages
from setiakawan_kit.consumer import handles
from setiakawan_kit.db import DatabaseProvider
from setiakawan_kit.diagnostics import DiagnosticsMixin
from setiakawan_kit.http import MAX_BODY_BYTES, api, read_capped
from setiakawan_kit.rpc import RpcClient
from setiakawan_kit.service import KitService

from . import dispatch, enqueue, inbound, log, opt_outs, routing_rules, schemas, staff, subscriptions
from .channels.email import EmailChannel
from .channels.gateway import GatewayChannel
from .channels.webhook import WebhookChannel, resolve
from .rules import access, routing
from .settings import Settings

logger = logging.getLogger(__name__)

ANY, MANAGE = access.ANY, access.MANAGE_ROLES
RULE = "A rule refuses it (the errors say which)"
#: how long one tick of the sender keeps taking batches before it lets the timer run again
SEND_TICK_S = 2.0
#: the timer's interval; also how long an empty look at the log is trusted
POLL_S = 0.1
#: batches in flight at once in one instance: one sends while the other is taken, asked about or written
SENDERS = 2


class Sending(DependencyProvider):
    """The settings and the channel adapters, made once per process (their
    connection pools are shared by every worker, their rate limits by every
    worker of every instance)."""

    def setup(self):
        self.settings = Settings.from_config(self.container.config)
        s = self.settings
        pool = urllib3.PoolManager(num_pools=50, maxsize=s.concurrency * SENDERS, block=False)
        take = self._take_sends
        connections = s.concurrency * SENDERS
        self.channels = {"sms": GatewayChannel("sms", s.gateway_url, s.gateway_token, s.sms_per_second, s.timeout_s,
                                               connections, take),
                         "whatsapp": GatewayChannel("whatsapp", s.gateway_url, s.gateway_token,
                                                    s.whatsapp_per_second, s.timeout_s, connections, take),
                         "email": EmailChannel(s, take), "webhook": WebhookChannel(s, pool, take)}

        self.idle_since = None  # when a look found nothing due (monotonic)

    def _take_sends(self, channel, count, per_second):
        return dispatch.take_sends(DatabaseProvider.of(self.container), channel, count, per_second)

    def get_dependency(self, worker_ctx):
        return self


def _consumer(source, event_type):
    @handles(source, event_type, name=event_type.replace(".", "_"), batch=True)
    def handler(self, uow, events):
        enqueue.from_events(uow, events, self.sending.settings.quiet)

    handler.__name__ = f"on_{event_type.replace('.', '_')}"
    return handler


class NotificationsService(DiagnosticsMixin, KitService):
    """Messages to beneficiaries and agency staff (SMS, WhatsApp, email) and
    signed partner webhooks, from the other services' events."""

    name = "notifications"
    description = __doc__

    # a person's phone, at send time and kept nowhere; also what its broker account may call
    registry = RpcClient("registry", methods=("contact_details",))
    sending = Sending()

    # -- the sender --------------------------------------------------------------
    @timer(interval=POLL_S)
    def send_due(self):
        """Send what is due, batch after batch, for up to SEND_TICK_S, with
        SENDERS batches in flight."""
        sending = self.sending
        if sending.idle_since is not None and time.monotonic() - sending.idle_since < POLL_S:
            return  # nameko's timer fires the ticks a long run missed at once: nothing new is due yet
        started = time.monotonic()

        def send():
            while dispatch.dispatch_once(self.db, sending.channels, self.registry.contact_details,
                                         sending.settings) == sending.settings.batch_size:
                if time.monotonic() - started > SEND_TICK_S:
                    return False
            return True

        try:
            idle = any(list(eventlet.GreenPool(SENDERS).imap(lambda _: send(), range(SENDERS))))
        except Exception as exc:  # noqa: BLE001 - the next tick tries again; the leases keep the state
            idle = True
            if outages.dependency_of(exc) is None:
                logger.exception("sending failed")
            else:
                logger.warning("sending waits: %s", outages.one_line(exc))
        sending.idle_since = time.monotonic() if idle else None

    # -- routing rules -------------------------------------------------------------
    @api("GET", "/routing-rules", response=[schemas.RuleOut], roles=ANY, tags=["routing"],
         summary="Which event types message whom, over which channels, with which template")
    def list_rules(self, call):
        with self.db.transaction() as uow:
            return routing_rules.all_rules(uow)

    @api("PUT", "/routing-rules/<string:event_type>/<string:recipient>", body=schemas.RuleIn,
         response=schemas.RuleOut, roles=MANAGE, problems={422: RULE}, tags=["routing"],
         summary="Set a rule (the provincial social office's admins): recipient head, person or agency_staff")
    def save_rule(self, call, event_type, recipient):
        with self.db.transaction() as uow:
            return routing_rules.save(uow, call.identity, event_type, recipient, call.body)

    # -- staff contacts --------------------------------------------------------------
    @api("POST", "/contacts", body=schemas.ContactIn, response=schemas.ContactOut, roles=MANAGE, status=201,
         problems={409: "The agency has that address on that channel already"}, tags=["contacts"],
         summary="Add a staff contact of your agency (its alerts: blocked benefits, low stock …)")
    def add_contact(self, call):
        with self.db.transaction() as uow:
            return 201, staff.add(uow, call.identity, call.body)

    @api("GET", "/contacts", response=[schemas.ContactOut], roles=ANY, tags=["contacts"],
         summary="Your agency's staff contacts")
    def list_contacts(self, call):
        with self.db.transaction() as uow:
            return staff.of_agency(uow, call.identity)

    @api("DELETE", "/contacts/<uuid:contact_id>", roles=MANAGE, status=204, tags=["contacts"],
         summary="Remove a staff contact")
    def remove_contact(self, call, contact_id):
        with self.db.transaction() as uow:
            staff.remove(uow, call.identity, contact_id)
        return 204, ""

    # -- partner subscriptions --------------------------------------------------------
    @api("POST", "/subscriptions", body=schemas.SubscriptionIn, response=schemas.SubscriptionCreated, roles=MANAGE,
         status=201, problems={422: RULE}, tags=["webhooks"],
         summary="Subscribe a URL to event types in your regions; the answer holds the signing secret, once")
    def subscribe(self, call):
        with self.db.transaction() as uow:
            return 201, subscriptions.create(uow, call.identity, call.body, resolve, self.sending.settings.production)

    @api("GET", "/subscriptions", response=[schemas.SubscriptionOut], roles=ANY, tags=["webhooks"],
         summary="Your agency's subscriptions")
    def list_subscriptions(self, call):
        with self.db.transaction() as uow:
            return subscriptions.of_agency(uow, call.identity)

    @api("GET", "/subscriptions/<uuid:subscription_id>", response=schemas.SubscriptionOut, roles=ANY,
         tags=["webhooks"])
    def get_subscription(self, call, subscription_id):
        with self.db.transaction() as uow:
            return subscriptions.read(uow, call.identity, subscription_id)

    @api("POST", "/subscriptions/<uuid:subscription_id>/resume", response=schemas.SubscriptionOut, roles=MANAGE,
         problems={409: "The subscription is not suspended"}, tags=["webhooks"],
         summary="Deliver again to a suspended subscription")
    def resume_subscription(self, call, subscription_id):
        with self.db.transaction() as uow:
            return subscriptions.resume(uow, call.identity, subscription_id)

    @api("DELETE", "/subscriptions/<uuid:subscription_id>", roles=MANAGE, status=204, tags=["webhooks"],
         summary="End a subscription")
    def unsubscribe(self, call, subscription_id):
        with self.db.transaction() as uow:
            subscriptions.delete(uow, call.identity, subscription_id)
        return 204, ""

    # -- opt-outs ------------------------------------------------------------------------
    @api("POST", "/opt-outs", body=schemas.OptOutIn, response=schemas.OptOutsOut, roles=access.OPT_OUT_ROLES,
         tags=["opt-outs"], summary="Record that a person wants no more messages on these channels")
    def opt_out(self, call):
        with self.db.transaction() as uow:
            return opt_outs.record(uow, call.identity, call.body["person_ref"], call.body["channels"])

    @api("GET", "/opt-outs/<uuid:person_ref>", response=schemas.OptOutsOut, roles=ANY, tags=["opt-outs"],
         summary="The channels a person opted out of")
    def get_opt_outs(self, call, person_ref):
        with self.db.transaction() as uow:
            return opt_outs.of_person(uow, person_ref)

    @api("DELETE", "/opt-outs/<uuid:person_ref>/<string:channel>", response=schemas.OptOutsOut,
         roles=access.OPT_OUT_ROLES, tags=["opt-outs"], summary="The person wants messages on the channel again")
    def opt_back_in(self, call, person_ref, channel):
        with self.db.transaction() as uow:
            return opt_outs.withdraw(uow, call.identity, person_ref, channel)

    # -- the delivery log -------------------------------------------------------------------
    @api("GET", "/messages", query=schemas.MessageQuery, response=schemas.MessagePage, roles=ANY, tags=["log"],
         summary="The delivery log: messages of your agency's events and to places in your regions, newest first")
    def list_messages(self, call):
        with self.db.transaction() as uow:
            return log.search(uow, call.identity, call.query)

    @api("GET", "/messages/<uuid:message_id>", response=schemas.MessageOut, roles=ANY, tags=["log"])
    def get_message(self, call, message_id):
        with self.db.transaction() as uow:
            return log.read(uow, call.identity, message_id)

    # -- the gateway's callbacks -----------------------------------------------------------
    @api("POST", "/gateway/callbacks", body="application/json", response=schemas.InboundOut, public=True,
         problems={401: "The signature (Standard Webhooks, the gateway's secret) does not verify",
                   409: "A receipt for a message whose sending is not written down yet: send it again later",
                   422: RULE},
         tags=["gateway"], summary="Delivery receipts and replies (STOP opts the number out) from the gateway")
    def gateway_callback(self, call):
        body = inbound.verified(self.sending.settings.gateway_inbound_secret,
                                read_capped(call.request, MAX_BODY_BYTES), call.request.headers)
        with self.db.transaction() as uow:
            return {"outcome": inbound.handle(uow, self.sending.settings, body)}


# other services' events: each consumed type has a handler (and a queue) of its own
for _source, _types in routing.CONSUMED.items():
    for _type in _types:
        setattr(NotificationsService, f"on_{_type.replace('.', '_')}", _consumer(_source, _type))
