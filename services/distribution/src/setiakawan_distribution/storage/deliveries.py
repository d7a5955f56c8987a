"""Deliveries (proof that aid was handed over)."""
from .entitlements import DETAIL


def by_key(uow, officer_agency, idempotency_key):
    return uow.fetchone("SELECT * FROM deliveries WHERE officer_agency = %s AND idempotency_key = %s",
                        (officer_agency, idempotency_key))


#: prepared, as ``RECORD``: a handover's statements cost more to plan than to run
BEFORE_HANDOVER = (
    "SELECT (SELECT d.id FROM deliveries d WHERE d.officer_agency = $2 AND d.idempotency_key = $3) AS done_id, x.*,"
    " (SELECT jsonb_build_object('age', m.age, 'relationship', m.relationship) FROM household_members m"
    "  WHERE m.household_id = x.beneficiary_id AND m.person_ref = $4) AS member,"
    " EXISTS (SELECT 1 FROM group_members g WHERE g.group_id = x.beneficiary_id AND g.person_ref = $4) AS in_group"
    f" FROM (SELECT 1) one LEFT JOIN ({DETAIL} WHERE e.id = $1) x ON true")


def before_handover(uow, entitlement_id, officer_agency, idempotency_key, recipient_ref):
    """In one round trip: whether the key delivered already (``done_id``),
    the entitlement as ``DETAIL`` has it (``id`` None if there is none),
    the recipient as a member of the household (``member``: age and
    relationship) or whether of the group (``in_group``)."""
    return uow.prepared("distribution_before_handover", BEFORE_HANDOVER, ("uuid", "text", "text", "uuid"),
                        (str(entitlement_id), officer_agency, idempotency_key, str(recipient_ref))).fetchone()


DELIVERY_COLUMNS = ("id", "entitlement_id", "idempotency_key", "officer_agency", "recipient_ref", "delivered_at",
                    "village_code", "latitude", "longitude", "photo_sha256", "point_id", "received_at")
#: the entitlement marked delivered if it is still issued (its row locked, or waited for and read again),
#: and the delivery stored only then, in one statement
RECORD = (
    "WITH marked AS (UPDATE entitlements e SET status = 'delivered', version = e.version + 1, changed_at = now()"
    "  WHERE e.id = $2 AND e.status = 'issued' RETURNING e.*),"
    " stored AS (INSERT INTO deliveries (id, entitlement_id, idempotency_key, officer_agency, recipient_ref,"
    "  delivered_at, village_code, latitude, longitude, photo_sha256, point_id)"
    "  SELECT $1, marked.id, $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM marked"
    "  ON CONFLICT (officer_agency, idempotency_key) DO NOTHING RETURNING *)"
    " SELECT m.*, " + ", ".join(f"s.{c} AS delivery_{c}" for c in DELIVERY_COLUMNS)
    + " FROM marked m LEFT JOIN stored s ON true")
RECORD_COLUMNS = (("id", "uuid"), ("entitlement_id", "uuid"), ("idempotency_key", "text"), ("officer_agency", "text"),
                  ("recipient_ref", "uuid"), ("delivered_at", "timestamptz"), ("village_code", "text"),
                  ("latitude", "float8"), ("longitude", "float8"), ("photo_sha256", "text"), ("point_id", "uuid"))


def record(uow, row):
    """Mark the entitlement delivered and store the delivery, if the
    entitlement is still issued. Returns (entitlement, delivery): the
    entitlement's own row as it is now, or None when it was not issued any
    more; the delivery as stored, or None when it was not (not issued, or
    the officer's agency used the key already: then the entitlement's
    change must not stay, and the caller raises)."""
    found = uow.prepared("distribution_record_delivery", RECORD, tuple(t for _, t in RECORD_COLUMNS),
                         tuple(row[name] for name, _ in RECORD_COLUMNS)).fetchone()
    if found is None:
        return None, None
    delivery = {c: found.pop(f"delivery_{c}") for c in DELIVERY_COLUMNS}
    return found, (delivery if delivery["id"] is not None else None)
