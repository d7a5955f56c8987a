"""What the current unit of work is doing on whose behalf: the correlation
id carried end to end, the event that caused it, the acting agency. Held in a
context variable, which eventlet keeps per green thread."""
import contextvars
import re
from contextlib import contextmanager
from dataclasses import dataclass

from nameko.extensions import DependencyProvider


@dataclass(frozen=True)
class Context:
    correlation_id: str = None
    causation_id: str = None
    agency: str = None
    agency_kind: str = None  # as the agency's token names it; None when the service acts on its own


_current = contextvars.ContextVar("setiakawan_context", default=Context())
_CORRELATION_ID = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def is_correlation_id(value):
    """Whether a caller's ``value`` can travel as a correlation id (in an
    event's envelope, an access log row): up to 200 plain characters."""
    return isinstance(value, str) and _CORRELATION_ID.fullmatch(value) is not None


def current():
    return _current.get()


def set_current(context):
    return _current.set(context)


def reset(token):
    _current.reset(token)


def acting_for(identity):
    """The worker context data of a call made with ``identity`` (a token's
    ``auth.Identity``, or None): the agency and its kind, which the events
    the call publishes carry (``ce-agency``, ``ce-agencykind``)."""
    return {"agency": identity.agency if identity else None,
            "agency_kind": identity.kind if identity else None}


class WorkerContext(DependencyProvider):
    """Copies nameko's worker context data into the context variable in the
    worker's own green thread, so logs and published events carry it."""

    def worker_setup(self, worker_ctx):
        data = worker_ctx.context_data
        token = set_current(Context(
            correlation_id=data.get("correlation_id"),
            causation_id=data.get("causation_id"),
            agency=data.get("agency"),
            agency_kind=data.get("agency_kind"),
        ))
        worker_ctx.setiakawan_context_token = token

    def worker_teardown(self, worker_ctx):
        token = getattr(worker_ctx, "setiakawan_context_token", None)
        if token is not None:
            try:
                reset(token)
            except ValueError:  # set in another green thread; nothing to undo
                pass


@contextmanager
def caused_by(event, agency=None):
    """Act on behalf of ``event`` (its correlation id carried on, the event
    as the cause of what is published) while the block runs; ``agency``
    defaults to the current one."""
    held = current()
    token = set_current(Context(correlation_id=event.correlationid, causation_id=event.id,
                                agency=agency or held.agency,
                                agency_kind=None if agency else held.agency_kind))
    try:
        yield
    finally:
        reset(token)
