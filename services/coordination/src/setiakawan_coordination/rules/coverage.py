"""How the coordination figures are put together from the read model's
counts. Definitions, for a region and a period:

- a *poor* household: verified, decile at most the gap decile (4 by
  default), not merged into another;
- a household is *reached* when it holds an entitlement (issued or
  delivered) of any agency's programme whose period overlaps the period,
  or one of its members holds a seat (confirmed, completed or not) in a
  course whose first session falls in the period; *delivered* when an
  entitlement of the period was handed over;
- a *gap*: a poor household that nobody reached in the period;
- an *overlap prevented*: an entitlement the cross-agency ledger blocked
  because the household already held one of the same category and period
  from another programme, counted per pair of agencies."""

#: the kind of agency a programme's funding source suggests, for an agency whose events never named its kind
#: (the ce-agencykind extension is absent where a service acted alone, or a publisher does not send it)
FUNDING_KINDS = {"apbd_province": "province", "apbd_district": "district", "village_funds": "village",
                 "csr": "csr", "ngo": "ngo"}
#: a region whose share of poor households nobody reached is at least this is marked "high"
HIGH_GAP_SHARE = 0.5

AREA_COUNTS = ("households", "poor_households", "households_reached", "households_delivered", "gaps",
               "persons_trained", "persons_completed", "groups_reached")


def share(part, whole):
    return round(part / whole, 3) if whole else None


def gap_level(gaps, poor):
    """``none``, ``some`` or ``high``: how a region's gaps are shown."""
    if not gaps:
        return "none"
    return "high" if share(gaps, poor) >= HIGH_GAP_SHARE else "some"


def agency_kind(funding_sources):
    """The kind of agency its programmes' funding sources agree on, or None."""
    kinds = {FUNDING_KINDS[s] for s in funding_sources if s in FUNDING_KINDS}
    return kinds.pop() if len(kinds) == 1 else None


def area_line(code, name, counts):
    line = {"code": code, "name": name, **{key: int(counts.get(key) or 0) for key in AREA_COUNTS}}
    line["gap_share"] = share(line["gaps"], line["poor_households"])
    line["gap_level"] = gap_level(line["gaps"], line["poor_households"])
    line["agencies"] = int(counts.get("agencies") or 0)
    return line


def agencies(rows):
    """One line per agency from rows (agency, declared_kind or None,
    funding_source or None, programmes, courses, households_reached),
    busiest first. Its kind is the one its token named (declared_kind),
    else what its programmes' funding sources agree on, else None."""
    merged = {}
    for row in rows:
        line = merged.setdefault(row["agency"], {"agency": row["agency"], "sources": set(), "declared": None,
                                                 "programmes": 0, "courses": 0, "households_reached": 0})
        if row.get("funding_source"):
            line["sources"].add(row["funding_source"])
        line["declared"] = line["declared"] or row.get("declared_kind")
        for key in ("programmes", "courses", "households_reached"):
            line[key] += int(row.get(key) or 0)
    lines = []
    for line in merged.values():
        sources, declared = line.pop("sources"), line.pop("declared")
        lines.append(dict(line, kind=declared or agency_kind(sources)))
    return sorted(lines, key=lambda a: (-a["households_reached"], -a["programmes"] - a["courses"], a["agency"]))


def overlaps(rows):
    """Blocked entitlements per unordered pair of agencies, from rows
    (agency, blocked_by_agency, category, households)."""
    pairs = {}
    for row in rows:
        pair = tuple(sorted((row["agency"], row["blocked_by_agency"] or "?")))
        line = pairs.setdefault(pair, {"agencies": list(pair), "categories": set(), "households": 0})
        line["categories"].add(row["category"])
        line["households"] += int(row["households"])
    return sorted(({**line, "categories": sorted(line["categories"])} for line in pairs.values()),
                  key=lambda line: (-line["households"], line["agencies"]))
