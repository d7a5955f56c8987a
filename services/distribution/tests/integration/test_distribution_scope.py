"""Agencies do not trust each other: an agency outside a programme's
regions sees neither the programme nor its beneficiaries; a village sees
only its own; a draft is its owner's alone."""
from distribution_support import BALANGAN, BARITO_TIMUR, MATABU, PULAU_PATAI, activated, programme_body, snapshot


def test_an_agency_outside_the_region_sees_nothing(client, registry_events):
    houses = [snapshot(village=PULAU_PATAI, decile=1), snapshot(village=MATABU, decile=1)]
    for house in houses:
        registry_events.household(house)
    province = client()
    programme = activated(province, programme_body())
    draft = province.post("/programmes", programme_body(name="Draft")).json()
    entitlement = province.get(f"/programmes/{programme['id']}/entitlements").json()["items"][0]
    balangan = client(agency=BALANGAN, kind="district", regions=("63.11",))
    assert balangan.get(f"/programmes/{programme['id']}").status_code == 404
    assert balangan.get("/programmes").json()["total"] == 0
    assert balangan.get(f"/programmes/{programme['id']}/entitlements").status_code == 404
    assert balangan.get(f"/entitlements/{entitlement['id']}").status_code == 404
    assert balangan.post(f"/programmes/{programme['id']}/preview").status_code == 404
    assert balangan.get(f"/reports/programmes/{programme['id']}").status_code == 404
    assert balangan.get(f"/reports/households/{houses[0]['household_id']}").status_code == 404
    # the district sees the active programme, not the province's draft, and cannot change it
    district = client(agency=BARITO_TIMUR, kind="district", regions=("62.13",))
    assert district.get(f"/programmes/{draft['id']}").status_code == 404
    assert district.get(f"/programmes/{programme['id']}").status_code == 200
    assert district.post(f"/programmes/{programme['id']}/close").status_code == 403
    # a village sees its own households' entitlements only
    village = client(agency="Pemerintah Desa Pulau Patai", kind="village", regions=(PULAU_PATAI,))
    seen = village.get(f"/programmes/{programme['id']}/entitlements").json()
    assert [e["village_code"] for e in seen["items"]] == [PULAU_PATAI]
    assert village.get(f"/reports/households/{houses[1]['household_id']}").status_code == 404
    report = village.get(f"/reports/programmes/{programme['id']}").json()
    assert [line["village_code"] for line in report["by_village"]] == [PULAU_PATAI]
    mine = village.get(f"/reports/households/{houses[0]['household_id']}.csv")
    assert mine.status_code == 200 and "Sembako Desember Barito Timur" in mine.text
