"""Partner webhook subscriptions."""

PUBLIC = "id, agency, url, event_types, region_codes, status, failures, suspended_at, created_at"


def insert(uow, row):
    return uow.fetchone("INSERT INTO subscriptions (id, agency, url, event_types, region_codes, secret)"
                        " VALUES (%(id)s, %(agency)s, %(url)s, %(event_types)s, %(region_codes)s, %(secret)s)"
                        f" RETURNING {PUBLIC}, secret", row)


def subscription(uow, subscription_id, lock=False):
    return uow.fetchone(f"SELECT {PUBLIC} FROM subscriptions WHERE id = %s AND status <> 'deleted'"
                        + (" FOR UPDATE" if lock else ""), (str(subscription_id),))


def of_agency(uow, agency):
    return uow.fetchall(f"SELECT {PUBLIC} FROM subscriptions WHERE agency = %s AND status <> 'deleted'"
                        " ORDER BY created_at, id", (agency,))


def active_for(uow, event_types):
    return uow.fetchall("SELECT id, agency, event_types, region_codes FROM subscriptions"
                        " WHERE status = 'active' AND event_types && %s::text[]", (list(event_types),))


def set_status(uow, subscription_id, status):
    return uow.fetchone(
        "UPDATE subscriptions SET status = %s, failures = CASE WHEN %s = 'active' THEN 0 ELSE failures END,"
        " suspended_at = CASE WHEN %s = 'suspended' THEN now() ELSE NULL END"
        f" WHERE id = %s RETURNING {PUBLIC}", (status, status, status, str(subscription_id)))


def delivered(uow, subscription_ids):
    if subscription_ids:
        uow.later("UPDATE subscriptions SET failures = 0 WHERE id = ANY(%s::uuid[]) AND failures > 0",
                  (sorted(subscription_ids),))


def failed(uow, subscription_id, suspend_after):
    """Count a failed delivery; the subscription's row if this one suspends it."""
    return uow.fetchone(
        "UPDATE subscriptions SET failures = failures + 1,"
        " status = CASE WHEN failures + 1 >= %s THEN 'suspended' ELSE status END,"
        " suspended_at = CASE WHEN failures + 1 >= %s THEN now() ELSE suspended_at END"
        f" WHERE id = %s AND status = 'active' RETURNING {PUBLIC}, status = 'suspended' AS suspended",
        (suspend_after, suspend_after, str(subscription_id)))


def for_sending(uow, subscription_ids):
    """The URL, secret and status of each (the secret is read only to sign)."""
    if not subscription_ids:
        return []
    return uow.fetchall("SELECT id, url, secret, status FROM subscriptions WHERE id = ANY(%s::uuid[])",
                        (list(subscription_ids),))
