"""Server-rendered pages for agency staff, beside a service's API and
with its conventions: the agency's token is the identity (kept in the
session cookie, see ``session.py``), roles and regions are checked by
the same use cases, bad input gets a 4xx page and changes nothing, and
every table of a page exports to CSV and Excel.

    @page("GET", "/console/coverage", query=CoverageQuery, roles=ANY)
    def coverage_page(self, visit):     # visit.identity, visit.token, visit.query, visit.form, visit.t
        ...
        return Page("coverage.html", {"report": report}, tables=[Table(...)])

Templates are Jinja2 (autoescaped) from the service package's
``templates/`` and the kit's; words from ``messages.yaml`` (``i18n.py``).
A POST needs a form (``form=`` a marshmallow schema) and its CSRF field.
"""
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from importlib import resources
from urllib.parse import quote, urlencode

import jinja2
import jwt
from eventlet.event import Event
from marshmallow import ValidationError
from nameko.extensions import SharedExtension
from nameko.web.handlers import HttpRequestHandler
from werkzeug.exceptions import HTTPException
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from .. import auth, errors, metrics, outages
from ..context import acting_for
from ..http import ProblemWebServer, TokenVerification
from ..problems import Problem
from . import i18n, session, tables

log = logging.getLogger(__name__)

LANGUAGE_COOKIE = "setiakawan_lang"
SIGN_IN = "/console/sign-in"
MAX_FORM_BYTES = 64 * 1024
#: scripts, styles and images of this site only; no frame may hold the pages
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
#: parameters the kit reads itself, not the page's query schema
KIT_PARAMETERS = ("lang", "export", "table")


@dataclass
class Page:
    template: str
    context: dict = field(default_factory=dict)
    tables: list = field(default_factory=list)
    status: int = 200


@dataclass
class Redirect:
    """A 303 to ``location``; with ``session`` a token, signed in with it; with ``session=""``, signed out."""

    location: str
    session: str = None


@dataclass
class Visit:
    """What a page method receives besides its path values."""

    identity: auth.Identity
    token: str
    query: dict
    form: dict
    request: object
    language: str
    catalog: object
    #: the token verifier's read (an Identity, or a 401 Problem): what signing in checks
    read_token: object = None

    def t(self, key, **values):
        return self.catalog.text(key, self.language, **values)


class _SignInFirst(Exception):
    pass


class Views(SharedExtension):
    """The Jinja2 environment and the words of one service process."""

    def setup(self):
        package = self.container.service_cls.__module__.split(".")[0]
        self.catalog = i18n.Catalog.of_packages("setiakawan_kit.console", package)
        loaders = []
        if resources.files(package).joinpath("templates").is_dir():
            loaders.append(jinja2.PackageLoader(package, "templates"))
        loaders.append(jinja2.PackageLoader("setiakawan_kit.console", "templates"))
        self.env = environment(jinja2.ChoiceLoader(loaders))
        value = self.container.config.get("CONSOLE_SECURE_COOKIES", True)
        #: false only where the console is reached over plain HTTP from another host (see README)
        self.secure_cookies = str(value).lower() not in ("false", "0", "no")


def environment(loader):
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)

    @jinja2.pass_context
    def number(context, value):
        return i18n.number(value, context["language"])

    @jinja2.pass_context
    def percent(context, value):
        return i18n.percent(value, context["language"])

    @jinja2.pass_context
    def day(context, value):
        return i18n.day(value, context["language"])

    @jinja2.pass_context
    def moment(context, value):
        return i18n.moment(value, context["language"])

    env.filters.update(number=number, percent=percent, day=day, moment=moment, rupiah=i18n.rupiah)
    return env


class PageEntrypoint(HttpRequestHandler):
    server = ProblemWebServer()
    tokens = TokenVerification()
    views = Views()

    def __init__(self, method, url, query=None, form=None, roles=None, public=False, **kwargs):
        self.query_schema = query
        self.form_schema = form
        self.roles = tuple(roles or ())
        self.public = public
        kwargs.setdefault("expected_exceptions", (Problem, ValidationError, errors.DomainError, _SignInFirst))
        super().__init__(method, url, **kwargs)

    def handle_request(self, request):
        request.shallow = False
        request.max_content_length = MAX_FORM_BYTES
        request.max_form_memory_size = MAX_FORM_BYTES
        started = time.perf_counter()
        language = i18n.choose(request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                               request.accept_languages)
        csrf_secret = request.cookies.get(session.CSRF_COOKIE)
        fresh_secret = None if csrf_secret else session.new_csrf_secret()
        token = request.cookies.get(session.SESSION_COOKIE)
        visit = Visit(identity=None, token=token, query={}, form={}, request=request, language=language,
                      catalog=self.views.catalog, read_token=self.tokens.verifier.read)
        try:
            self._visit(visit, csrf_secret)
            response = self._respond(visit, csrf_secret or fresh_secret)
        except _SignInFirst:
            response = self._to_sign_in(request)
        except Exception as exc:  # noqa: BLE001 - every error becomes a page with its status
            response = self._error_page(exc, visit, csrf_secret or fresh_secret)
        self._finish(response, request, fresh_secret)
        metrics.HTTP_LATENCY.labels(self.container.service_name, request.method, self.url,
                                    str(response.status_code)).observe(time.perf_counter() - started)
        return response

    def _visit(self, visit, csrf_secret):
        request = visit.request
        if visit.token:
            try:
                visit.identity = self.tokens.verifier.read(visit.token)
            except Problem:
                visit.identity = None
        if visit.identity is None and not self.public:
            raise _SignInFirst()
        if request.method == "POST":
            if not session.same_origin(request.headers.get("Origin"), request.host):
                raise Problem(403, "Forbidden", "The form was sent from another site.", kind="cross-site")
            if not session.csrf_ok(request.form.get(session.CSRF_FIELD), csrf_secret, visit.token):
                raise Problem(403, "Forbidden", "The form has expired or did not come from this page; "
                                                "open the page again and send it once more.", kind="csrf")
        if self.roles:
            auth.require_role(visit.identity, *self.roles)
        visit.query = self._load(self.query_schema, {k: v for k, v in request.args.items()
                                                     if k not in KIT_PARAMETERS})
        if request.method == "POST":
            visit.form = self._load(self.form_schema, {k: v for k, v in request.form.items()
                                                       if k != session.CSRF_FIELD})
        return visit

    @staticmethod
    def _load(schema, values):
        if schema is None:
            return values
        if any("\x00" in k or "\x00" in v for k, v in values.items()):
            raise ValidationError({"_": ["Text may not contain the NUL character."]})
        return schema().load(values)

    def _respond(self, visit, csrf_secret):
        done = Event()
        context_data = acting_for(visit.identity)
        args, kwargs = (visit,), dict(visit.request.path_values)
        self.check_signature(args, kwargs)
        self.container.spawn_worker(self, args, kwargs, context_data=context_data,
                                    handle_result=partial(self.handle_result, done))
        result = done.wait()
        if isinstance(result, Response):
            return result
        if isinstance(result, Redirect):
            return self._redirect(result)
        export = visit.request.args.get("export")
        if export:
            return self._export(result, export, visit.request.args.get("table"))
        return self.render(result, visit, csrf_secret)

    def render(self, page, visit, csrf_secret):
        tables_by_name = {t.name: t for t in page.tables}
        html = self.views.env.get_template(page.template).render(
            **page.context, visit=visit, identity=visit.identity, language=visit.language, t=visit.t,
            csrf_field=session.CSRF_FIELD, csrf=session.csrf_token(csrf_secret, visit.token),
            tables=tables_by_name, path=visit.request.path, query_string=_query_without(visit.request, "lang"),
            nav=getattr(self.container.service_cls, "console_nav", ()))
        return Response(html, status=page.status, content_type="text/html; charset=utf-8")

    def _export(self, page, export, name):
        table = next((t for t in page.tables if t.name == name), None)
        if export not in tables.EXPORTS or table is None or not isinstance(page, Page):
            raise ValidationError({"table": [f"This page exports {', '.join(t.name for t in page.tables) or 'nothing'}"
                                             f" as {' or '.join(tables.EXPORTS)}."]})
        body, mimetype = ((tables.as_csv(table), "text/csv; charset=utf-8") if export == "csv"
                          else (tables.as_xlsx(table), tables.XLSX))
        return Response(body, content_type=mimetype,
                        headers={"Content-Disposition": f'attachment; filename="{table.name}.{export}"'})

    def _to_sign_in(self, request):
        target = request.full_path.rstrip("?") if request.method == "GET" else ""
        location = SIGN_IN + (f"?next={_quote(target)}" if target else "")
        if request.headers.get("HX-Request"):  # htmx follows this header with a whole page
            return Response("", status=204, headers={"HX-Redirect": location})
        return redirect(location, code=303)

    def _error_page(self, exc, visit, csrf_secret):
        status, title, detail, fields = _error_of(exc, self.container.service_name, self.method, self.url)
        page = Page("console/error.html", {"status": status, "title": title, "detail": detail, "fields": fields},
                    status=status)
        try:
            return self.render(page, visit, csrf_secret)
        except Exception:  # noqa: BLE001 - the error page itself failed: say so plainly
            log.exception("the console's error page failed")
            return Response(f"{status} {title}", status=status, content_type="text/plain; charset=utf-8")

    def _finish(self, response, request, fresh_secret):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        secure = self.views.secure_cookies
        if fresh_secret:
            response.set_cookie(session.CSRF_COOKIE, fresh_secret, path="/console", secure=secure, httponly=True,
                                samesite="Strict")
        asked = request.args.get("lang")
        if asked in i18n.LANGUAGES and asked != request.cookies.get(LANGUAGE_COOKIE):
            response.set_cookie(LANGUAGE_COOKIE, asked, max_age=365 * 86400, path="/console", secure=secure,
                                httponly=True, samesite="Lax")

    def _redirect(self, result):
        response = redirect(result.location, code=303)
        secure = self.views.secure_cookies
        if result.session:  # for as long as the token lives
            claims = jwt.decode(result.session, options={"verify_signature": False})
            seconds = session.session_seconds(claims.get("exp"), datetime.now(timezone.utc).timestamp())
            response.set_cookie(session.SESSION_COOKIE, result.session, max_age=seconds, path="/console",
                                secure=secure, httponly=True, samesite="Strict")
        elif result.session == "":
            response.delete_cookie(session.SESSION_COOKIE, path="/console", secure=secure, httponly=True,
                                   samesite="Strict")
        return response


def _error_of(exc, service, method, url):
    """(status, title, detail, {field: [messages]}) of what went wrong."""
    if isinstance(exc, errors.DomainError):
        exc = errors.problem(exc)
    if isinstance(exc, Problem):
        fields = {}
        for error in exc.errors or []:  # the problem document's [{field, message}]
            fields.setdefault(error.get("field", "_"), []).append(error.get("message", ""))
        return exc.status, exc.title, exc.detail, fields
    if isinstance(exc, ValidationError):
        messages = exc.normalized_messages()
        return 400, "Bad request", None, messages if isinstance(messages, dict) else {"_": messages}
    if isinstance(exc, HTTPException):
        return exc.code, exc.name, exc.description, {}
    if outages.note(service, exc) is not None:
        return 503, "Service unavailable", "A service this page needs is not reachable; try again soon.", {}
    log.error("unexpected error in %s %s", method, url, exc_info=exc)
    return 500, "Internal error", "The service failed; the error is logged.", {}


def _query_without(request, *names):
    return urlencode([(k, v) for k, v in request.args.items(multi=True) if k not in names])


def _quote(text):
    return quote(text, safe="/?=&.-_~%")


page = PageEntrypoint.decorator
