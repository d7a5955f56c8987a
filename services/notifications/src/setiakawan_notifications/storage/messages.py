"""The delivery log."""
from psycopg2.extras import execute_values

COLUMNS = ("id", "event_id", "event_type", "recipient_kind", "recipient_id", "route", "channels", "channel",
           "language", "urgent", "agency", "village_code", "subject", "body", "next_attempt_at")
#: what the log shows (never the body of a webhook or an address in full)
SHOWN = ("id, event_id, event_type, recipient_kind, recipient_id, route, channels, channel, language, urgent, agency,"
         " village_code, subject, status, attempts, next_attempt_at, masked_address, answer, gateway_id, created_at,"
         " sent_at, updated_at")


def insert(uow, rows):
    """Queue messages (dicts of COLUMNS); one already made for the same
    event, recipient and route is left alone. Returns how many are new."""
    if not rows:
        return 0
    values = [tuple(row[c] for c in COLUMNS) for row in rows]
    made = execute_values(uow.cursor, f"INSERT INTO messages ({', '.join(COLUMNS)}) VALUES %s"
                          " ON CONFLICT (event_id, recipient_kind, recipient_id, route) DO NOTHING RETURNING id",
                          values, fetch=True, page_size=max(100, len(values)))
    return len(made)


CLAIM = (
    "WITH due AS (SELECT id FROM messages WHERE status IN ('queued', 'failed') AND next_attempt_at <= now()"
    "  AND (leased_until IS NULL OR leased_until < now()) ORDER BY next_attempt_at LIMIT %s FOR UPDATE SKIP LOCKED)"
    " UPDATE messages m SET leased_until = now() + make_interval(secs => %s), lease_id = gen_random_uuid(),"
    "  attempts = m.attempts + 1, updated_at = now() FROM due WHERE m.id = due.id"
    " RETURNING m.id, m.lease_id, m.event_id, m.event_type, m.recipient_kind, m.recipient_id, m.route, m.channels, m.channel,"
    "  m.language, m.urgent, m.agency, m.village_code, m.subject, m.body, m.attempts, m.status, m.created_at,"
    "  (SELECT h.head_ref FROM households h WHERE m.recipient_kind = 'household'"
    "   AND h.household_id = m.recipient_id) AS head_ref,"
    "  (SELECT h.status FROM households h WHERE m.recipient_kind = 'household'"
    "   AND h.household_id = m.recipient_id) AS household_status")


def claim(uow, limit, lease_s):
    """Take up to ``limit`` due messages for ``lease_s`` seconds (a sender
    killed meanwhile lets them go when the lease ends), counting the attempt."""
    # without statistics (a log filled faster than autovacuum looks) PostgreSQL reads every due row
    # by bitmap and sorts them, 20 ms with 50,000 queued; the index read in order stops at the limit
    uow.later("SET LOCAL enable_bitmapscan = off")
    return uow.fetchall(CLAIM, (limit, lease_s))


def record(uow, outcomes):
    """Write each attempt's outcome: dicts with id, lease_id, status,
    channel, next_attempt_at, answer, gateway_id, masked_address,
    address_hash, sent_at, and uncounted (an attempt our own outage or a
    hold stopped: not counted). Only a message still held under the lease
    it was taken with is written (a sender slower than its lease has lost
    it to another); returns the ids written."""
    if not outcomes:
        return set()
    rows = execute_values(
        uow.cursor,
        "UPDATE messages m SET status = CASE WHEN m.status = 'delivered' THEN m.status ELSE v.status END,"
        " channel = v.channel, next_attempt_at = coalesce(v.next_attempt_at, m.next_attempt_at), answer = v.answer,"
        " gateway_id = coalesce(v.gateway_id, m.gateway_id), masked_address = coalesce(v.masked_address,"
        " m.masked_address), address_hash = coalesce(v.address_hash, m.address_hash),"
        " sent_at = coalesce(v.sent_at, m.sent_at), leased_until = NULL, lease_id = NULL, updated_at = now(),"
        " attempts = m.attempts - CASE WHEN v.uncounted THEN 1 ELSE 0 END"
        " FROM (VALUES %s) AS v(id, status, channel, next_attempt_at, answer, gateway_id, masked_address,"
        " address_hash, sent_at, uncounted, lease_id) WHERE m.id = v.id AND m.lease_id = v.lease_id"
        " RETURNING m.id",
        [(o["id"], o["status"], o["channel"], o.get("next_attempt_at"), o.get("answer"), o.get("gateway_id"),
          o.get("masked_address"), o.get("address_hash"), o.get("sent_at"), bool(o.get("uncounted")), o["lease_id"])
         for o in outcomes],
        template="(%s::uuid, %s, %s, %s::timestamptz, %s, %s, %s, %s, %s::timestamptz, %s, %s::uuid)",
        page_size=len(outcomes), fetch=True)
    return {str(r["id"]) for r in rows}


def receipt(uow, gateway_id, reference, status, answer):
    """The gateway's delivery receipt for a sent message (found by the
    gateway's id, or by ours, which it was sent with): it becomes delivered
    or dead. A delivered one stays delivered. None if no sent message matches."""
    return uow.fetchone(
        "UPDATE messages SET status = %s, answer = %s, updated_at = now()"
        " WHERE (gateway_id = %s OR id = %s::uuid) AND status = 'sent'"
        " RETURNING id, event_id, event_type, recipient_kind, recipient_id, channel, agency, attempts",
        (status, answer, gateway_id, reference))


def status_of(uow, gateway_id, reference):
    row = uow.fetchone("SELECT status FROM messages WHERE gateway_id = %s OR id = %s::uuid LIMIT 1",
                       (gateway_id, reference))
    return row and row["status"]


def give_up_for(uow, recipient_kind, recipient_id, answer):
    """Every message still waiting for a recipient given up (a suspended subscription's)."""
    return uow.fetchall("UPDATE messages SET status = 'dead', answer = %s, updated_at = now()"
                        " WHERE recipient_kind = %s AND recipient_id = %s AND status IN ('queued', 'failed')"
                        " AND (leased_until IS NULL OR leased_until < now())"
                        " RETURNING id, event_id, event_type, recipient_kind, recipient_id, channel, agency, attempts",
                        (answer, recipient_kind, str(recipient_id)))


def message(uow, message_id):
    return uow.fetchone(f"SELECT {SHOWN} FROM messages WHERE id = %s", (str(message_id),))


def search(uow, agencies, patterns, filters, limit, offset):
    """Messages of events of ``agencies`` or in villages matching ``patterns``, newest first."""
    return uow.fetchall(
        f"SELECT {SHOWN} FROM messages WHERE (agency = ANY(%(agencies)s) OR village_code LIKE ANY(%(patterns)s))"
        " AND (%(status)s::text IS NULL OR status = %(status)s)"
        " AND (%(event_type)s::text IS NULL OR event_type = %(event_type)s)"
        " AND (%(channel)s::text IS NULL OR channel = %(channel)s)"
        " AND (%(recipient_id)s::uuid IS NULL OR recipient_id = %(recipient_id)s::uuid)"
        " ORDER BY created_at DESC, id LIMIT %(limit)s OFFSET %(offset)s",
        dict(filters, agencies=list(agencies), patterns=patterns, limit=limit, offset=offset))


def counts(uow):
    return uow.fetchall("SELECT channel, status, count(*) AS n FROM messages GROUP BY channel, status")
