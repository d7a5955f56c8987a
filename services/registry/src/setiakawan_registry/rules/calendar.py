"""The registry's today: the calendar date in Indonesia's easternmost zone
(WIT, UTC+9, no daylight saving), the latest date anywhere in the country,
so that a birth or a consent dated today in any province is never "in the
future", whatever zone the server runs in (a server on UTC saw a baby born
before 07:00 WIB as born tomorrow)."""
from datetime import datetime, timedelta, timezone

WIT = timezone(timedelta(hours=9), "WIT")


def today():
    return datetime.now(WIT).date()
