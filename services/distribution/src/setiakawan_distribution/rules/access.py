"""Who sees and does what. Agencies do not trust each other: a programme is
its owner's; its co-funding partners and agencies whose regions share
ground with it see it once active; a beneficiary's entitlements are seen by
the programme's owner and partners and by agencies covering the
beneficiary's village, and by nobody else."""
from setiakawan_kit.auth import within

WRITE_ROLES = ("admin", "operator", "field_officer")
MANAGE_ROLES = ("admin", "operator")


def regions_overlap(these, those):
    return any(within(a, [b]) or within(b, [a]) for a in these for b in those)


def runs(identity, programme):
    return identity.agency == programme["agency"] or identity.agency in (programme["partners"] or ())


def sees_programme(identity, programme):
    if identity.agency == programme["agency"]:
        return True
    if programme["status"] == "draft":
        return False
    return runs(identity, programme) or regions_overlap(identity.regions, programme["region_codes"])


def manages(identity, programme):
    return identity.agency == programme["agency"] and identity.role in MANAGE_ROLES


def sees_beneficiary(identity, programme, village_code):
    return runs(identity, programme) or identity.covers(village_code)


def delivers(identity, programme, village_code):
    """Whether the caller's field staff may hand this programme's aid over
    in ``village_code``: the programme's own agency and partners, or an
    agency covering the village (a village government handing out a
    provincial programme)."""
    return identity.role in WRITE_ROLES and sees_beneficiary(identity, programme, village_code)
