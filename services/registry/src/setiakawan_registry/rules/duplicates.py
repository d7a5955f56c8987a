"""Cross-agency duplicate rules.

* The same NIK (among current members) or the same KK number cannot be
  registered twice, by any agency: refused with 409.
* A likely duplicate is a member with another NIK but the same birth date,
  the same regency and a similar name (pg_trgm similarity of the normalized
  names at least ``LIKELY_SIMILARITY``): flagged for an officer to merge or
  dismiss, not refused, since two people can share a birthday and a name."""
from typing import NamedTuple

LIKELY_SIMILARITY = 0.6


class Person(NamedTuple):
    """What the likely-duplicate rule looks at."""

    member_id: str
    household: object
    nik: str
    birth_date: object
    regency: str
    village: str
    name_norm: str
    order: int


def likely_duplicate_reason(similarity):
    return (f"same birth date and regency, name similarity {similarity:.2f} "
            f"(threshold {LIKELY_SIMILARITY})")


def visible_conflict(existing_village_code, identity):
    """What a 409 may say about an existing record: its village and id only
    when the caller's regions cover it."""
    return identity.covers(existing_village_code)


def trigrams(name_norm):
    """pg_trgm's trigrams of a normalized name: each word padded with two
    spaces in front and one behind."""
    grams = set()
    for word in name_norm.split():
        padded = f"  {word} "
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a, b):
    """pg_trgm's ``similarity``: shared trigrams over all trigrams."""
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def likely_pairs(people, threshold=LIKELY_SIMILARITY):
    """Pairs among ``people`` (Person tuples) that look like one person: same
    birth date and regency, other NIK, other household, similar name. Each
    pair is (newer, older, similarity), newer by ``order``."""
    groups = {}
    for person in people:
        groups.setdefault((person.birth_date, person.regency), []).append(person)
    pairs = []
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda p: p.order)
        grams = [trigrams(p.name_norm) for p in group]
        for i, newer in enumerate(group):
            for j, older in enumerate(group[:i]):
                if older.nik == newer.nik or older.household == newer.household:
                    continue
                union = len(grams[i] | grams[j])
                score = len(grams[i] & grams[j]) / union if union else 0.0
                if score >= threshold:
                    pairs.append((newer, older, score))
    return pairs
