"""The households read model: each household's head and village, from the
registry's snapshots (the highest version wins)."""
from psycopg2.extras import execute_values


def replace(uow, rows):
    """Store [(household_id, version, head_ref, village_code, status)] where newer than what is held."""
    if rows:
        execute_values(uow.cursor,
                       "INSERT INTO households (household_id, version, head_ref, village_code, status) VALUES %s"
                       " ON CONFLICT (household_id) DO UPDATE SET version = EXCLUDED.version,"
                       " head_ref = EXCLUDED.head_ref, village_code = EXCLUDED.village_code, status = EXCLUDED.status"
                       " WHERE households.version < EXCLUDED.version", rows)
