"""Each kind of benefit from the seed reports: a sewing machine for a
graduate of a sewing course (a real participant.completed from training),
Rupiah to a KUBE group, ATENSI cash split over households, a quota."""
from distribution_support import (BALANGAN, MUARA_NINIAN, activated, group, member, programme_body, snapshot)
from setiakawan_kit.testing import wait_for

BALANGAN_REGIONS = ("63.11",)


def balangan(client):
    return client(agency=BALANGAN, kind="district", regions=BALANGAN_REGIONS)


def completion(person_ref, household_id, skill_area="sewing"):
    return {"course_id": "c3a1d2e4-5f60-4a7b-8c9d-0e1f2a3b4c5d", "enrolment_id": "e1d2c3b4-a596-4877-8695-a4b3c2d1e0f9",
            "course_title": "Pelatihan menjahit bagi alumni LKSA", "skill_area": skill_area,
            "provider_agency": BALANGAN, "person_ref": person_ref, "household_id": household_id,
            "village_code": MUARA_NINIAN, "group_id": None, "finished_on": "2026-11-28", "attendance_share": 0.9,
            "assessment_passed": True, "certificate_code": "K7QM-3XPA-9D"}


def test_a_sewing_graduate_becomes_eligible_for_a_sewing_machine(client, registry_events, training_events, events):
    alumna = member(age=19, relationship="child")
    house = snapshot(village=MUARA_NINIAN, decile=3, members=[member(), alumna])
    registry_events.household(house)
    office = balangan(client)
    machines = activated(office, programme_body(
        name="Mesin jahit bagi alumni LKSA", kind="equipment", category="productive_assets", regions=BALANGAN_REGIONS,
        rule='"sewing" in household.completed_skills', funding_source="apbd_district",
        items=[{"item": "mesin jahit", "quantity": "1", "unit": "unit"}]))
    assert machines["issued"] == 0
    training_events.completed(completion(alumna["person_ref"], house["household_id"], skill_area="culinary"))
    training_events.completed(completion(alumna["person_ref"], house["household_id"]) |
                              {"course_id": "d4b2e3f5-6071-4b8c-9d0e-1f2a3b4c5d6e"})
    issued = wait_for(lambda: [d for t, d in events.all() if t == "entitlement.issued"], timeout=30,
                      what="the sewing machine entitlement")
    assert [(e["entitlement"]["programme_id"], e["entitlement"]["beneficiary_id"]) for e in issued] == \
        [(machines["id"], house["household_id"])]
    assert issued[0]["entitlement"]["items"] == [{"item": "mesin jahit", "quantity": "1", "unit": "unit"}]


def test_a_kube_group_grant_goes_to_the_group(client, registry_events, events):
    kube = group(member_refs=[member()["person_ref"]])
    registry_events.group(kube)
    registry_events.group(group(kind="karang_taruna"))
    registry_events.group(group(status="inactive"))
    office = balangan(client)
    grant = activated(office, programme_body(
        name="Bantuan usaha KUBE", kind="group_grant", category="productive_assets", regions=BALANGAN_REGIONS,
        rule=None, group_kind="kube", cash={"basis": "per_beneficiary", "amount": 20_000_000},
        funding_source="apbd_district"))
    assert (grant["issued"], grant["blocked"], grant["rule"]) == (1, 0, "true")
    issued = [d["entitlement"] for t, d in events.wait_for(2) if t == "entitlement.issued"]
    assert [(e["beneficiary_kind"], e["beneficiary_id"], e["amount"]) for e in issued] == \
        [("group", kube["group_id"], 20_000_000)]
    # January's grant to the KUBE of a ceremony, named by its id: only that one, though the first is a KUBE too
    other = group(member_refs=[member()["person_ref"]])
    registry_events.group(other)
    named = activated(office, programme_body(
        name="Bantuan usaha KUBE Sanggam Jaya", kind="group_grant", category="productive_assets",
        regions=BALANGAN_REGIONS, rule=None, group_kind="kube", group_ids=[other["group_id"]],
        period=("2027-01-01", "2027-01-31"),
        cash={"basis": "per_beneficiary", "amount": 20_000_000}, funding_source="apbd_district"))
    assert (named["issued"], named["group_ids"]) == (1, [other["group_id"]])
    refused = office.post("/programmes", programme_body(kind="group_grant", regions=BALANGAN_REGIONS,
                                                        group_kind="kube", rule="household.verified",
                                                        cash={"basis": "per_beneficiary", "amount": 1}))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "rule"


def test_atensi_cash_total_is_split_over_the_households_in_whole_rupiah(client, registry_events):
    houses = [snapshot(village=MUARA_NINIAN, decile=1 + i % 3) for i in range(7)]
    for house in houses:
        registry_events.household(house)
    office = balangan(client)
    atensi = activated(office, programme_body(
        name="ATENSI berbasis keluarga", kind="cash", category="social_rehabilitation", regions=BALANGAN_REGIONS,
        cash={"basis": "split_total", "amount": 48_000_000}, funding_source="apbn"))
    assert atensi["issued"] == 7 and atensi["budget"] == 48_000_000
    page = office.get(f"/programmes/{atensi['id']}/entitlements").json()
    amounts = sorted(e["amount"] for e in page["items"])
    assert sum(amounts) == 48_000_000 and amounts[-1] - amounts[0] <= 1
    report = office.get(f"/reports/programmes/{atensi['id']}").json()
    assert report["budget_used"] == 48_000_000 and report["totals"]["planned"] == 7


def test_a_quota_goes_to_the_poorest_first_and_per_member_cash_counts_members(client, registry_events):
    deciles = [5, 1, 3, 2, 4]
    houses = [snapshot(village=MUARA_NINIAN, decile=d, members=[member() for _ in range(1 + i)]) for i, d in enumerate(deciles)]
    for house in houses:
        registry_events.household(house)
    office = balangan(client)
    cash = activated(office, programme_body(name="BLT per jiwa", kind="cash", category="cash",
                                            regions=BALANGAN_REGIONS, rule="household.verified", quota=3,
                                            cash={"basis": "per_member", "amount": 300_000}))
    assert cash["issued"] == 3
    got = {e["beneficiary_id"]: e["amount"] for e in office.get(f"/programmes/{cash['id']}/entitlements").json()["items"]}
    poorest = [h for h in houses if h["decile"] in (1, 2, 3)]
    assert got == {h["household_id"]: 300_000 * h["size"] for h in poorest}
    budgeted = activated(office, programme_body(name="BLT anggaran", kind="cash", category="education",
                                                regions=BALANGAN_REGIONS, rule="household.verified",
                                                budget=1_000_000, cash={"basis": "per_beneficiary", "amount": 400_000}))
    assert budgeted["issued"] == 2
