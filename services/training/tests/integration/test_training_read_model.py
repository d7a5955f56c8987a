"""The read model of people kept from the registry's events: repeated and
reordered events leave it right."""
from datetime import datetime, timedelta, timezone

from setiakawan_kit.testing import wait_for
from training_samples import household, member


def person_row(db, training, person_ref):
    with db(training.database).cursor() as cur:
        cur.execute("SELECT h.version, h.decile, h.village_code, m.age FROM household_members m"
                    " JOIN households h USING (household_id) WHERE m.person_ref = %s", (person_ref,))
        return cur.fetchall()


def test_redelivered_and_out_of_order_snapshots_keep_the_highest_version(registry_events, db, training):
    person = member(age=30)
    v1 = household([person], decile=2, version=1)
    v2 = dict(v1, version=2, decile=3, members=[dict(person, age=31)])
    v3 = dict(v1, version=3, decile=5, village_code="63.11.06.2005", members=[dict(person, age=31)])
    newest = registry_events.send("household.updated", {"household": v3, "changes": ["address"]})
    registry_events.applied(newest)
    older = [registry_events.send("household.registered", {"household": v1}),
             registry_events.send("household.updated", {"household": v2, "changes": ["welfare"]})]
    registry_events.applied(*older)
    assert person_row(db, training, person["person_ref"]) == [(3, 5, "63.11.06.2005", 31)]
    # the same event again (a redelivery) is absorbed by the inbox
    duplicates = training.metric("setiakawan_events_consumed_total", type="household.updated", outcome="duplicate")
    registry_events.send("household.updated", {"household": dict(v3, decile=9), "changes": ["welfare"]},
                         event_id=newest.id)
    wait_for(lambda: training.metric("setiakawan_events_consumed_total", type="household.updated",
                                     outcome="duplicate") == duplicates + 1, what="the redelivery seen")
    same_version = registry_events.send("household.updated", {"household": dict(v2, version=3, decile=9),
                                                              "changes": ["welfare"]})  # another event: no change
    registry_events.applied(same_version)
    assert person_row(db, training, person["person_ref"]) == [(3, 5, "63.11.06.2005", 31)]


def test_a_person_moved_by_a_merge_belongs_to_the_surviving_household_whatever_the_order(registry_events, db,
                                                                                           training):
    person = member()
    merged_away = household([person], decile=2)
    survivor = household([member(), person], decile=4)
    inactive = dict(merged_away, version=2, status="inactive", members=[])
    registered_at = datetime.now(timezone.utc) - timedelta(days=30)
    # the merge arrives before the registration of the household merged away, which happened a month before
    events = [registry_events.send("household.merged", {"household": survivor,
                                                        "merged_household_id": merged_away["household_id"],
                                                        "moved_person_refs": [person["person_ref"]]}),
              registry_events.send("household.registered", {"household": merged_away}, time=registered_at)]
    registry_events.applied(*events)
    with db(training.database).cursor() as cur:
        cur.execute("SELECT DISTINCT ON (m.person_ref) h.household_id::text FROM household_members m JOIN households h"
                    " USING (household_id) WHERE m.person_ref = %s ORDER BY m.person_ref, h.status = 'inactive',"
                    " h.observed_at DESC", (person["person_ref"],))
        assert cur.fetchone()[0] == survivor["household_id"]
    registry_events.applied(registry_events.send("household.status_changed", {
        "household": inactive, "previous_status": "verified", "reason": "merged"}))
    assert [row[1] for row in person_row(db, training, person["person_ref"])] == [4]
