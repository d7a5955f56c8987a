"""The read model from the registry's events: repeated and reordered
events leave it right (the highest snapshot version wins), a merged-away
household is never eligible again, a move out of the regions revokes."""
from distribution_support import BARITO_TIMUR, MATABU, activated, group, member, programme_body, snapshot


def reach(client, programme_id):
    return client.post(f"/programmes/{programme_id}/preview").json()["total"]


def test_repeated_and_reordered_events_leave_the_read_model_right(client, registry_events, distribution, db):
    house = snapshot(decile=2, status="registered")
    newest = dict(house, version=3, status="verified", decile=3)
    registry_events.household(newest, event_type="household.verified", verified_by=BARITO_TIMUR,
                              verified_at="2026-12-02T03:00:00+00:00", reverify_due="2027-12-02")
    registry_events.household(house)  # version 1 arrives late
    registry_events.household(dict(house, version=2, decile=9))
    first = registry_events.household(newest, event_type="household.verified", verified_by=BARITO_TIMUR,
                                      verified_at="2026-12-02T03:00:00+00:00", reverify_due="2027-12-02")
    registry_events.applied(first)
    with db(distribution.database).cursor() as cur:
        cur.execute("SELECT version, status, decile FROM households WHERE household_id = %s", (house["household_id"],))
        assert cur.fetchone() == (3, "verified", 3)
        cur.execute("SELECT count(*) FROM household_members WHERE household_id = %s", (house["household_id"],))
        assert cur.fetchone() == (1,)
    draft = client().post("/programmes", programme_body(rule="household.decile == 3 && household.verified")).json()
    assert reach(client(), draft["id"]) == 1


def test_a_merged_household_and_one_that_moved_away_lose_their_entitlements(client, registry_events, events):
    kept, merged, mover = snapshot(decile=1), snapshot(decile=1), snapshot(decile=2)
    for house in (kept, merged, mover):
        registry_events.household(house)
    programme = activated(client(), programme_body(rule="household.verified"))
    assert programme["issued"] == 3
    events.wait_for(4)
    registry_events.household(dict(kept, version=2, members=kept["members"] + merged["members"], size=2),
                              event_type="household.merged", merged_household_id=merged["household_id"],
                              moved_person_refs=[merged["members"][0]["person_ref"]])
    registry_events.household(dict(mover, version=2, village_code="63.11.01.2001", district_code="63.11.01",
                                   regency_code="63.11", province_code="63"), event_type="household.updated",
                              changes=["address"], previous_village_code=mover["village_code"])
    revoked = sorted((d["entitlement"]["beneficiary_id"], d["reason"]) for t, d in events.wait_for(2)
                     if t == "entitlement.revoked")
    assert [r[0] for r in revoked] == sorted([merged["household_id"], mover["household_id"]])
    assert any("moved out" in reason for _, reason in revoked)
    # a late snapshot of the merged household cannot make it live again
    registry_events.household(dict(merged, version=5, village_code=MATABU))
    assert reach(client(), programme["id"]) == 1


def test_a_household_with_a_member_in_a_kube_is_reached_by_a_group_rule(client, registry_events):
    head = member()
    house = snapshot(members=[head])
    registry_events.household(house)
    draft = client().post("/programmes", programme_body(rule='"kube" in household.group_kinds')).json()
    assert reach(client(), draft["id"]) == 0
    registry_events.group(group(village=house["village_code"], member_refs=[head["person_ref"]]))
    assert reach(client(), draft["id"]) == 1
