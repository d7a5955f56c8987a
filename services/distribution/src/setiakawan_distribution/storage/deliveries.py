"""Deliveries (proof that aid was handed over)."""


def by_key(uow, officer_agency, idempotency_key):
    return uow.fetchone("SELECT * FROM deliveries WHERE officer_agency = %s AND idempotency_key = %s",
                        (officer_agency, idempotency_key))


def of_entitlement(uow, entitlement_id):
    return uow.fetchone("SELECT * FROM deliveries WHERE entitlement_id = %s", (str(entitlement_id),))


def insert(uow, row):
    return uow.fetchone(
        "INSERT INTO deliveries (id, entitlement_id, idempotency_key, officer_agency, recipient_ref, delivered_at,"
        " village_code, latitude, longitude, photo_sha256, point_id) VALUES (%(id)s, %(entitlement_id)s,"
        " %(idempotency_key)s, %(officer_agency)s, %(recipient_ref)s, %(delivered_at)s, %(village_code)s,"
        " %(latitude)s, %(longitude)s, %(photo_sha256)s, %(point_id)s) RETURNING *", row)
