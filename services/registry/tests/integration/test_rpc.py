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
