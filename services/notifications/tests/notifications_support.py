"""What the notifications tests share: an HTTP client, the sending
settings tests run with, event data as the other services publish it,
and a look into the delivery log."""
import copy
import uuid


from setiakawan_contract import event_types
from setiakawan_kit.testing import ApiClient

BARITO_TIMUR = "Dinas Sosial Kabupaten Barito Timur"
PROVINCE = "Dinas Sosial Provinsi Kalimantan Tengah"
BALANGAN = "Dinas Sosial Kabupaten Balangan"
PULAU_PATAI = "62.13.01.2003"      # Barito Timur, Kalimantan Tengah (WIB)
MUARA_NINIAN = "63.11.01.2001"     # Balangan, Kalimantan Selatan (WITA)
EXAMPLES = {t.name: t.example for t in event_types}


Client = ApiClient  # the services' tests' name for it


def sending(**overrides):
    """Quick retries and leases, and no quiet hours (from = until) unless a test sets them."""
    return dict({"retry_base_s": 0.2, "retry_max_s": 1, "max_attempts": 5, "lease_s": 3, "timeout_s": 5,
                 "quiet_from": "00:00", "quiet_until": "00:00", "suspend_after": 4, "batch_size": 200}, **overrides)


def example(event_type, **changes):
    return copy.deepcopy(dict(EXAMPLES[event_type], **changes))


def household(head_ref=None, village=PULAU_PATAI, version=1, status="verified", household_id=None):
    """A household snapshot as the registry's events carry it (a head and a child)."""
    members = [{"person_ref": head_ref or str(uuid.uuid4()), "age": 41, "sex": "F", "relationship": "head",
                "disability": False},
               {"person_ref": str(uuid.uuid4()), "age": 9, "sex": "M", "relationship": "child", "disability": False}]
    return dict(copy.deepcopy(EXAMPLES["household.registered"]["household"]), household_id=household_id
                or str(uuid.uuid4()), version=version, village_code=village, district_code=village[:8],
                regency_code=village[:5], province_code=village[:2], status=status, members=members, size=2,
                children=1, elderly=0, disabled=0)


def entitlement(household_id, village=PULAU_PATAI, **changes):
    return dict(copy.deepcopy(EXAMPLES["entitlement.issued"]["entitlement"]), entitlement_id=str(uuid.uuid4()),
                beneficiary_id=household_id, village_code=village, **changes)


def log_rows(db, service, **where):
    """The delivery log's rows (dicts), oldest first, where the columns equal ``where``."""
    conditions = " AND ".join(f"{column} = %s" for column in where) or "true"
    with db(service.database).cursor() as cur:
        cur.execute(f"SELECT * FROM messages WHERE {conditions} ORDER BY created_at, id", list(where.values()))
        names = [c.name for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]
