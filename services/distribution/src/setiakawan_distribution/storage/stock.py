"""Distribution points, their stock per item, and the moves of stock."""


def insert_point(uow, row):
    return uow.fetchone("INSERT INTO points (id, agency, name, kind, village_code)"
                        " VALUES (%(id)s, %(agency)s, %(name)s, %(kind)s, %(village_code)s) RETURNING *", row)


def point(uow, point_id):
    return uow.fetchone("SELECT * FROM points WHERE id = %s", (str(point_id),))


def points(uow, agency, patterns):
    return uow.fetchall("SELECT * FROM points WHERE agency = %s OR village_code LIKE ANY(%s)"
                        " ORDER BY village_code, name", (agency, patterns))


def levels(uow, point_id):
    return uow.fetchall("SELECT * FROM stock WHERE point_id = %s ORDER BY item", (str(point_id),))


def level(uow, point_id, item, lock=False):
    return uow.fetchone("SELECT * FROM stock WHERE point_id = %s AND item = %s" + (" FOR UPDATE" if lock else ""),
                        (str(point_id), item))


def ensure_item(uow, point_id, item, unit, threshold=None):
    """The point's stock line for ``item``, made if new (a threshold given is set)."""
    return uow.fetchone(
        "INSERT INTO stock (point_id, item, unit, low_threshold) VALUES (%s, %s, %s, coalesce(%s, 0))"
        " ON CONFLICT (point_id, item) DO UPDATE SET low_threshold = coalesce(%s, stock.low_threshold)"
        " RETURNING *", (str(point_id), item, unit, threshold, threshold))


def move(uow, point_id, item, on_hand_change, allocated_change, kind, quantity, moved_by, entitlement_id=None,
         reference=None):
    """Apply a move in one statement (the table's checks refuse a level
    below zero: psycopg2's CheckViolation) and record it; returns the
    level before and after."""
    row = uow.fetchone(
        "UPDATE stock SET on_hand = on_hand + %(on_hand)s, allocated = allocated + %(allocated)s"
        " WHERE point_id = %(point)s AND item = %(item)s RETURNING *, on_hand - %(on_hand)s AS on_hand_before,"
        " allocated - %(allocated)s AS allocated_before",
        {"point": str(point_id), "item": item, "on_hand": on_hand_change, "allocated": allocated_change})
    if row is None:
        return None
    uow.later("INSERT INTO stock_moves (point_id, item, move, quantity, entitlement_id, reference, moved_by)"
              " VALUES (%s, %s, %s, %s, %s, %s, %s)",
              (str(point_id), item, kind, quantity, entitlement_id and str(entitlement_id), reference, moved_by))
    return row


def moves(uow, point_id, item, limit):
    return uow.fetchall("SELECT * FROM stock_moves WHERE point_id = %s AND (%s::text IS NULL OR item = %s)"
                        " ORDER BY id DESC LIMIT %s", (str(point_id), item, item, limit))
