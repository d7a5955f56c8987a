"""The rows reports are made from."""
from setiakawan_kit.auth import region_patterns


def programme_by_village(uow, programme_id, agency, regions):
    """Per village: entitlements planned, delivered, blocked, revoked, and
    Rupiah planned and delivered; every village for the programme's owner
    and partners, the caller's own for anyone else."""
    return uow.fetchall(
        "SELECT e.village_code,"
        " count(*) FILTER (WHERE e.status IN ('issued', 'delivered')) AS planned,"
        " count(*) FILTER (WHERE e.status = 'delivered') AS delivered,"
        " count(*) FILTER (WHERE e.status = 'blocked') AS blocked,"
        " count(*) FILTER (WHERE e.status = 'revoked') AS revoked,"
        " coalesce(sum(e.amount) FILTER (WHERE e.status IN ('issued', 'delivered')), 0) AS amount_planned,"
        " coalesce(sum(e.amount) FILTER (WHERE e.status = 'delivered'), 0) AS amount_delivered"
        " FROM entitlements e JOIN programmes p ON p.id = e.programme_id"
        " WHERE e.programme_id = %(programme)s AND (p.agency = %(agency)s OR %(agency)s = ANY(p.partners)"
        "   OR e.village_code LIKE ANY(%(patterns)s))"
        " GROUP BY e.village_code ORDER BY e.village_code",
        {"programme": str(programme_id), "agency": agency, "patterns": region_patterns(regions)})
