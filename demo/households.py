"""Synthetic households for the demo, as the registry's API takes them:
real villages, valid NIKs and KK numbers (``population``), most of them
poor enough for the seed programmes."""
from dataclasses import dataclass
from datetime import timedelta

from .population import Population

POOR = {"floor": ("earth", "bamboo", "wood"), "wall": ("bamboo", "wood"), "roof": ("thatch", "zinc"),
        "electricity": ("none", "shared", "pln_450"), "water": ("river", "unprotected_well"),
        "sanitation": ("none", "shared")}
WELL_OFF = {"monthly_income": "9000000", "floor": "ceramic", "wall": "brick", "roof": "concrete",
            "electricity": "pln_1300", "water": "piped", "sanitation": "private",
            "assets": "motorcycle;refrigerator;land"}
INDICATORS = ("monthly_income", "floor", "wall", "roof", "electricity", "water", "sanitation")
MEMBER_FIELDS = ("nik", "name", "birth_date", "sex", "relationship", "disability", "occupation", "education", "phone")


@dataclass
class Household:
    """One registered household: what the demo sent and what the registry answered."""

    rows: list
    record: dict = None

    @property
    def id(self):
        return self.record["id"]

    @property
    def village(self):
        return self.rows[0]["village_code"]

    def member(self, relationship="head", min_age=0, today=None):
        """(person_ref, nik) of the first member with that relationship (and age)."""
        for ref, row in self.people():
            born = row["birth_date"]
            old_enough = today is None or born <= (today - timedelta(days=365 * min_age)).isoformat()
            if row["relationship"] == relationship and old_enough:
                return ref, row["nik"]
        return None

    def people(self):
        """(person_ref, row) of every member, as the demo sent them."""
        refs = {member["nik"]: member["person_ref"] for member in self.record["members"]}
        return [(refs[row["nik"]], row) for row in self.rows]


class Households:
    """Households for given villages from one seeded population, so that a
    second run makes the same ones (and the registry recognises them)."""

    def __init__(self, seed, today):
        self.population = Population(seed=seed, provinces=(), today=today)
        self.today = today

    def make(self, village, size=None, poor=True, phone=True, young_adult=False):
        rows = self.population.household(village=village, size=size)
        r = self.population.random
        if poor:
            income = r.randrange(300_000, 1_500_000, 50_000)
            for row in rows:
                row.update({k: r.choice(v) for k, v in POOR.items()}, monthly_income=str(income), assets="")
        else:
            for row in rows:
                row.update(WELL_OFF)
        if phone and not rows[0]["phone"]:
            rows[0]["phone"] = f"0812{r.randint(10_000_000, 99_999_999)}"
        if young_adult:  # a member aged 18 to 24: a course's participant
            born = self.today - timedelta(days=r.randint(18 * 365 + 10, 24 * 365))
            sex = r.choice("MF")
            first = r.choice(("Siti", "Nurul", "Rahmawati", "Putri") if sex == "F" else ("Rizky", "Fajar", "Ilham"))
            rows.append(dict(rows[0], nik=self.population.nik(village[:8], born, sex),
                             name=f"{first} {rows[0]['name'].split()[-1]}", birth_date=born.isoformat(), sex=sex,
                             relationship="child", disability="none", occupation="", education="sma", phone=""))
        return Household(rows)


def body(rows):
    """The registry's POST /households body for a household's rows."""
    first = rows[0]
    members = [{k: row[k] for k in MEMBER_FIELDS if row.get(k)} for row in rows]
    return {"kk_number": first["kk_number"],
            "address": {"street": first["street"], "rt": first["rt"], "rw": first["rw"],
                        "village_code": first["village_code"]},
            "indicators": {**{k: first[k] for k in INDICATORS}, "monthly_income": int(first["monthly_income"]),
                           "assets": [a for a in first["assets"].split(";") if a]},
            "legal_basis": "public_duty", "members": members}
