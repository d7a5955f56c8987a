"""Agency staff contacts."""


def insert(uow, row):
    return uow.fetchone(
        "INSERT INTO staff_contacts (id, agency, name, channel, address, language, region_codes, event_types)"
        " VALUES (%(id)s, %(agency)s, %(name)s, %(channel)s, %(address)s, %(language)s, %(region_codes)s,"
        " %(event_types)s) ON CONFLICT (agency, channel, address) DO NOTHING RETURNING *", row)


def of_agency(uow, agency):
    return uow.fetchall("SELECT * FROM staff_contacts WHERE agency = %s ORDER BY created_at, id", (agency,))


def contact(uow, contact_id):
    return uow.fetchone("SELECT * FROM staff_contacts WHERE id = %s", (str(contact_id),))


def delete(uow, contact_id):
    uow.execute("DELETE FROM staff_contacts WHERE id = %s", (str(contact_id),))


def of_agencies(uow, agencies):
    return uow.fetchall("SELECT * FROM staff_contacts WHERE agency = ANY(%s) ORDER BY created_at, id",
                        (list(agencies),))


def some(uow, contact_ids):
    if not contact_ids:
        return []
    return uow.fetchall("SELECT * FROM staff_contacts WHERE id = ANY(%s::uuid[])", (list(contact_ids),))
