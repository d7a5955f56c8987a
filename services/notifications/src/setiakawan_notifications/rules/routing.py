"""Who an event concerns: the household or person a message goes to, the
agencies whose staff learn of it, the regions it lies in (for quiet hours,
staff contacts' and partners' region filters). Read from the event's data
alone, as the contract writes it."""
from setiakawan_kit.auth import within

#: the routing rules' recipients, and the channels they may use
RECIPIENTS = ("head", "person", "agency_staff")
CHANNELS = ("whatsapp", "sms", "email")
#: channels that reach a person through the registry's phone number
PHONE_CHANNELS = ("whatsapp", "sms")

_HOUSEHOLD_EVENTS = ("household.registered", "household.updated", "household.verified", "household.rejected",
                     "household.status_changed", "member.added", "member.removed", "household.merged")
_ENTITLEMENT_EVENTS = ("entitlement.issued", "entitlement.blocked", "entitlement.revoked", "aid.delivered")
_ENROLMENT_EVENTS = ("enrolment.confirmed", "enrolment.waitlisted", "enrolment.cancelled")
_COURSE_EVENTS = ("course.published", "course.cancelled", "course.finished")
_PROGRAMME_EVENTS = ("programme.activated", "programme.closed")
_STOCK_EVENTS = ("stock.low", "stock.received")
_RESULTS = ("participant.completed", "participant.not_completed")

#: every event type the service consumes, by source: each may reach partners' webhooks
CONSUMED = {"registry": _HOUSEHOLD_EVENTS,
            "distribution": _ENTITLEMENT_EVENTS + _PROGRAMME_EVENTS + _STOCK_EVENTS,
            "training": _ENROLMENT_EVENTS + _COURSE_EVENTS + _RESULTS}
#: what a partner may subscribe to (a subscription suspended is told to its own agency's staff)
SUBSCRIBABLE = tuple(t for types in CONSUMED.values() for t in types)
#: what routing rules may name
ROUTABLE = SUBSCRIBABLE + ("subscription.suspended",)


def head_of(snapshot):
    """The person_ref of a household snapshot's head, or None."""
    for member in snapshot.get("members") or ():
        if member["relationship"] == "head":
            return str(member["person_ref"])
    return None


def household_of(event_type, data):
    """The household a ``head`` message goes to, or None (a group, or an
    event about no household)."""
    if event_type in _HOUSEHOLD_EVENTS:
        return str(data["household"]["household_id"])
    if event_type in _ENTITLEMENT_EVENTS and data["entitlement"]["beneficiary_kind"] == "household":
        return str(data["entitlement"]["beneficiary_id"])
    return None


def person_of(event_type, data):
    """The person a ``person`` message goes to, or None."""
    if event_type in _ENROLMENT_EVENTS:
        return str(data["enrolment"]["person_ref"])
    if event_type in _RESULTS:
        return str(data["person_ref"])
    return None


def regions_of(event_type, data):
    """The Kemendagri codes the event lies in (a village, or a course's or
    programme's regions); empty for an event about no place."""
    if event_type in _HOUSEHOLD_EVENTS:
        return [data["household"]["village_code"]]
    if event_type in _ENTITLEMENT_EVENTS:
        return [data["entitlement"]["village_code"]]
    if event_type in _ENROLMENT_EVENTS:
        return [data["enrolment"]["village_code"]]
    if event_type in _COURSE_EVENTS:
        return list(data["course"]["region_codes"])
    if event_type in _PROGRAMME_EVENTS:
        return list(data["programme"]["region_codes"])
    if event_type in _STOCK_EVENTS or event_type in _RESULTS:
        return [data["village_code"]]
    return []


def agencies_of(event_type, data, source_agency=None):
    """The agencies whose staff an event concerns: the owner of the
    programme, point or course (and, for a blocked benefit, the agency
    whose programme holds the place: both can coordinate)."""
    if event_type in _ENTITLEMENT_EVENTS:
        found = [data["entitlement"]["agency"]]
        if event_type == "entitlement.blocked":
            found.append(data["blocked_by"]["agency"])
    elif event_type in _PROGRAMME_EVENTS:
        found = [data["programme"]["agency"]]
    elif event_type in _COURSE_EVENTS:
        found = [data["course"]["provider_agency"]]
    elif event_type in _ENROLMENT_EVENTS:
        found = [data["enrolment"]["provider_agency"]]
    elif event_type in _RESULTS:
        found = [data["provider_agency"]]
    elif event_type in _STOCK_EVENTS or event_type == "subscription.suspended":
        found = [data["agency"]]
    elif event_type in _HOUSEHOLD_EVENTS:
        found = [data["household"]["registering_agency"]]
    else:
        found = [source_agency] if source_agency else []
    return list(dict.fromkeys(a for a in found if a))


def in_regions(codes, regions):
    """Whether an event in ``codes`` lies in (or, for a course or programme
    over a wider area, overlaps) one of ``regions``; empty ``regions``:
    everywhere; an event about no place (a subscription suspended) passes."""
    if not regions or not codes:
        return True
    return any(within(code, regions) or any(within(r, [code]) for r in regions) for code in codes)


def check_channels(recipient, channels):
    """Why a rule's channel list is refused, or None."""
    if not channels or len(set(channels)) != len(channels):
        return "List one to three different channels, the first tried first."
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        return f"Unknown channel {unknown[0]!r}; channels are {', '.join(CHANNELS)}."
    if recipient in ("head", "person") and "email" in channels:
        return "The registry holds a phone number for a person, not an email address: use whatsapp or sms."
    return None
