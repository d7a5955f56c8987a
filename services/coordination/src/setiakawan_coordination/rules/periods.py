"""Periods the coordination figures are asked for: a month (``2026-12``),
a quarter (``2026-Q4``) or a year (``2026``), each a closed range of days."""
import calendar
import re
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

#: the month "this month" is, where the agencies are
INDONESIA = ZoneInfo("Asia/Jakarta")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    label: str
    starts_on: date
    ends_on: date

    def as_dict(self):
        return {"label": self.label, "starts_on": self.starts_on.isoformat(), "ends_on": self.ends_on.isoformat()}


def parse(text):
    """The period ``text`` names; ValueError (saying what is accepted) otherwise."""
    text = (text or "").strip()
    if found := _MONTH.match(text):
        year, month = int(found[1]), int(found[2])
        if not 1 <= month <= 12 or year < 1900:
            raise ValueError(f"{text} is not a month (like 2026-12)")
        return Period(text, date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))
    if found := _QUARTER.match(text):
        year, quarter = int(found[1]), int(found[2])
        first = 3 * quarter - 2
        return Period(text, date(year, first, 1), date(year, first + 2, calendar.monthrange(year, first + 2)[1]))
    if (found := _YEAR.match(text)) and int(found[1]) >= 1900:
        return Period(text, date(int(found[1]), 1, 1), date(int(found[1]), 12, 31))
    raise ValueError(f"{text!r} is not a period: a month (2026-12), a quarter (2026-Q4) or a year (2026)")


def current(today):
    """The month ``today`` falls in."""
    return parse(f"{today.year:04d}-{today.month:02d}")


def asked(text, today):
    """The period a request names, or the month ``today`` falls in when it names none."""
    return parse(text) if text else current(today)


def overlaps(period, starts_on, ends_on):
    return starts_on <= period.ends_on and ends_on >= period.starts_on


def recent(today, months=12):
    """Periods to choose from: the last ``months`` months, newest first,
    then this quarter and the last, this year and the last."""
    labels = []
    year, month = today.year, today.month
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    quarter = (today.month - 1) // 3 + 1
    labels.append(f"{today.year:04d}-Q{quarter}")
    labels.append(f"{today.year - 1:04d}-Q4" if quarter == 1 else f"{today.year:04d}-Q{quarter - 1}")
    labels += [f"{today.year:04d}", f"{today.year - 1:04d}"]
    return labels
