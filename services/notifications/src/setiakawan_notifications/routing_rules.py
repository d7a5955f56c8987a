"""Use cases of the platform's admins: the routing rules, which map an
event type to a recipient, a channel order and a template."""
from setiakawan_contract import event_types as contract_types

from setiakawan_kit.errors import OutOfScope, RuleBroken

from .rules import access, messages as templates, routing
from .storage import routing as storage


def all_rules(uow):
    return storage.all_rules(uow)


def save(uow, identity, event_type, recipient, body):
    """Set the rule for an event type and recipient (made if new)."""
    if not access.edits_rules(identity):
        raise OutOfScope("Only an admin of the provincial social office edits the routing rules.")
    if recipient not in routing.RECIPIENTS:
        raise RuleBroken(f"Recipients are {', '.join(routing.RECIPIENTS)}.", field="recipient")
    if event_type not in routing.ROUTABLE:
        raise RuleBroken(f"The service does not receive {event_type} events.", field="event_type")
    why = routing.check_channels(recipient, body["channels"])
    if why:
        raise RuleBroken(why, field="channels")
    template = body.get("template") or event_type
    if template not in templates.event_types():
        raise RuleBroken(f"No template {template}; templates are {', '.join(templates.event_types())}.",
                         field="template")
    _check_renders(event_type, template, body["language"])
    _check_recipient(event_type, recipient)
    return storage.save(uow, dict(body, event_type=event_type, recipient=recipient, template=template,
                                  updated_by=identity.agency))


def _check_renders(event_type, template, language):
    """The template must render from this event type's data (its contract example)."""
    example = _example(event_type)
    try:
        templates.render(template, example, language)
    except Exception as exc:  # noqa: BLE001 - any failure to render is the rule's fault
        raise RuleBroken(f"Template {template} does not render from a {event_type} event: {exc}.",
                         field="template") from None


def _check_recipient(event_type, recipient):
    example = _example(event_type)
    if recipient == "head" and routing.household_of(event_type, example) is None:
        raise RuleBroken(f"A {event_type} event names no household.", field="recipient")
    if recipient == "person" and routing.person_of(event_type, example) is None:
        raise RuleBroken(f"A {event_type} event names no person.", field="recipient")


def _example(event_type):
    for kind in contract_types:
        if kind.name == event_type:
            return kind.example
    raise RuleBroken(f"No event type {event_type} in the contract.", field="event_type")
