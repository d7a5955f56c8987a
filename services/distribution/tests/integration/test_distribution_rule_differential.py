"""Each eligibility rule runs two ways, compiled to one SQL condition for the
set-based pass and evaluated in Python for one household: on the real
PostgreSQL, both give the same verdict for thousands of random households
under hundreds of random rules."""
from psycopg2.extras import execute_values

from distribution_support import households, rules
from setiakawan_distribution.rules.eligibility import FIELDS, condition, parse

COLUMNS = {field: f"h.{field}" for field in FIELDS} | {"verified": "(h.status = 'verified')"}
STORED = [field for field in FIELDS if field != "verified"]


def test_sql_and_python_agree_on_every_household_under_every_rule(make_database, db):
    conn = db(make_database(prefix="distribution_rules"))
    sample = households(seed=3, n=3000)
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE households (id int PRIMARY KEY, decile int, status text NOT NULL,"
                    " village_code text NOT NULL, members int NOT NULL, children int NOT NULL, elderly int NOT NULL,"
                    " disabled int NOT NULL, group_kinds text[] NOT NULL, completed_skills text[] NOT NULL)")
        execute_values(cur, f"INSERT INTO households (id, {', '.join(STORED)}) VALUES %s",
                       [(i, *(house[f] for f in STORED)) for i, house in enumerate(sample)])
        reached = set()
        texts = rules(seed=5, n=500)
        for text in texts:
            rule = parse(text)
            sql, params = condition(rule, COLUMNS)
            cur.execute(f"SELECT id FROM households h WHERE {sql}", params)
            in_sql = {row[0] for row in cur.fetchall()}
            in_python = {i for i, house in enumerate(sample) if rule.matches(house)}
            assert in_sql == in_python, (text, sorted(in_sql ^ in_python)[:5])
            reached.add(len(in_sql))
    # the rules reach anything from nobody to everybody, not one answer for all
    assert 0 in reached and len(sample) in reached and len(reached) > 100
