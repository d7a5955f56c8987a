"""The ledger's exclusion constraint on its own, in the service's real
schema: PostgreSQL refuses a second benefit of one category for one
beneficiary in an overlapping period unless both stack."""
import uuid

import psycopg2.errors
import pytest

from setiakawan_distribution import SERVICE


@pytest.fixture
def ledger(make_database, db):
    conn = db(make_database(SERVICE.migrations, prefix="distribution_ledger"))
    programme = str(uuid.uuid4())
    with conn.cursor() as cur:
        cur.execute("INSERT INTO programmes (id, agency, agency_kind, funding_source, name, kind, category, starts_on,"
                    " ends_on, region_codes, rule) VALUES (%s, 'Dinsos', 'province', 'apbn', 'P', 'in_kind', 'food',"
                    " '2026-12-01', '2026-12-31', '{62}', 'true')", (programme,))

    def add(beneficiary, period, stacks=False, category="food"):
        entitlement = str(uuid.uuid4())
        with conn.cursor() as cur:
            cur.execute("INSERT INTO entitlements (id, programme_id, beneficiary_kind, beneficiary_id, village_code,"
                        " status) VALUES (%s, %s, 'household', %s, '62.13.01.2003', 'issued')",
                        (entitlement, programme, str(uuid.uuid4())))
            cur.execute("INSERT INTO ledger (entitlement_id, beneficiary_id, category, period, stack_token,"
                        " programme_id, agency) VALUES (%s, %s, %s, daterange(%s, %s, '[]'),"
                        " CASE WHEN %s THEN 0 ELSE nextval('ledger_tokens') END, %s, 'Dinsos')",
                        (entitlement, beneficiary, category, *period, stacks, programme))

    return add


DECEMBER, MID_DECEMBER_TO_JANUARY, JANUARY = ("2026-12-01", "2026-12-31"), ("2026-12-15", "2027-01-15"), \
    ("2027-01-01", "2027-01-31")


@pytest.mark.parametrize("first, second", [
    ((DECEMBER, False), (DECEMBER, False)),
    ((DECEMBER, False), (MID_DECEMBER_TO_JANUARY, False)),
    ((DECEMBER, True), (DECEMBER, False)),
    ((DECEMBER, False), (DECEMBER, True)),
    ((("2026-12-01", "2026-12-01"), False), (("2026-12-01", "2026-12-01"), False)),  # one day, both ends in
])
def test_an_overlapping_second_benefit_is_refused_unless_both_stack(ledger, first, second):
    household = str(uuid.uuid4())
    ledger(household, first[0], stacks=first[1])
    with pytest.raises(psycopg2.errors.ExclusionViolation):
        ledger(household, second[0], stacks=second[1])


def test_stacking_pairs_other_periods_other_categories_and_other_households_are_allowed(ledger):
    household = str(uuid.uuid4())
    ledger(household, DECEMBER, stacks=True)
    ledger(household, DECEMBER, stacks=True)
    ledger(household, JANUARY)
    ledger(household, DECEMBER, category="cash")
    ledger(str(uuid.uuid4()), DECEMBER)
