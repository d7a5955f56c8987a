"""Request bodies the registry's tests share."""


def household_body(kk="6213010107200001", village="62.13.01.2003", members=None, **extra):
    body = {
        "kk_number": kk,
        "address": {"street": "Jl. Tjilik Riwut No. 5", "rt": "001", "rw": "002", "village_code": village},
        "indicators": {"monthly_income": 1_200_000, "floor": "wood", "wall": "wood", "roof": "zinc",
                       "electricity": "pln_450", "water": "protected_well", "sanitation": "shared",
                       "assets": ["motorcycle"]},
        "legal_basis": "public_duty",
        "members": members or [
            {"nik": "6213014107850003", "name": "Siti Aminah", "birth_date": "1985-07-01", "sex": "F",
             "relationship": "head", "phone": "0812-3456-7890"},
            {"nik": "6213011503100002", "name": "Budi Santoso", "birth_date": "2010-03-15", "sex": "M",
             "relationship": "child"},
            {"nik": "6213010101500001", "name": "Hasan Rahman", "birth_date": "1950-01-01", "sex": "M",
             "relationship": "parent", "disability": "physical"},
        ],
    }
    body.update(extra)
    return body
