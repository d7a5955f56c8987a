"""Cross-agency duplicate rules.

* The same NIK (among current members) or the same KK number cannot be
  registered twice, by any agency: refused with 409.
* A likely duplicate is a member with another NIK but the same birth date,
  the same regency and a similar name (pg_trgm similarity of the normalized
  names at least ``LIKELY_SIMILARITY``): flagged for an officer to merge or
  dismiss, not refused, since two people can share a birthday and a name."""
LIKELY_SIMILARITY = 0.6


def likely_duplicate_reason(similarity):
    return (f"same birth date and regency, name similarity {similarity:.2f} "
            f"(threshold {LIKELY_SIMILARITY})")


def visible_conflict(existing_village_code, identity):
    """What a 409 may say about an existing record: its village and id only
    when the caller's regions cover it."""
    return identity.covers(existing_village_code)
