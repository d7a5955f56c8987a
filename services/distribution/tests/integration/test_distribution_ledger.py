"""Programmes of two agencies over the same households: the ledger lets
each household hold one food benefit per period, whoever activates first,
even when both activate at once; the other agency is told why."""
import threading

from distribution_support import (BARITO_TIMUR, MATABU, PROVINCE, PULAU_PATAI, TAMIANG_LAYANG, activated, member,
                                  programme_body, snapshot)
from setiakawan_kit.testing import wait_for


def test_a_rule_previews_per_village_and_activation_issues_to_exactly_those(client, registry_events, events):
    poor = [snapshot(village=v, decile=d) for v, d in ((TAMIANG_LAYANG, 1), (TAMIANG_LAYANG, 4), (MATABU, 3))]
    others = [snapshot(decile=7), snapshot(decile=2, status="registered"), snapshot(decile=1, status="rejected"),
              snapshot(village="63.11.01.2001", decile=1)]
    for house in poor + others:
        registry_events.household(house)
    province = client()
    created = province.post("/programmes", programme_body())
    assert created.status_code == 201, created.text
    programme = created.json()
    assert programme["status"] == "draft" and programme["rule"] == "household.decile <= 4 && household.verified"
    preview = province.post(f"/programmes/{programme['id']}/preview").json()
    assert preview["total"] == 3
    assert {v["village_code"]: v["count"] for v in preview["by_village"]} == {TAMIANG_LAYANG: 2, MATABU: 1}

    active = province.post(f"/programmes/{programme['id']}/activate").json()
    assert (active["status"], active["issued"], active["blocked"]) == ("active", 3, 0)
    got = events.wait_for(4)
    issued = [d["entitlement"] for t, d in got if t == "entitlement.issued"]
    assert sorted(e["beneficiary_id"] for e in issued) == sorted(h["household_id"] for h in poor)
    assert issued[0]["items"][0] == {"item": "beras", "quantity": "10", "unit": "kg"}
    assert [d["issued"] for t, d in got if t == "programme.activated"] == [3]
    again = province.post(f"/programmes/{programme['id']}/activate")
    assert again.status_code == 409 and again.json()["programme_status"] == "active"


def test_two_agencies_activating_at_once_give_each_household_one_food_benefit(client, registry_events, events):
    houses = [snapshot(village=PULAU_PATAI if i % 2 else TAMIANG_LAYANG, decile=1 + i % 4) for i in range(60)]
    for house in houses:
        registry_events.household(house)
    province, district = client(), client(agency=BARITO_TIMUR, kind="district", regions=("62.13",))
    drafts = [(province, province.post("/programmes", programme_body()).json()),
              (district, district.post("/programmes", programme_body(
                  name="Bantuan sembako Kabupaten Barito Timur", funding_source="apbd_district",
                  rule="household.verified")).json())]
    answers = [None, None]
    start = threading.Barrier(2)

    def activate(i):
        who, draft = drafts[i]
        start.wait()
        answers[i] = who.post(f"/programmes/{draft['id']}/activate")

    threads = [threading.Thread(target=activate, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    counts = [(a.json()["issued"], a.json()["blocked"]) for a in answers]
    # every household got exactly one of the two, and was blocked in the other
    assert sum(issued for issued, _ in counts) == 60 and sum(blocked for _, blocked in counts) == 60
    got = events.wait_for(122)
    blocked = [d for t, d in got if t == "entitlement.blocked"]
    issued = [d["entitlement"] for t, d in got if t == "entitlement.issued"]
    assert sorted(e["beneficiary_id"] for e in issued) == sorted(h["household_id"] for h in houses)
    by_programme = {d["entitlement"]["programme_id"]: d["blocked_by"] for d in blocked}
    for d in blocked:
        other = d["blocked_by"]
        assert other["programme_id"] != d["entitlement"]["programme_id"]
        assert other["agency"] in (PROVINCE, BARITO_TIMUR) and other["agency"] != d["entitlement"]["agency"]
    assert by_programme  # the blocked side names the other programme


def test_programmes_that_both_stack_are_both_issued_and_one_that_does_not_is_blocked(client, registry_events):
    house = snapshot(decile=1)
    registry_events.household(house)
    province = client()
    first = activated(province, programme_body(name="Sembako stacking A", stacks=True))
    second = activated(province, programme_body(name="Sembako stacking B", stacks=True))
    third = activated(province, programme_body(name="Sembako not stacking"))
    later = activated(province, programme_body(name="Sembako Januari", period=("2027-01-01", "2027-01-31")))
    other_category = activated(province, programme_body(name="Kursi roda", kind="equipment", category="health",
                                                         items=[{"item": "kursi roda", "quantity": "1",
                                                                 "unit": "unit"}]))
    assert [(p["issued"], p["blocked"]) for p in (first, second, third, later, other_category)] == \
        [(1, 0), (1, 0), (0, 1), (1, 0), (1, 0)]
    benefits = province.get(f"/reports/households/{house['household_id']}").json()["benefits"]
    assert sorted((b["programme_name"], b["status"]) for b in benefits) == sorted([
        ("Sembako stacking A", "issued"), ("Sembako stacking B", "issued"), ("Sembako not stacking", "blocked"),
        ("Sembako Januari", "issued"), ("Kursi roda", "issued")])
    blocked = next(b for b in benefits if b["status"] == "blocked")
    assert blocked["blocked_by"]["programme_name"] in ("Sembako stacking A", "Sembako stacking B")


def test_a_household_that_stops_qualifying_is_revoked_and_frees_its_place(client, registry_events, events):
    house = snapshot(decile=2, members=[member(), member(age=8, relationship="child")])
    registry_events.household(house)
    province = client()
    programme = activated(province, programme_body(rule="household.verified && household.children > 0"))
    assert programme["issued"] == 1
    events.wait_for(2)
    registry_events.household(dict(house, version=2, status="rejected"), event_type="household.rejected",
                              rejected_by=BARITO_TIMUR, reason="not found at the address")
    revoked = [d for t, d in events.wait_for(1) if t == "entitlement.revoked"]
    assert revoked and revoked[0]["entitlement"]["status"] == "revoked" and "rejected" in revoked[0]["reason"]
    registry_events.household(dict(house, version=3, status="verified"), event_type="household.verified",
                              verified_by=BARITO_TIMUR, verified_at="2026-12-02T03:00:00+00:00",
                              reverify_due="2027-12-02")
    again = wait_for(lambda: [d for t, d in events.all() if t == "entitlement.issued"][1:], timeout=30,
                     what="the entitlement issued again")
    assert again[0]["entitlement"]["beneficiary_id"] == house["household_id"]


def test_a_benefit_blocked_by_another_agency_is_issued_once_that_one_is_revoked(client, registry_events, events):
    houses = [snapshot(decile=1 + i % 3) for i in range(5)]
    for house in houses:
        registry_events.household(house)
    province, district = client(), client(agency=BARITO_TIMUR, kind="district", regions=("62.13",))
    first = activated(province, programme_body())
    second = activated(district, programme_body(name="Bantuan sembako Kabupaten Barito Timur",
                                                funding_source="apbd_district", rule="household.verified"))
    assert (first["issued"], second["issued"], second["blocked"]) == (5, 0, 5)
    events.wait_for(12)  # two activations, five issued, five blocked
    closed = province.post(f"/programmes/{first['id']}/close")
    assert closed.status_code == 200 and closed.json()["revoked"] == 5
    got = events.wait_for(11)  # five revoked, the closing, five issued
    reissued = [d["entitlement"] for t, d in got if t == "entitlement.issued"]
    assert sorted(e["beneficiary_id"] for e in reissued) == sorted(h["household_id"] for h in houses)
    assert {e["programme_id"] for e in reissued} == {second["id"]}
    benefits = [district.get(f"/reports/households/{h['household_id']}").json()["benefits"] for h in houses]
    assert all(sorted(b["status"] for b in held) == ["issued", "revoked"] for held in benefits)


def test_a_freed_benefit_past_the_other_programmes_quota_is_revoked_and_told(client, registry_events, events):
    poorest, other = snapshot(decile=1), snapshot(decile=5)
    for house in (poorest, other):
        registry_events.household(house)
    province, district = client(), client(agency=BARITO_TIMUR, kind="district", regions=("62.13",))
    first = activated(province, programme_body(rule="household.decile <= 2 && household.verified"))
    second = activated(district, programme_body(name="Bantuan sembako Kabupaten Barito Timur", quota=1,
                                                funding_source="apbd_district", rule="household.verified"))
    assert (first["issued"], second["issued"], second["blocked"]) == (1, 1, 1)
    events.wait_for(5)
    assert province.post(f"/programmes/{first['id']}/close").status_code == 200
    got = events.wait_for(3)  # the province's revoked, its closing, the district's revoked
    told = [d for t, d in got if t == "entitlement.revoked" and d["entitlement"]["programme_id"] == second["id"]]
    assert [d["entitlement"]["beneficiary_id"] for d in told] == [poorest["household_id"]]
    assert "quota" in told[0]["reason"] and told[0]["entitlement"]["status"] == "revoked"
    assert not [d for t, d in got if t == "entitlement.issued"]
