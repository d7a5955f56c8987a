"""Use case of the sender: take the messages that are due, ask the
registry for the people's phone numbers (kept nowhere), send each over the
first channel that works, and write what happened. The state is in the
database: a message taken by a sender that is killed (or slower than its
lease) is taken again when its lease ends and sent again under the same
idempotency key, and only the sender holding the current lease writes its
outcome."""
import logging
import random
import time
from datetime import datetime, timedelta, timezone

import eventlet

from setiakawan_contract import notifications as contract

from . import enqueue
from .channels import Outgoing
from .rules import addresses, answers, backoff
from .rules.quiet_hours import send_at
from .storage import allowance, contacts, messages, opt_outs, subscriptions

log = logging.getLogger(__name__)

SUSPENDED = "the subscription is suspended"
#: people asked of the registry in one call (its contact_details takes up to 1000)
CONTACTS_PER_CALL = 200
#: a send is not begun once this share of the lease has passed: its outcome could not be written
LEASE_USABLE = 0.8


def dispatch_once(db, channels, contact_details, settings):
    """Send one batch of due messages; returns how many were taken."""
    with db.transaction() as uow:
        taken = messages.claim(uow, settings.batch_size, settings.lease_s)
        if not taken:
            return 0
        staff = {str(c["id"]): c for c in contacts.some(uow, _ids(taken, "staff"))}
        partners = {str(s["id"]): s for s in subscriptions.for_sending(uow, _ids(taken, "partner"))}
    deadline = time.monotonic() + settings.lease_s * LEASE_USABLE
    people = _people(taken, contact_details)
    with db.transaction() as uow:
        refused = _opted_out(uow, people, settings) if people else set()
    now = datetime.now(timezone.utc)
    plans = [_safely(_plan, m, people, staff, partners, refused, settings, now) for m in taken]
    pool = eventlet.GreenPool(settings.concurrency)
    results = list(pool.imap(lambda plan: _send(plan, channels, deadline), plans))
    written = _results(results, datetime.now(timezone.utc), settings)
    for attempt in range(3):  # what was sent is known: a deadlock or a lost connection does not lose it
        try:
            with db.transaction() as uow:
                _write(uow, written, settings)
            break
        except Exception:
            if attempt == 2:
                raise
            log.warning("writing a batch's outcomes failed; trying again", exc_info=True)
            eventlet.sleep(0.5 * (attempt + 1))
    return len(taken)


def take_sends(db, channel, count, per_second):
    """Take ``count`` sends on ``channel`` from the rate every instance
    shares; the seconds to wait before the last of them may go."""
    with db.transaction() as uow:
        return allowance.take(uow, channel, count, per_second)


def _ids(taken, kind):
    return sorted({str(m["recipient_id"]) for m in taken if m["recipient_kind"] == kind})


def _person_of(message):
    if message["recipient_kind"] == "household":
        return message["head_ref"] and str(message["head_ref"])
    if message["recipient_kind"] == "person":
        return str(message["recipient_id"])
    return None


def _people(taken, contact_details):
    """{person_ref: their contact details, or None for a person the registry
    does not know (or no longer as a member)}; None if the registry did not
    answer as asked (then the people's messages wait and the others go)."""
    refs = sorted({ref for ref in map(_person_of, taken) if ref})
    found = {}
    try:
        for start in range(0, len(refs), CONTACTS_PER_CALL):
            chunk = refs[start:start + CONTACTS_PER_CALL]
            answer = contact_details(chunk)
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise ValueError(f"contact_details answered {type(answer).__name__} for {len(chunk)} people")
            found.update(zip(chunk, answer))
    except Exception as exc:  # noqa: BLE001 - an outage, a refusal or a wrong answer: people wait
        log.warning("contact details unavailable: %s", exc)
        return None
    return found


def _opted_out(uow, people, settings):
    phones = [details["phone"] for details in people.values() if details and details.get("phone")]
    hashes = [addresses.address_hash(settings.address_key, channel, phone)
              for phone in phones for channel in addresses.PHONE_CHANNELS]
    return opt_outs.matching(uow, list(people), hashes)


class Plan:
    """What to try for one message: the channels in order and the address
    on each, or why it cannot go (``stop``), or why it waits (``retry``;
    ``hold``: until a time, the attempt not counted)."""

    def __init__(self, message, tries=(), stop=None, retry=None, secret=None, hold=None, uncounted=False):
        self.message, self.tries, self.stop, self.retry, self.secret = message, list(tries), stop, retry, secret
        self.hold, self.uncounted = hold, uncounted


def _safely(plan, message, *args):
    try:
        return plan(message, *args)
    except Exception as exc:  # noqa: BLE001 - one message's fault is its own
        log.exception("planning message %s failed", message["id"])
        return Plan(message, retry=f"could not be prepared: {type(exc).__name__}")


def _plan(message, people, staff, partners, refused, settings, now):
    kind = message["recipient_kind"]
    if kind in ("household", "person"):
        if message["village_code"] and not message["urgent"]:
            due = send_at(now, message["village_code"], False, settings.quiet)
            if due > now:  # quiet hours came while it waited
                return Plan(message, retry="quiet hours", hold=due, uncounted=True)
        if people is None:
            return Plan(message, retry="the registry did not answer (contact details)", uncounted=True,
                        hold=now + timedelta(seconds=settings.retry_base_s))
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


def _send(plan, channels, deadline):
    """(plan, channel, address, outcome) of the last channel tried; no
    channel for a plan that stops or waits before any."""
    if plan.stop or plan.retry:
        return plan, None, None, None
    if time.monotonic() > deadline:  # the batch is slower than its lease: another sender will take it
        plan.retry, plan.uncounted = "not sent before the lease ended", True
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


def _results(results, now, settings):
    """Each message's row of outcome, with what to publish and count."""
    written = []
    for plan, channel, address, outcome in results:
        m = plan.message
        row = {"id": str(m["id"]), "lease_id": str(m["lease_id"]), "channel": channel or m["channel"],
               "uncounted": plan.uncounted, "message": m, "partner_failed": False}
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
        elif plan.uncounted:
            row.update(status=m["status"], next_attempt_at=plan.hold or now)
        elif outcome.kind == answers.RETRY:
            _retry(row, m, outcome.retry_after_s, now, settings)
        else:  # refused, or not on WhatsApp with no channel left
            row["status"] = "dead"
        row["partner_failed"] = m["recipient_kind"] == "partner" and channel is not None \
            and outcome.kind != answers.SENT
        written.append(row)
    return written


def _write(uow, written, settings):
    held = messages.record(uow, written)
    mine = [row for row in written if row["id"] in held]
    if len(mine) < len(written):
        log.warning("%d messages outlived their lease; the sender that took them again writes them",
                    len(written) - len(mine))
    sent = [(dict(r["message"], channel=r["channel"]), r["sent_at"]) for r in mine if r["status"] == "sent"]
    dead = [dict(r["message"], channel=r["channel"], answer=r["answer"]) for r in mine if r["status"] == "dead"]
    partners = {}  # subscription: [delivered at least once, the last failure's answer]
    for row in mine:
        if row["message"]["recipient_kind"] == "partner":
            seen = partners.setdefault(str(row["message"]["recipient_id"]), [False, None])
            if row["status"] == "sent":
                seen[0] = True
            elif row["partner_failed"]:
                seen[1] = row["answer"]
    subscriptions.delivered(uow, [s for s, (ok, _) in partners.items() if ok])
    if sent:
        uow.publish_many(contract.MESSAGE_SENT, [(str(m["id"]), _outcome(m, sent_at=at)) for m, at in sent])
    if dead:
        uow.publish_many(contract.MESSAGE_FAILED, [(str(m["id"]), _outcome(m, reason=m["answer"])) for m in dead])
    # one failure per subscription and batch (a burst of deliveries during one outage is one failure), in id order
    for subscription_id in sorted(s for s, (ok, answer) in partners.items() if not ok and answer):
        _count_failure(uow, subscription_id, partners[subscription_id][1], settings)


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


def _count_failure(uow, subscription_id, answer, settings):
    suspended = subscriptions.failed(uow, subscription_id, settings.suspend_after)
    if suspended is not None and suspended["suspended"]:
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


def receipt(uow, gateway_id, reference, status, answer):
    """The gateway's receipt applied; a message given up by it is told as
    failed. Returns the message's row, or None if no sent message matches."""
    row = messages.receipt(uow, gateway_id, reference, status, answer)
    if row is not None and status == "dead":
        uow.publish(contract.MESSAGE_FAILED, str(row["id"]), _outcome(row, reason=answer))
    return row
