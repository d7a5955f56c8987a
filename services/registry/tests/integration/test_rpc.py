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
