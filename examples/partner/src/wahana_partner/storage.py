"""All of the service's SQL."""


def remember_household(uow, household, head_ref):
    """Keep a household's snapshot unless a newer one is kept already
    (redelivered and reordered events leave the newest)."""
    uow.execute(
        "INSERT INTO households (household_id, version, village_code, status, decile, head_ref)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (household_id) DO UPDATE SET version = EXCLUDED.version,"
        "   village_code = EXCLUDED.village_code, status = EXCLUDED.status, decile = EXCLUDED.decile,"
        "   head_ref = EXCLUDED.head_ref"
        " WHERE households.version < EXCLUDED.version",
        (household["household_id"], household["version"], household["village_code"], household["status"],
         household["decile"], head_ref))


def top_up_for(uow, month):
    return uow.fetchone("SELECT * FROM top_ups WHERE month = %s", (month,))


def is_our_programme(uow, programme_id):
    return uow.fetchone("SELECT 1 AS ours FROM top_ups WHERE programme_id = %s", (programme_id,)) is not None


def warehouse(uow):
    return uow.fetchone("SELECT * FROM warehouse")


def add_warehouse(uow, point_id, village_code):
    uow.execute("INSERT INTO warehouse (point_id, village_code) VALUES (%s, %s)", (point_id, village_code))


def add_top_up(uow, programme_id, month, name, packages):
    uow.execute("INSERT INTO top_ups (programme_id, month, name, packages, issued, blocked)"
                " VALUES (%s, %s, %s, %s, 0, 0)", (programme_id, month, name, packages))


def record_activation(uow, programme_id, issued, blocked):
    uow.execute("UPDATE top_ups SET issued = %s, blocked = %s WHERE programme_id = %s",
                (issued, blocked, programme_id))


def forget_top_up(uow, programme_id):
    uow.execute("DELETE FROM top_ups WHERE programme_id = %s", (programme_id,))


def remember_entitlement(uow, entitlement, blocked_by=None):
    blocked_by = blocked_by or {}
    uow.execute(
        "INSERT INTO entitlements (entitlement_id, version, programme_id, household_id, status,"
        "   blocked_by_agency, blocked_by_name) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (entitlement_id) DO UPDATE SET version = EXCLUDED.version, status = EXCLUDED.status,"
        "   blocked_by_agency = EXCLUDED.blocked_by_agency, blocked_by_name = EXCLUDED.blocked_by_name"
        " WHERE entitlements.version < EXCLUDED.version",
        (entitlement["entitlement_id"], entitlement["version"], entitlement["programme_id"],
         entitlement["beneficiary_id"], entitlement["status"], blocked_by.get("agency"),
         blocked_by.get("programme_name")))


def households(uow, village_code=None):
    """Its households with what the top-ups did for each (newest month first)."""
    return uow.fetchall(
        "SELECT h.household_id, h.village_code, h.status, h.decile, t.month, e.entitlement_id,"
        "       e.status AS entitlement_status, e.blocked_by_agency, e.blocked_by_name"
        "  FROM households h"
        "  LEFT JOIN entitlements e ON e.household_id = h.household_id"
        "  LEFT JOIN top_ups t ON t.programme_id = e.programme_id"
        " WHERE %(village)s::text IS NULL OR h.village_code = %(village)s"
        " ORDER BY h.village_code, h.household_id, t.month DESC NULLS LAST",
        {"village": village_code})


def entitlement_to_deliver(uow, household_id, month):
    return uow.fetchone(
        "SELECT e.entitlement_id, e.status, h.head_ref, h.village_code"
        "  FROM entitlements e JOIN top_ups t USING (programme_id)"
        "  JOIN households h ON h.household_id = e.household_id"
        " WHERE e.household_id = %s AND t.month = %s", (household_id, month))


def delivery(uow, idempotency_key):
    return uow.fetchone("SELECT * FROM deliveries WHERE idempotency_key = %s", (idempotency_key,))


def add_delivery(uow, idempotency_key, entitlement_id, delivered_at):
    uow.execute("INSERT INTO deliveries (idempotency_key, entitlement_id, delivered_at) VALUES (%s, %s, %s)"
                " ON CONFLICT (idempotency_key) DO NOTHING", (idempotency_key, entitlement_id, delivered_at))
