"""Domain errors: what a use case raises when a request cannot be done.
They name the outcome in the domain's terms and know nothing of HTTP; the
kit's ``@api`` answers each with its problem document (``problem()``)."""


class DomainError(Exception):
    """Base of the errors a use case raises; ``status`` and ``kind`` are
    what the problem document says."""

    status = 400
    title = "Bad request"
    kind = "bad-request"

    def __init__(self, detail, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """Nothing with that id, or nothing the caller may see (the two are one
    answer, so an id outside the caller's scope reveals nothing)."""

    status, title, kind = 404, "Not found", "not-found"


class Unauthenticated(DomainError):
    """A caller that is not who it says: a bad signature on a callback
    whose sender proves itself by signing, not by a token."""

    status, title, kind = 401, "Unauthorized", "unauthorized"


class OutOfScope(DomainError):
    """The caller may see the thing but not do this to it."""

    status, title, kind = 403, "Forbidden", "forbidden"


class Conflict(DomainError):
    """The thing's current state does not allow this (a finished course,
    an enrolment held already)."""

    status, title, kind = 409, "Conflict", "conflict"


class RuleBroken(DomainError):
    """The request is well formed but a rule refuses it; ``field`` names
    the part of the request the rule is about."""

    status, title, kind = 422, "Rule violated", "rule-violated"

    def __init__(self, detail, field=None, errors=None, **extra):
        super().__init__(detail, **extra)
        self.field = field
        #: every refused field as [{field, message}] when there are several
        self.errors = errors or ([{"field": field, "message": detail}] if field else None)


def problem(error):
    """The kit's problem document for a domain error."""
    from .problems import Problem  # the problem module is HTTP's; errors stay importable without it

    errors = getattr(error, "errors", None)
    extra = {k: v for k, v in error.extra.items() if v is not None}
    return Problem(error.status, error.title, error.detail, kind=error.kind, errors=errors, **extra)
