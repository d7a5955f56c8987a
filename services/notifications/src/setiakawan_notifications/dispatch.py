"""Use case of the sender: take the messages that are due, ask the
registry for the people's phone numbers (kept nowhere), send each over the
first channel that works, and write what happened. The state is in the
database: a message taken by a sender that is killed is taken again when
its lease ends, and sent again under the same idempotency key."""
import logging
import random
from datetime import datetime, timedelta, timezone

import eventlet

from setiakawan_contract import notifications as contract
from setiakawan_kit import outages

from . import enqueue
from .channels import Outgoing
from .rules import addresses, answers, backoff
from .rules.quiet_hours import send_at
from .storage import contacts, messages, opt_outs, subscriptions

log = logging.getLogger(__name__)

SUSPENDED = "the subscription is suspended"


def dispatch_once(db, channels, contact_details, settings):
    """Send one batch of due messages; returns how many were taken."""
    with db.transaction() as uow:
        taken = messages.claim(uow, settings.batch_size, settings.lease_s)
        if not taken:
            return 0
        staff = {str(c["id"]): c for c in _rows(contacts.contact, uow, taken, "staff")}
        partners = {str(s["id"]): s for s in _subscriptions(uow, taken)}
    try:
        people = _people(taken, contact_details)
    except outages.DependencyUnavailable as exc:  # the others go; people wait, the attempt not counted
        log.warning("contact details unavailable: %s", exc)
        people = None
    with db.transaction() as uow:
        phones = [details["phone"] for details in (people or {}).values() if details and details.get("phone")]
        hashes = [addresses.address_hash(settings.address_key, channel, phone)
                  for phone in phones for channel in addresses.PHONE_CHANNELS]
        refused = opt_outs.matching(uow, list(people), hashes) if people else set()
    plans = [_plan(m, people, staff, partners, refused, settings) for m in taken]
    pool = eventlet.GreenPool(settings.concurrency)
    results = list(pool.imap(lambda plan: _send(plan, channels), plans))
    with db.transaction() as uow:
        _record(uow, results, datetime.now(timezone.utc), settings)
    return len(taken)


def _rows(read, uow, taken, kind):
    ids = {str(m["recipient_id"]) for m in taken if m["recipient_kind"] == kind}
    return [row for row in (read(uow, i) for i in sorted(ids)) if row is not None]


def _subscriptions(uow, taken):
    ids = sorted({str(m["recipient_id"]) for m in taken if m["recipient_kind"] == "partner"})
    if not ids:
        return []
    return uow.fetchall("SELECT id, url, secret, status FROM subscriptions WHERE id = ANY(%s::uuid[])", (ids,))


def _person_of(message):
    if message["recipient_kind"] == "household":
        return message["head_ref"] and str(message["head_ref"])
    if message["recipient_kind"] == "person":
        return str(message["recipient_id"])
    return None


def _people(taken, contact_details):
    """{person_ref: their contact details, or None for a person the registry
    does not know (or no longer as a member)}, one call for the batch."""
    refs = sorted({ref for ref in map(_person_of, taken) if ref})
    if not refs:
        return {}
    return dict(zip(refs, contact_details(refs)))


class Plan:
    """What to try for one message: the channels in order and the address
    on each, or the reason it cannot go."""

    def __init__(self, message, tries=(), stop=None, retry=None, secret=None, outage=False):
        self.message, self.tries, self.stop, self.retry, self.secret = message, list(tries), stop, retry, secret
        #: waiting on our own dependency, not the recipient's side: the attempt is not counted
        self.outage = outage


def _plan(message, people, staff, partners, refused, settings):
    kind = message["recipient_kind"]
    if kind in ("household", "person"):
        if people is None:
            return Plan(message, retry="the registry did not answer (contact details)", outage=True)
        ref = _person_of(message)
        if ref is None:
            if message["household_status"] is None:
                return Plan(message, retry="the household is not known here yet")
            return Plan(message, stop="the household has no head")
        details = people.get(ref)
        if details is None:
            return Plan(message, stop="no contact details")
        phone = details.get("phone")
        if not phone:
            return Plan(message, stop="no phone number")
        order = message["channels"][message["channels"].index(message["channel"]):]
        tries = [(c, phone) for c in order
                 if (c, ref) not in refused
                 and (c, addresses.address_hash(settings.address_key, c, phone)) not in refused]
        return Plan(message, tries) if tries else Plan(message, stop="opted out")
    if kind == "staff":
        contact = staff.get(str(message["recipient_id"]))
        if contact is None:
            return Plan(message, stop="the staff contact was removed")
        return Plan(message, [(contact["channel"], contact["address"])])
    subscription = partners.get(str(message["recipient_id"]))
    if subscription is None or subscription["status"] != "active":
        return Plan(message, stop=SUSPENDED if subscription else "the subscription was deleted")
    return Plan(message, [("webhook", subscription["url"])], secret=subscription["secret"])


def _send(plan, channels):
    """(plan, channel, address, outcome) of the last channel tried; no
    channel for a plan that stops or waits before any."""
    if plan.stop or plan.retry:
        return plan, None, None, None
    m = plan.message
    outcome = channel = address = None
    for channel, address in plan.tries:
        try:
            outcome = channels[channel].send(Outgoing(str(m["id"]), channel, address, m["subject"] or "", m["body"],
                                                      secret=plan.secret, at=datetime.now(timezone.utc)))
        except Exception as exc:  # noqa: BLE001 - an adapter's bug fails this attempt, not the batch
            log.exception("sending message %s over %s failed", m["id"], channel)
            outcome = answers.unreachable(type(exc).__name__)
        if outcome.kind != answers.NEXT_CHANNEL:
            break
    return plan, channel, address, outcome


def _record(uow, results, now, settings):
    written, sent, dead, partner_ok, partner_failed = [], [], [], set(), []
    for plan, channel, address, outcome in results:
        m = plan.message
        row = {"id": str(m["id"]), "channel": channel or m["channel"], "uncounted": plan.outage}
        if address:
            row["masked_address"] = addresses.shown(channel, address)
            if channel in addresses.PHONE_CHANNELS:
                row["address_hash"] = addresses.address_hash(settings.address_key, channel, address)
        if outcome is None:
            outcome = answers.Outcome(answers.RETRY, plan.retry) if plan.retry \
                else answers.Outcome(answers.REFUSED, plan.stop)
        row["answer"] = outcome.answer
        if outcome.kind == answers.SENT:
            row.update(status="sent", sent_at=now, gateway_id=outcome.gateway_id)
            sent.append(dict(m, channel=row["channel"]))
        elif plan.outage:
            row.update(status=m["status"], next_attempt_at=now + timedelta(seconds=settings.retry_base_s))
        elif outcome.kind == answers.RETRY:
            _retry(row, m, outcome.retry_after_s, now, settings)
        else:  # refused, or not on WhatsApp with no channel left
            row["status"] = "dead"
        if row["status"] == "dead":
            dead.append(dict(m, channel=row["channel"], answer=row["answer"]))
        if m["recipient_kind"] == "partner" and channel:
            if outcome.kind == answers.SENT:
                partner_ok.add(str(m["recipient_id"]))
            else:
                partner_failed.append((m, outcome.answer))
        written.append(row)
    messages.record(uow, written)
    subscriptions.delivered(uow, partner_ok)
    if sent:
        uow.publish_many(contract.MESSAGE_SENT, [(str(m["id"]), _outcome(m, sent_at=now)) for m in sent])
    if dead:
        uow.publish_many(contract.MESSAGE_FAILED, [(str(m["id"]), _outcome(m, reason=m["answer"])) for m in dead])
    for m, answer in partner_failed:
        _count_failure(uow, m, answer, settings)


def _retry(row, message, retry_after_s, now, settings):
    if backoff.given_up(message["attempts"], settings.max_attempts):
        row["status"] = "dead"
        return
    due = backoff.next_attempt(now, message["attempts"], settings.retry_base_s, settings.retry_max_s,
                               retry_after_s, jitter=random.random())
    if message["recipient_kind"] in ("household", "person") and message["village_code"]:
        due = send_at(due, message["village_code"], message["urgent"], settings.quiet)
    row.update(status="failed", next_attempt_at=due)


def _outcome(message, **extra):
    return dict({"message_id": str(message["id"]), "event_id": message["event_id"],
                 "event_type": message["event_type"], "recipient_kind": message["recipient_kind"],
                 "recipient_id": str(message["recipient_id"]), "channel": message["channel"],
                 "agency": message["agency"], "attempts": message["attempts"]}, **extra)


def _count_failure(uow, message, answer, settings):
    suspended = subscriptions.failed(uow, message["recipient_id"], settings.suspend_after)
    if suspended is None or not suspended["suspended"]:
        return
    suspend(uow, suspended, answer, settings)


def suspend(uow, subscription, reason, settings):
    """A subscription stopped: its waiting deliveries given up, the event
    published, and its owner's staff told (routing rule ``subscription.suspended``)."""
    given_up = messages.give_up_for(uow, "partner", subscription["id"], SUSPENDED)
    if given_up:
        uow.publish_many(contract.MESSAGE_FAILED, [(str(m["id"]), _outcome(m, reason=SUSPENDED)) for m in given_up])
    event = uow.publish(contract.SUBSCRIPTION_SUSPENDED, str(subscription["id"]), {
        "subscription_id": str(subscription["id"]), "agency": subscription["agency"], "url": subscription["url"],
        "event_types": list(subscription["event_types"]), "failures": max(1, subscription["failures"]),
        "reason": reason or "suspended", "suspended_at": subscription["suspended_at"]})
    enqueue.from_events(uow, [event], settings.quiet)
    log.warning("suspended webhook subscription %s of %s after %s failures", subscription["id"],
                subscription["agency"], subscription["failures"])

