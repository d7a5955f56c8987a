"""Random households and eligibility rules for the rule tests: the same
seed gives the same ones."""
import random

from setiakawan_contract.registry import GROUP_KINDS, STATUSES

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
