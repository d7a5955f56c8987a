"""RFC 9457 problem documents: every error a service returns over HTTP."""
import json

from werkzeug.wrappers import Response

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:setiakawan:problem:"


class Problem(Exception):
    """An error with an HTTP status, raised anywhere in a request."""

    def __init__(self, status, title, detail=None, kind=None, errors=None, **extra):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.errors = errors
        self.extra = extra

    def document(self):
        doc = {"type": TYPE_BASE + self.kind, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc

    def response(self, headers=None):
        return problem_response(self.document(), headers)


def problem_response(document, headers=None):
    return Response(json.dumps(document, ensure_ascii=False, default=str), status=document["status"],
                    headers=headers, content_type=PROBLEM_JSON)


def field_errors(messages, prefix=""):
    """marshmallow's nested messages as a flat list of {field, message}."""
    out = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.extend(field_errors(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out.extend({"field": prefix or "_body", "message": m} for m in messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.extend(field_errors(value, f"{prefix}[{i}]"))
    else:
        out.append({"field": prefix or "_body", "message": str(messages)})
    return out


def bad_request(detail, **kw):
    return Problem(400, "Bad request", detail, kind="bad-request", **kw)


def unauthorized(detail):
    return Problem(401, "Unauthorized", detail, kind="unauthorized")


def forbidden(detail):
    return Problem(403, "Forbidden", detail, kind="forbidden")


def not_found(detail):
    return Problem(404, "Not found", detail, kind="not-found")


def length_required(detail):
    return Problem(411, "Length required", detail, kind="length-required")


def content_too_large(detail):
    return Problem(413, "Content too large", detail, kind="content-too-large")


def unsupported_media_type(detail):
    return Problem(415, "Unsupported media type", detail, kind="unsupported-media-type")


def conflict(detail, **kw):
    return Problem(409, "Conflict", detail, kind="conflict", **kw)


def invalid(messages, detail="The request body does not match the schema."):
    return Problem(422, "Validation failed", detail, kind="validation-failed",
                   errors=field_errors(messages))


def unavailable(dependency):
    return Problem(503, "Service unavailable", f"The service cannot reach its {dependency} now; try again later.",
                   kind="unavailable", dependency=dependency)
