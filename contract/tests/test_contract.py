"""What the published contract (``python -m setiakawan_contract``, also
``setiakawan contract --json``) promises
partners: no event names a NIK, a KK number or a key matched against one
(events are broadcast; a hash of a NIK gives it back to whoever tries the
few million candidates), and which version of each registry event is
current."""
import re

from setiakawan_contract.__main__ import describe

IDENTIFYING = re.compile(r"match|nik|kk_number")


def published():
    return describe()


def property_names(schema):
    """Every property name declared anywhere in a JSON schema, nested objects and list items included."""
    if isinstance(schema, dict):
        yield from (schema.get("properties") or {})
        for value in schema.values():
            yield from property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from property_names(value)


def test_no_event_type_has_a_property_naming_a_nik_a_kk_number_or_a_match_key():
    items = published()
    registered = next(i for i in items if i["routing_key"] == "household.registered")
    assert {"household", "members", "person_ref"} <= set(property_names(registered["data"]))  # it looks inside
    for item in items:
        found = [name for name in property_names(item["data"]) if IDENTIFYING.search(name.lower())]
        assert not found, f"{item['dataschema']} has {found}"


def test_events_with_the_household_snapshot_are_version_2_and_group_events_still_version_1():
    versions = {i["routing_key"]: i["version"] for i in published() if i["exchange"] == "registry.events"}
    assert versions == {
        "household.registered": 2, "household.updated": 2, "household.verified": 2, "household.rejected": 2,
        "household.status_changed": 2, "household.merged": 2, "member.added": 2, "member.removed": 2,
        "group.registered": 1, "group.updated": 1}
    registered = next(i for i in published() if i["routing_key"] == "household.registered")
    assert registered["dataschema"] == "urn:setiakawan:registry:household.registered:v2"
