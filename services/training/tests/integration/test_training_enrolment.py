"""Enrolment against the real broker and database: seats, the waitlist,
clashing sessions, groups, and people who stop being eligible."""
from concurrent.futures import ThreadPoolExecutor

from training_support import open_course
from training_samples import KUKAR, TENGGARONG, course_body, group, household, member


def people(registry_events, count, **member_args):
    refs = []
    for _ in range(count):
        person = member(**member_args)
        registry_events.household(household([person]))
        refs.append(person["person_ref"])
    return refs


def test_two_people_racing_for_the_last_seat_get_one_seat_and_one_waitlist_place(client, registry_events, events):
    first, second, third = people(registry_events, 3)
    provider = client()
    course = open_course(provider, course_body(capacity=2))
    events.wait_for(1)
    assert provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": first}).json()["status"] == "confirmed"
    others = [client(), client(role="field_officer")]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda pair: pair[0].post(f"/courses/{course['id']}/enrolments",
                                                          {"person_ref": pair[1]}), zip(others, (second, third))))
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["confirmed", "waitlisted"]
    waiting = next(a.json() for a in answers if a.json()["status"] == "waitlisted")
    assert waiting["waitlist_position"] == 1
    counts = provider.get(f"/courses/{course['id']}").json()
    assert (counts["confirmed"], counts["waitlisted"]) == (2, 1)
    got = events.wait_for(3)
    assert sorted(kind for kind, _ in got) == ["enrolment.confirmed", "enrolment.confirmed", "enrolment.waitlisted"]
    assert next(d for k, d in got if k == "enrolment.waitlisted")["enrolment"]["waitlist_position"] == 1


def test_a_withdrawal_promotes_the_first_on_the_waitlist_and_says_so(client, registry_events, events):
    seated, first_waiting, second_waiting = people(registry_events, 3)
    provider = client()
    course = open_course(provider, course_body(capacity=1))
    enrolled = [provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": ref}).json()
                for ref in (seated, first_waiting, second_waiting)]
    assert [e["status"] for e in enrolled] == ["confirmed", "waitlisted", "waitlisted"]
    assert [e["waitlist_position"] for e in enrolled] == [None, 1, 2]
    events.wait_for(4)
    withdrawn = provider.post(f"/enrolments/{enrolled[0]['id']}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["enrolment"]["status"] == "cancelled"
    assert [p["id"] for p in withdrawn.json()["promoted"]] == [enrolled[1]["id"]]
    got = events.wait_for(2)
    assert [k for k, _ in got] == ["enrolment.cancelled", "enrolment.confirmed"]
    assert got[0][1]["reason"] == "withdrawn" and got[0][1]["previous_status"] == "confirmed"
    assert got[1][1]["promoted"] is True and got[1][1]["enrolment"]["person_ref"] == first_waiting
    second = provider.get(f"/enrolments/{enrolled[2]['id']}").json()
    assert (second["status"], second["waitlist_position"]) == ("waitlisted", 1)
    assert provider.post(f"/enrolments/{enrolled[0]['id']}/withdraw").status_code == 409
    again = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": first_waiting})
    assert again.status_code == 409  # enrolled already
    assert again.json()["enrolment_ids"] == [enrolled[1]["id"]]
    assert provider.get(f"/courses/{course['id']}").json()["waitlisted"] == 1  # and nothing more happened:
    assert provider.post(f"/enrolments/{enrolled[2]['id']}/withdraw").status_code == 200
    assert [k for k, _ in events.wait_for(1)] == ["enrolment.cancelled"]  # the events after the 409 are the next


def test_an_enrolment_answers_what_the_database_holds(client, registry_events):
    seated, waiting = people(registry_events, 2)
    provider = client()
    course = open_course(provider, course_body(capacity=1))
    for ref in (seated, waiting):
        answer = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": ref})
        assert answer.status_code == 201, answer.text
        stored = provider.get(f"/enrolments/{answer.json()['id']}")
        assert answer.json() == stored.json()
    assert answer.json()["confirmed_at"] is None and answer.json()["waitlist_position"] == 1


def test_sessions_that_overlap_a_seat_held_elsewhere_are_refused(client, registry_events):
    [person] = people(registry_events, 1)
    provider = client()
    morning = open_course(provider, course_body(days=(0, 1)))
    overlapping = open_course(provider, course_body(days=(1, 2), title="Pelatihan tata boga"))
    later = open_course(provider, course_body(days=(5, 6), title="Pelatihan kerajinan anyaman"))
    assert provider.post(f"/courses/{morning['id']}/enrolments", {"person_ref": person}).status_code == 201
    refused = provider.post(f"/courses/{overlapping['id']}/enrolments", {"person_ref": person})
    assert refused.status_code == 422, refused.text
    assert "overlap" in refused.json()["detail"] and "menjahit" in refused.json()["detail"]
    assert provider.get(f"/courses/{overlapping['id']}/enrolments").json()["total"] == 0
    assert provider.post(f"/courses/{later['id']}/enrolments", {"person_ref": person}).status_code == 201


def test_a_karang_taruna_enrols_the_members_it_sends(client, registry_events, events):
    youths = [member(age=19 + i, sex="MF"[i % 2]) for i in range(5)]
    registry_events.household(household(youths[:3], village=TENGGARONG))
    registry_events.household(household(youths[3:], village=TENGGARONG))
    karang_taruna = group([y["person_ref"] for y in youths])
    registry_events.group(karang_taruna)
    kube = group([youths[0]["person_ref"]], kind="kube")
    registry_events.group(kube)
    provider = client(regions=(KUKAR,), agency="Dinas Sosial Provinsi Kalimantan Timur", kind="province")
    course = open_course(provider, course_body(
        capacity=3, regions=(KUKAR,), venue=TENGGARONG, mode="group", skill_area="organisational_capacity",
        title="Peningkatan kapasitas Karang Taruna", eligibility={"group_kind": "karang_taruna", "min_age": 15},
        partners=[]))
    events.wait_for(1)
    sent = [y["person_ref"] for y in youths[:4]]
    answer = provider.post(f"/courses/{course['id']}/group-enrolments",
                           {"group_id": karang_taruna["group_id"], "member_refs": sent})
    assert answer.status_code == 201, answer.text
    rows = answer.json()["enrolments"]
    assert [r["status"] for r in rows] == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    assert {r["group_id"] for r in rows} == {karang_taruna["group_id"]}
    assert len(events.wait_for(4)) == 4
    wrong_kind = provider.post(f"/courses/{course['id']}/group-enrolments",
                               {"group_id": kube["group_id"], "member_refs": [youths[0]["person_ref"]]})
    assert wrong_kind.status_code == 422
    stranger = member()
    registry_events.household(household([stranger], village=TENGGARONG))
    not_a_member = provider.post(f"/courses/{course['id']}/group-enrolments",
                                 {"group_id": karang_taruna["group_id"], "member_refs": [stranger["person_ref"]]})
    assert not_a_member.status_code == 422 and "Not members" in not_a_member.json()["detail"]
    alone = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": youths[4]["person_ref"]})
    assert alone.status_code == 422  # a group course takes groups
    assert provider.get(f"/courses/{course['id']}").json()["confirmed"] == 3


def test_a_person_who_stops_being_eligible_before_the_start_is_removed_told_and_replaced(
        client, registry_events, events):
    person, waiting = member(age=25), member(age=30)
    home = household([person], decile=3)
    registry_events.household(home)
    registry_events.household(household([waiting]))
    provider = client()
    course = open_course(provider, course_body(capacity=1))
    seat = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": person["person_ref"]}).json()
    provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": waiting["person_ref"]})
    events.wait_for(3)
    richer = dict(home, version=2, decile=7)
    registry_events.household(richer, event_type="household.updated", changes=["welfare"])
    got = events.wait_for(2)
    assert [k for k, _ in got] == ["enrolment.cancelled", "enrolment.confirmed"]
    # the broadcast event names the rule, not the person's facts
    assert (got[0][1]["reason"], got[0][1]["detail"]) == ("no_longer_eligible", "rules: max_decile")
    assert got[1][1]["enrolment"]["person_ref"] == waiting["person_ref"] and got[1][1]["promoted"]
    ended = provider.get(f"/enrolments/{seat['id']}").json()
    assert (ended["status"], ended["end_reason"]) == ("cancelled", "no_longer_eligible")
    # once the course runs, a change no longer removes anyone
    provider.post(f"/courses/{course['id']}/start")
    promoted = provider.get(f"/enrolments/{got[1][1]['enrolment']['enrolment_id']}").json()
    older = household([dict(waiting, age=60)], household_id=promoted["household_id"], version=2)
    registry_events.household(older, event_type="household.updated", changes=["welfare"])
    assert provider.get(f"/enrolments/{promoted['id']}").json()["status"] == "confirmed"


def test_a_person_the_registry_removes_loses_the_seat_and_cannot_enrol_again(client, registry_events, events):
    person, other = member(), member()
    home = household([person, other])
    registry_events.household(home)
    provider = client()
    course = open_course(provider, course_body(capacity=5))
    seat = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": person["person_ref"]}).json()
    events.wait_for(2)
    registry_events.household(dict(home, version=2, members=[other]), event_type="member.removed",
                              person_ref=person["person_ref"], reason="died")
    [(kind, data)] = events.wait_for(1)
    assert (kind, data["detail"]) == ("enrolment.cancelled", "rules: removed_from_registry")
    assert provider.get(f"/enrolments/{seat['id']}").json()["status"] == "cancelled"
    again = provider.post(f"/courses/{course['id']}/enrolments", {"person_ref": person["person_ref"]})
    assert again.status_code == 422 and "Unknown person" in again.json()["detail"]
