"""Use cases of reading the delivery log: an agency sees the messages of
its own events and those to places in its regions."""
from setiakawan_kit.auth import region_patterns
from setiakawan_kit.errors import NotFound

from .rules import access
from .storage import messages as storage


def search(uow, identity, query):
    filters = {k: query.get(k) for k in ("status", "event_type", "channel")}
    filters["recipient_id"] = query.get("recipient_id") and str(query["recipient_id"])
    rows = storage.search(uow, [identity.agency], region_patterns(identity.regions), filters, query["per_page"],
                          (query["page"] - 1) * query["per_page"])
    return {"page": query["page"], "per_page": query["per_page"], "items": rows}


def read(uow, identity, message_id):
    row = storage.message(uow, message_id)
    if row is None or not access.sees_message(identity, row):
        raise NotFound(f"No message {message_id} you may see.")
    return row
