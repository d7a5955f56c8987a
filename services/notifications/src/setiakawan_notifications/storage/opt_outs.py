"""Opt-outs: by person, or by the keyed hash of an address."""


def record(uow, channel, person_ref, address_hash, source, recorded_by):
    """Returns True if new."""
    target = "(channel, person_ref) WHERE person_ref IS NOT NULL" if person_ref else \
        "(channel, address_hash) WHERE address_hash IS NOT NULL"
    row = uow.fetchone("INSERT INTO opt_outs (channel, person_ref, address_hash, source, recorded_by)"
                       f" VALUES (%s, %s, %s, %s, %s) ON CONFLICT {target} DO NOTHING RETURNING channel",
                       (channel, person_ref and str(person_ref), address_hash, source, recorded_by))
    return row is not None


def remove(uow, channel, person_ref):
    return uow.fetchone("DELETE FROM opt_outs WHERE channel = %s AND person_ref = %s RETURNING channel",
                        (channel, str(person_ref))) is not None


def of_person(uow, person_ref):
    return uow.fetchall("SELECT channel, source, recorded_by, recorded_at FROM opt_outs WHERE person_ref = %s"
                        " ORDER BY channel", (str(person_ref),))


def matching(uow, person_refs, address_hashes):
    """{(channel, person_ref or address_hash)} among those given."""
    rows = uow.fetchall("SELECT channel, coalesce(person_ref::text, address_hash) AS who FROM opt_outs"
                        " WHERE person_ref = ANY(%s::uuid[]) OR address_hash = ANY(%s)",
                        (sorted(set(person_refs)), sorted(set(address_hashes))))
    return {(r["channel"], r["who"]) for r in rows}
