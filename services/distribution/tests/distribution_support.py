"""What the distribution tests share: an HTTP client, household and group
snapshots as the registry's events carry them, and random households and
eligibility rules for the rule tests (the same seed gives the same ones)."""
import copy
import random
import uuid


from setiakawan_contract.registry import GROUP_KINDS, STATUSES
from setiakawan_kit.testing import ApiClient

PROVINCE = "Dinas Sosial Provinsi Kalimantan Tengah"
BARITO_TIMUR = "Dinas Sosial Kabupaten Barito Timur"
BALANGAN = "Dinas Sosial Kabupaten Balangan"
# Barito Timur (62.13), Dusun Timur district; Balangan (63.11)
TAMIANG_LAYANG = "62.13.01.1012"
PULAU_PATAI = "62.13.01.2003"
MATABU = "62.13.01.2007"
MUARA_NINIAN = "63.11.01.2001"


Client = ApiClient  # the services' tests' name for it


def member(age=41, sex="F", relationship="head", disability=False, person_ref=None):
    return {"person_ref": person_ref or str(uuid.uuid4()), "age": age, "sex": sex, "relationship": relationship,
            "disability": disability}


def snapshot(village=TAMIANG_LAYANG, decile=2, status="verified", version=1, members=None, household_id=None,
             **extra):
    """A household snapshot as the registry's events carry it."""
    members = members if members is not None else [member()]
    return {"household_id": household_id or str(uuid.uuid4()), "version": version, "village_code": village,
            "district_code": village[:8], "regency_code": village[:5], "province_code": village[:2],
            "status": status, "welfare_score": 20.0, "decile": decile, "size": len(members),
            "children": sum(m["age"] < 18 for m in members), "elderly": sum(m["age"] >= 60 for m in members),
            "disabled": sum(m["disability"] for m in members), "registering_agency": BARITO_TIMUR,
            "members": members, **extra}


def group(kind="kube", village=MUARA_NINIAN, member_refs=(), version=1, status="active", group_id=None):
    return {"group_id": group_id or str(uuid.uuid4()), "version": version, "name": "KUBE Maju Bersama", "kind": kind,
            "village_code": village, "district_code": village[:8], "regency_code": village[:5], "status": status,
            "member_refs": list(member_refs), "registering_agency": BALANGAN}


SEMBAKO = [{"item": "beras", "quantity": "10", "unit": "kg"}, {"item": "minyak goreng", "quantity": "2", "unit": "l"},
           {"item": "gula pasir", "quantity": "1", "unit": "kg"}]


def programme_body(name="Sembako Desember Barito Timur", kind="in_kind", category="food", regions=("62.13",),
                   rule="household.decile <= 4 && household.verified", period=("2026-12-01", "2026-12-31"),
                   **extra):
    body = {"name": name, "funding_source": "apbd_province", "kind": kind, "category": category,
            "items": copy.deepcopy(SEMBAKO) if kind == "in_kind" else [], "period": {"starts_on": period[0], "ends_on": period[1]},
            "region_codes": list(regions), "rule": rule}
    body.update(extra)
    return body


def activated(client, body):
    created = client.post("/programmes", body)
    assert created.status_code == 201, created.text
    done = client.post(f"/programmes/{created.json()['id']}/activate")
    assert done.status_code == 200, done.text
    return done.json()


VILLAGES = ["62.12.01.2001", "62.12.01.2002", "62.12.02.2001", "62.13.01.2003", "63.11.03.2004", "63.11.05.1001"]
REGIONS = ["62", "62.12", "62.12.01", "62.13", "63.11", "63.11.05.1001", "64.02"]
SKILLS = ["sewing", "farming", "culinary"]
COUNTS = ["members", "children", "elderly", "disabled"]


def household(rng):
    status = rng.choice(STATUSES)
    return {"decile": None if rng.random() < 0.15 else rng.randint(1, 10), "status": status,
            "verified": status == "verified", "village_code": rng.choice(VILLAGES),
            "members": rng.randint(1, 6), "children": rng.randint(0, 4), "elderly": rng.randint(0, 2),
            "disabled": rng.randint(0, 1),
            "group_kinds": sorted(k for k in GROUP_KINDS if rng.random() < 0.3),
            "completed_skills": sorted(s for s in SKILLS if rng.random() < 0.2)}


def households(seed, n):
    rng = random.Random(seed)
    return [household(rng) for _ in range(n)]


def _quoted(values):
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def atom(rng):
    op = rng.choice(["<", "<=", ">", ">=", "==", "!="])
    choices = [
        lambda: f"household.decile {op} {rng.randint(0, 11)}",
        lambda: f"household.{rng.choice(COUNTS)} {op} {rng.randint(0, 5)}",
        lambda: f"{rng.randint(0, 5)} {op} household.{rng.choice(COUNTS)}",
        lambda: "household.verified",
        lambda: f"household.verified {rng.choice(['==', '!='])} {rng.choice(['true', 'false'])}",
        lambda: f'household.status {rng.choice(["==", "!="])} "{rng.choice(STATUSES)}"',
        lambda: f"household.status in {_quoted(rng.sample(STATUSES, rng.randint(0, 3)))}",
        lambda: f"household.decile in [{', '.join(str(d) for d in rng.sample(range(1, 11), rng.randint(0, 4)))}]",
        lambda: f'"{rng.choice(GROUP_KINDS)}" in household.group_kinds',
        lambda: f'"{rng.choice(SKILLS)}" in household.completed_skills',
        lambda: f"size(household.group_kinds) {op} {rng.randint(0, 3)}",
        lambda: f'within(household.village_code, "{rng.choice(REGIONS)}")',
        lambda: rng.choice(["true", "false"]),
    ]
    return rng.choice(choices)()


def rule(rng, depth=3):
    if depth == 0 or rng.random() < 0.3:
        return atom(rng)
    shape = rng.random()
    if shape < 0.15:
        return f"!({rule(rng, depth - 1)})"
    joiner = "&&" if shape < 0.6 else "||"
    return f"({rule(rng, depth - 1)} {joiner} {rule(rng, depth - 1)})"


def rules(seed, n):
    rng = random.Random(seed)
    return [rule(rng) for _ in range(n)]
