"""The registry's RPC for other services, called over AMQP the way any
client can (nameko's RPC protocol: exchange ``nameko-rpc``, routing key
``registry.<method>``, reply to a queue bound to that exchange), as the
broker account of the service allowed to make each call."""
import uuid

from registry_support import household_body


def test_contact_details_and_nik_check_keep_personal_data_in_the_registry(client, call_registry, access_rows):
    household = client().post("/households", household_body()).json()
    head = household["members"][0]
    details = call_registry("contact_details", head["person_ref"])
    assert details == {"person_ref": head["person_ref"], "name": "Siti Aminah", "phone": "+6281234567890",
                       "village_code": "62.13.01.2003"}
    assert call_registry("contact_details", str(uuid.uuid4())) is None
    assert call_registry("contact_details", "not-a-reference") is None
    assert call_registry("contact_details", "urn:uuid:" + head["person_ref"])["name"] == "Siti Aminah"
    assert call_registry("nik_belongs_to", "6213014107850003", head["person_ref"]) is True
    assert call_registry("nik_belongs_to", "6213011503100002", head["person_ref"]) is False
    assert call_registry("nik_belongs_to", "6213014107850003", "junk") is False

    # each call that returned or checked a person's data is in the access log
    rows = access_rows(kind="service")
    assert [(r["agency"], r["role"], r["action"], r["disclosure"], str(r["person_ref"]), str(r["household_id"]),
             r["region_code"]) for r in rows] == [
        (caller, "rpc", action, disclosure, head["person_ref"], household["id"], "62.13.01.2003")
        for caller, action, disclosure in (("notifications", "contact_details", "clear"),
                                           ("notifications", "contact_details", "clear"),
                                           ("distribution", "nik_belongs_to", "check"),
                                           ("distribution", "nik_belongs_to", "check"))]


def test_nik_checks_of_a_batch_answer_in_order_and_log_each_under_its_own_request(client, call_registry,
                                                                                  access_rows):
    household = client().post("/households", household_body()).json()
    head, child = (next(m for m in household["members"] if m["relationship"] == kind) for kind in ("head", "child"))
    checks = [{"nik": "6213014107850003", "person_ref": head["person_ref"], "correlation_id": "delivery-1"},
              {"nik": "6213014107850003", "person_ref": child["person_ref"], "correlation_id": "delivery-2"},
              {"nik": "6213011503100002", "person_ref": str(uuid.uuid4()), "correlation_id": "delivery-3"},
              {"nik": "6213011503100002", "person_ref": "junk"}, "not a check",
              {"nik": "6213011503100002", "person_ref": "urn:uuid:" + child["person_ref"]},
              {"nik": "6213014107850003", "person_ref": head["person_ref"], "correlation_id": "not one; DROP"}]
    assert call_registry("nik_belongs_to", checks) == [True, False, False, False, False, True, True]
    assert call_registry("nik_belongs_to", []) == []
    # a check of a current member is logged, with the correlation id of the request it was made for
    logged = [(str(r["person_ref"]), r["correlation_id"]) for r in access_rows(action="nik_belongs_to")]
    assert sorted(ref for ref, _ in logged) == sorted([head["person_ref"], child["person_ref"], child["person_ref"],
                                                       head["person_ref"]])
    assert {(head["person_ref"], "delivery-1"), (child["person_ref"], "delivery-2")} <= set(logged)
    assert "not one; DROP" not in {correlation for _, correlation in logged}  # the call's own instead


def test_contact_details_of_a_batch_answer_in_order_and_log_each_person_shown(client, call_registry, access_rows):
    household = client().post("/households", household_body()).json()
    head, child = household["members"][0], household["members"][1]
    unknown = str(uuid.uuid4())
    found = call_registry("contact_details", [child["person_ref"], unknown, "junk", head["person_ref"]])
    assert [f and f["person_ref"] for f in found] == [child["person_ref"], None, None, head["person_ref"]]
    assert found[3]["phone"] == "+6281234567890"
    assert call_registry("contact_details", []) == []
    logged = sorted(str(r["person_ref"]) for r in access_rows(kind="service"))
    assert logged == sorted([head["person_ref"], child["person_ref"]])
