"""The agencies' web console on the kit: ``@page`` entrypoints
(``pages.py``), and ``ConsoleMixin``, which gives a service's console its
sign-in with an agency token, sign-out, and the vendored static files."""
from importlib import resources

from marshmallow import Schema, fields, validate
from werkzeug.wrappers import Response

from ..problems import Problem
from .pages import SIGN_IN, Page, Redirect, Visit, page
from .session import safe_next
from .tables import Table

__all__ = ["ConsoleMixin", "Page", "Redirect", "Table", "Visit", "page"]

STATIC = resources.files("setiakawan_kit.console").joinpath("static")
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml"}


class SignInForm(Schema):
    token = fields.String(required=True, validate=validate.Length(1, 8000))
    next = fields.String(load_default=None, validate=validate.Length(max=2000))


class NextQuery(Schema):
    next = fields.String(load_default=None, validate=validate.Length(max=2000))


class ConsoleMixin:
    """Sign-in, sign-out and static files of a service's console. The
    service names its home page (``console_home``) and its menu
    (``console_nav``: [(message key, path, roles or None)])."""

    console_home = "/console/"
    console_nav = ()

    @page("GET", SIGN_IN, query=NextQuery, public=True)
    def console_sign_in_form(self, visit):
        return Page("console/sign_in.html", {"next": visit.query["next"] or "", "error": None})

    @page("POST", SIGN_IN, form=SignInForm, public=True)
    def console_sign_in(self, visit):
        token = "".join(visit.form["token"].split())
        try:
            visit.read_token(token)
        except Problem as exc:
            return Page("console/sign_in.html", {"next": visit.form["next"] or "", "error": exc.detail}, status=401)
        return Redirect(safe_next(visit.form["next"], self.console_home), session=token)

    @page("POST", "/console/sign-out", public=True)
    def console_sign_out(self, visit):
        return Redirect(SIGN_IN, session="")

    @page("GET", "/console/static/<name>", public=True)
    def console_static(self, visit, name):
        suffix = name[name.rfind("."):] if "." in name else ""
        item = STATIC.joinpath(name)
        if suffix not in STATIC_TYPES or not item.is_file():
            raise Problem(404, "Not found", f"No static file {name!r}.")
        return Response(item.read_bytes(), content_type=STATIC_TYPES[suffix],
                        headers={"Cache-Control": "public, max-age=86400"})
