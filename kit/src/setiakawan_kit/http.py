"""HTTP entrypoints with Setiakawan's conventions: bearer-token identity,
JSON bodies validated by marshmallow, RFC 9457 problem documents for every
error (a 4xx for bad input, never a 500), and request latency metrics.

    @api("POST", "/households", body=HouseholdSchema, response=HouseholdOut, roles=("operator",),
         status=201, problems={409: "The KK number or a NIK is registered already"})
    def register(self, call):           # call.identity, call.body, call.query
        ...
        return 201, {"id": ...}

The declaration is also what the service's OpenAPI document says
(``openapi.py``): ``body`` a marshmallow schema of a JSON body, or the
media type (or a tuple of them) of a body the method reads itself
(``body="text/csv"``: ``call.request.stream``); ``headers`` a schema of request headers (fields
named by ``data_key``), loaded into ``call.headers``; ``response`` the schema of the answer, in a
list (``response=[Schema]``) for a JSON array; ``content_type`` the media
type of a non-JSON answer; ``answers`` other statuses answered with the
same body (``{503: "..."}``); ``problems`` the problem documents the
method's use cases can answer beyond those the kit derives (see
``openapi.derived_problems``).
"""
import inspect
import json
import logging
import time
import uuid
from dataclasses import dataclass
from functools import partial

import psycopg2.errors
from eventlet.event import Event
from marshmallow import ValidationError
from nameko.extensions import SharedExtension
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from . import auth, errors, metrics, outages
from .context import acting_for, is_correlation_id
from .problems import (Problem, bad_request, content_too_large, invalid, problem_response, unavailable,
                       unsupported_media_type)

log = logging.getLogger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
#: a request whose transaction lost a deadlock or a serialization conflict runs again, up to this many times in all
ATTEMPTS_ON_CONFLICT = 3
MAX_BODY_BYTES = 10 * 1024 * 1024
JSON = "application/json"


@dataclass
class Call:
    """What an HTTP entrypoint method receives besides its path values."""

    identity: auth.Identity
    body: object
    query: dict
    request: Request
    correlation_id: str
    headers: dict = None


def _http_problem(exc):
    return Problem(exc.code, exc.name, exc.description, kind=exc.name.lower().replace(" ", "-"))


class ProblemWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # eventlet's input decodes the chunks and ends at the last one; told so,
            # werkzeug reads it (else a chunked body reads as empty). read_capped caps it.
            environ["wsgi.input_terminated"] = True
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except HTTPException as exc:  # unknown route or method
            allow = exc.get_headers() and [h for h in exc.get_headers() if h[0] == "Allow"]
            if request.path.startswith("/console/"):  # a person's browser: a page, not a problem document
                response = Response(f'<!doctype html><html lang="en"><title>{exc.code} {exc.name}</title>'
                                    f'<h1>{exc.code} {exc.name}</h1><p><a href="/console/">Setiakawan</a></p>',
                                    status=exc.code, headers=allow, content_type="text/html; charset=utf-8")
            else:
                response = _http_problem(exc).response(headers=allow)
        return response(environ, start_response)


class ProblemWebServer(WebServer):
    def get_wsgi_app(self):
        return ProblemWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, **kwargs):
        server = super().get_wsgi_server(sock, wsgi_app, **kwargs)
        # eventlet formats every request's access line before its logger can say it is off (below INFO)
        server.log_output = server.log.isEnabledFor(logging.INFO)
        return server


class TokenVerification(SharedExtension):
    """One token verifier per service process (its JWKS caches are shared)."""

    def setup(self):
        try:
            self.verifier = auth.TokenVerifier.from_config(self.container.config)
        except ValueError as exc:
            raise RuntimeError(f"{exc} (setting TOKEN_ISSUERS)") from None


class ApiEntrypoint(HttpRequestHandler):
    server = ProblemWebServer()
    tokens = TokenVerification()

    def __init__(self, method, url, body=None, response=None, query=None, headers=None, roles=None,
                 public=False, summary=None, status=200, tags=None, problems=None, content_type=JSON,
                 answers=None, **kwargs):
        #: a JSON body's schema; ``body_types``: the media types the body may have
        #: (``body="text/csv"``, or several: ``body=("text/csv", XLSX)``)
        read_itself = isinstance(body, str) or (isinstance(body, (tuple, list)) and all(isinstance(b, str)
                                                                                       for b in body))
        self.body_schema = None if read_itself else body
        self.body_types = ((body,) if isinstance(body, str) else tuple(body)) if read_itself else (
            (JSON,) if body is not None else ())
        self.body_type = self.body_types[0] if self.body_types else None
        #: the answer's schema; ``response_many``: the answer is a list of them
        self.response_many = isinstance(response, (list, tuple))
        self.response_schema = response[0] if self.response_many else response
        self.content_type = content_type
        self.query_schema = query
        self.header_schema = headers
        self.roles = tuple(roles or ())
        self.public = public
        self.summary = summary
        self.status = status
        self.tags = tags
        #: problem answers the use cases can give besides the derived ones: {status: description}
        self.problems = dict(problems or {})
        #: other statuses answered with the same body as ``status``: {status: description}
        self.answers = dict(answers or {})
        # 4xx outcomes are logged by nameko as warnings, without a traceback
        kwargs.setdefault("expected_exceptions", (Problem, ValidationError, errors.DomainError))
        super().__init__(method, url, **kwargs)

    def setup(self):
        super().setup()
        # the method's parameters are checked once, here, not at every request as nameko's entrypoints do
        check_parameters(getattr(self.container.service_cls, self.method_name), self.method, self.url)

    def handle_request(self, request):
        request.shallow = False
        started = time.perf_counter()
        correlation_id = _correlation_id(request.headers.get(CORRELATION_HEADER))
        try:
            call = self._read(request, correlation_id)
            response = self._run(call, request)
        except Exception as exc:  # noqa: BLE001 - every error becomes a problem document
            response = self.response_from_exception(exc)
            _drain(request, response)
        response.headers[CORRELATION_HEADER] = correlation_id
        metrics.HTTP_LATENCY.labels(self.container.service_name, request.method, self.url,
                                    str(response.status_code)).observe(time.perf_counter() - started)
        return response

    def _read(self, request, correlation_id):
        identity = None
        if not self.public:
            identity = self.tokens.verifier.read(auth.bearer(request.headers.get("Authorization")))
            if self.roles:
                auth.require_role(identity, *self.roles)
        query = request.args.to_dict()
        if _has_nul(query):
            raise invalid({"query": ["Text may not contain the NUL character."]},
                          "The query parameters are not valid.")
        if self.query_schema is not None:
            try:
                query = _instance(self.query_schema).load(query)
            except ValidationError as exc:
                raise invalid(exc.normalized_messages(), "The query parameters are not valid.") from None
        headers = self._load_headers(request) if self.header_schema is not None else {}
        body = None
        if self.body_types and request.mimetype not in self.body_types:
            raise unsupported_media_type(
                f"The body must be {' or '.join(self.body_types)}, not {request.mimetype or 'missing'}.")
        if self.body_schema is not None:
            body = self._load_body(request)
        return Call(identity=identity, body=body, query=query, request=request,
                    correlation_id=correlation_id, headers=headers)

    def _load_headers(self, request):
        schema = _instance(self.header_schema)
        names = [field.data_key or name for name, field in schema.load_fields.items()]
        try:
            return schema.load({name: request.headers[name] for name in names if name in request.headers})
        except ValidationError as exc:
            raise invalid(exc.normalized_messages(), "The request headers are not valid.") from None

    def _load_body(self, request):
        raw = read_capped(request, MAX_BODY_BYTES)
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise bad_request(f"The body is not valid JSON: {exc}.") from None
        if _has_nul(data):  # PostgreSQL stores no NUL in text or jsonb
            raise invalid({"body": ["Text may not contain the NUL character (\\u0000)."]})
        try:
            return _instance(self.body_schema).load(data)
        except ValidationError as exc:
            raise invalid(exc.normalized_messages()) from None

    def _run(self, call, request):
        context_data = {"correlation_id": call.correlation_id, **acting_for(call.identity)}
        args, kwargs = (call,), dict(request.path_values)
        for attempt in range(1, ATTEMPTS_ON_CONFLICT + 1):
            done = Event()
            self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                        handle_result=partial(self.handle_result, done))
            try:
                return self.response_from_result(done.wait())
            except psycopg2.extensions.TransactionRollbackError:
                # PostgreSQL undid the whole transaction, so running it again is safe; a
                # deadlock between two requests is the server's choice of a victim, not an outage
                if attempt == ATTEMPTS_ON_CONFLICT:
                    raise
                log.info("%s %s lost a deadlock or serialization conflict; running it again", self.method, self.url)

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        status, headers, payload = self.status, None, result
        if isinstance(result, tuple):
            if len(result) == 3:
                status, headers, payload = result
            else:
                status, payload = result
        if payload is None:
            return Response("", status=status, headers=headers)
        if self.content_type != JSON:
            return Response(payload, status=status, headers=headers, mimetype=self.content_type)
        if self.response_schema is not None:
            if isinstance(payload, list) != self.response_many:
                raise TypeError(f"{self.method} {self.url} answered a {type(payload).__name__}, but declares "
                                f"{'a list' if self.response_many else 'one object'}")
            payload = _instance(self.response_schema, self.response_many).dump(payload)
        return Response(json.dumps(payload, ensure_ascii=False, default=str), status=status, headers=headers,
                        content_type=JSON)

    def response_from_exception(self, exc):
        if isinstance(exc, errors.DomainError):
            return errors.problem(exc).response()
        if isinstance(exc, Problem):
            return exc.response(headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)}
                                if exc.status == 503 else None)
        if isinstance(exc, HTTPException):
            return _http_problem(exc).response()
        if isinstance(exc, ValidationError):
            return invalid(exc.normalized_messages()).response()
        dependency = outages.note(self.container.service_name, exc)
        if dependency is not None:  # the dependency's own log line says it, once
            return unavailable(dependency).response(headers={"Retry-After": str(outages.RETRY_AFTER_SECONDS)})
        if isinstance(exc, psycopg2.errors.UniqueViolation):
            return Problem(409, "Conflict", "A concurrent request stored the same thing first; "
                           "read it and try again if still needed.", kind="conflict").response()
        log.error("unexpected error in %s %s", self.method, self.url, exc_info=exc)
        return problem_response({"type": "urn:setiakawan:problem:internal", "title": "Internal error",
                                 "status": 500, "detail": "The service failed; the error is logged."})


def check_parameters(method, http_method, url):
    """Raise TypeError unless ``method`` takes (self, call) and the route's variables."""
    rule = Rule(url)
    Map([rule])  # binding the rule to a map is what parses its variables
    try:
        inspect.signature(method).bind(None, None, **dict.fromkeys(rule.arguments))
    except TypeError as exc:
        raise TypeError(f"{method.__qualname__} cannot answer {http_method} {url}: it must take "
                        f"(self, call{''.join(', ' + name for name in sorted(rule.arguments))}): {exc}") from None


def read_capped(request, limit):
    """The whole body, refused (413) past ``limit`` bytes whether or not
    the client announced its length: a chunked body is read only up to
    the limit."""
    if (request.content_length or 0) > limit:
        raise content_too_large(f"The body is larger than {limit} bytes.")
    parts, size = [], 0
    while block := request.stream.read(min(65536, limit + 1 - size)):
        parts.append(block)
        size += len(block)
        if size > limit:
            raise content_too_large(f"The body is larger than {limit} bytes.")
    return b"".join(parts)


def _drain(request, response):
    """Read what is left of a refused request's body (up to the body limit),
    so that a client still sending it receives the problem document instead
    of a broken pipe; past the limit, close the connection instead."""
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return
    left = MAX_BODY_BYTES
    try:
        while left > 0 and (block := request.stream.read(min(65536, left))):
            left -= len(block)
    except (OSError, ValueError):
        return
    if left <= 0:
        response.headers["Connection"] = "close"


api = ApiEntrypoint.decorator

_schemas = {}


def _instance(schema_class, many=False):
    """One instance per schema (building one copies its fields: a tenth of a
    millisecond per request); marshmallow's load and dump keep no state in it."""
    schema = _schemas.get((schema_class, many))
    if schema is None:
        schema = _schemas[schema_class, many] = schema_class(many=many)
    return schema


def _has_nul(value):
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _correlation_id(header):
    """The caller's correlation id if it can travel in an event's envelope
    (``context.is_correlation_id``), else a new one."""
    if is_correlation_id(header):
        return header
    return str(uuid.uuid4())
