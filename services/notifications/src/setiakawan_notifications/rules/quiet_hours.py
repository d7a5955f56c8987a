"""When a message to a person may go out: never between 21:00 and 06:00
in the recipient's own time zone, unless it is urgent. The zone follows
the province of the village code (Indonesia has three: WIB, WITA, WIT)."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
ZONE_NAMES = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}

#: Kemendagri province codes outside WIB (Sumatra, Java, West and Central Kalimantan)
_WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96"}

QUIET_FROM, QUIET_UNTIL = time(21, 0), time(6, 0)


def zone_of(region_code):
    """The time zone of a Kemendagri code at any level (its province's)."""
    province = region_code[:2]
    if province in _WITA_PROVINCES:
        return WITA
    if province in _WIT_PROVINCES:
        return WIT
    return WIB


def send_at(now, region_code, urgent=False, quiet=(QUIET_FROM, QUIET_UNTIL)):
    """The earliest time (aware, in the recipient's zone) a message to a
    person in ``region_code`` may go out, given ``now`` (aware); ``quiet``:
    the (from, until) local times nothing goes out between (equal: never quiet)."""
    local = now.astimezone(zone_of(region_code))
    start, end = quiet
    if urgent or start == end or not _inside(local.time(), start, end):
        return local
    until = datetime.combine(local.date(), end, tzinfo=local.tzinfo)
    return until if local.time() < end else until + timedelta(days=1)


def _inside(moment, start, end):
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end
