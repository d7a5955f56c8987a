"""Use case of every consumed event: the messages it makes, queued in the
delivery log in the same transaction as the event's inbox entry, so a
redelivered event queues nothing more (the log's unique key: event,
recipient, route). Rendered now, sent by ``dispatch``."""
import json
import logging
import uuid
from datetime import datetime, timezone

from .rules import messages as templates, routing
from .rules.quiet_hours import send_at
from .storage import contacts as contact_storage, households, messages, routing as rule_storage, \
    subscriptions as subscription_storage

HOUSEHOLD_EVENTS = routing.CONSUMED["registry"]

log = logging.getLogger(__name__)


def from_events(uow, events, quiet, now=None):
    """Queue the messages of ``events`` (contract ``Event``s), those to
    people held past the ``quiet`` hours; returns how many are new."""
    now = now or datetime.now(timezone.utc)
    _keep_households(uow, [e for e in events if e.type in HOUSEHOLD_EVENTS])
    types = {e.type for e in events}
    rules = {}
    for rule in rule_storage.enabled_for(uow, types):
        rules.setdefault(rule["event_type"], []).append(rule)
    subscriptions = subscription_storage.active_for(uow, types)
    agencies = {a for e in events if any(r["recipient"] == "agency_staff" for r in rules.get(e.type, ()))
                for a in routing.agencies_of(e.type, e.data, e.agency)}
    staff = contact_storage.of_agencies(uow, agencies) if agencies else []
    rows = []
    for event in events:
        rows.extend(_messages(event, rules.get(event.type, ()), staff, subscriptions, quiet, now))
    return messages.insert(uow, rows)


def _keep_households(uow, events):
    latest = {}
    for event in events:
        snapshot = event.data["household"]
        held = latest.get(str(snapshot["household_id"]))
        if held is None or held[1] < snapshot["version"]:
            latest[str(snapshot["household_id"])] = (str(snapshot["household_id"]), snapshot["version"],
                                                     routing.head_of(snapshot), snapshot["village_code"],
                                                     snapshot["status"])
    households.replace(uow, sorted(latest.values()))


def _rendered(template, data, language, event):
    """The message, or None (logged) if this template cannot be rendered
    from this event: the other rules' messages and the webhooks still go."""
    try:
        return templates.render(template, data, language)
    except Exception:  # noqa: BLE001 - a template's fault is not the event's
        log.exception("template %s (%s) does not render from event %s", template, language, event.id)
        return None


def _messages(event, rules, staff, subscriptions, quiet, now):
    data, regions = event.data, routing.regions_of(event.type, event.data)
    village = regions[0] if len(regions) == 1 else None
    agency = (routing.agencies_of(event.type, data, event.agency) or [event.agency])[0]
    base = {"event_id": event.id, "event_type": event.type, "agency": agency, "village_code": village}
    for rule in rules:
        if rule["recipient"] in ("head", "person"):
            recipient = routing.household_of(event.type, data) if rule["recipient"] == "head" \
                else routing.person_of(event.type, data)
            if recipient is None:
                continue
            text = _rendered(rule["template"], data, rule["language"], event)
            if text is None:
                continue
            due = send_at(now, village, rule["urgent"], quiet) if village else now
            yield dict(base, id=str(uuid.uuid4()), recipient_kind="household" if rule["recipient"] == "head"
                       else "person", recipient_id=recipient, route=rule["recipient"], channels=rule["channels"],
                       channel=rule["channels"][0], language=rule["language"], urgent=rule["urgent"],
                       subject=text.subject, body=text.body, next_attempt_at=due)
        else:
            concerned = routing.agencies_of(event.type, data, event.agency)
            for contact in staff:
                if contact["agency"] in concerned and contact["channel"] in rule["channels"] \
                        and (not contact["event_types"] or event.type in contact["event_types"]) \
                        and routing.in_regions(regions, contact["region_codes"]):
                    text = _rendered(rule["template"], data, contact["language"], event)
                    if text is None:
                        continue
                    yield dict(base, id=str(uuid.uuid4()), recipient_kind="staff", recipient_id=str(contact["id"]),
                               route="agency_staff", channels=[contact["channel"]], channel=contact["channel"],
                               language=contact["language"], urgent=True, subject=text.subject, body=text.body,
                               next_attempt_at=now)
    for subscription in subscriptions:
        if event.type in subscription["event_types"] and routing.in_regions(regions, subscription["region_codes"]):
            yield dict(base, id=str(uuid.uuid4()), recipient_kind="partner", recipient_id=str(subscription["id"]),
                       route="webhook", channels=["webhook"], channel="webhook", language="id", urgent=True,
                       subject=event.type, body=structured(event), next_attempt_at=now)


def structured(event):
    """The event as a structured-mode CloudEvent in JSON, what a partner's webhook receives."""
    attributes = {k: v for k, v in event.attributes().items() if v is not None}
    attributes["time"] = event.time.isoformat() if hasattr(event.time, "isoformat") else event.time
    return json.dumps(dict(attributes, data=event.data), ensure_ascii=False, separators=(",", ":"), default=str)
