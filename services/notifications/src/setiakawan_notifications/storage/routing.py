"""Routing rules."""

COLUMNS = "event_type, recipient, channels, template, language, urgent, enabled, updated_by, updated_at"


def all_rules(uow):
    return uow.fetchall(f"SELECT {COLUMNS} FROM routing_rules ORDER BY event_type, recipient")


def enabled_for(uow, event_types):
    return uow.fetchall(f"SELECT {COLUMNS} FROM routing_rules WHERE enabled AND event_type = ANY(%s)"
                        " ORDER BY event_type, recipient", (list(event_types),))


def save(uow, rule):
    return uow.fetchone(
        f"INSERT INTO routing_rules ({COLUMNS}) VALUES (%(event_type)s, %(recipient)s, %(channels)s, %(template)s,"
        " %(language)s, %(urgent)s, %(enabled)s, %(updated_by)s, now())"
        " ON CONFLICT (event_type, recipient) DO UPDATE SET channels = EXCLUDED.channels,"
        " template = EXCLUDED.template, language = EXCLUDED.language, urgent = EXCLUDED.urgent,"
        " enabled = EXCLUDED.enabled, updated_by = EXCLUDED.updated_by, updated_at = now()"
        f" RETURNING {COLUMNS}", rule)
