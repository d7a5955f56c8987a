"""The event snapshots of programmes and entitlements (the contract's shapes)."""
from .rules.stock import decimal_text


def _period(starts_on, ends_on):
    return {"starts_on": starts_on, "ends_on": ends_on}


def items(values):
    return [{"item": i["item"], "quantity": decimal_text(i["quantity"]), "unit": i["unit"]} for i in values or ()]


def programme(row):
    return {"programme_id": str(row["id"]), "version": row["version"], "agency": row["agency"],
            "partners": list(row["partners"]), "funding_source": row["funding_source"], "name": row["name"],
            "kind": row["kind"], "category": row["category"], "items": items(row["items"]),
            "cash": {"basis": row["cash_basis"], "amount": row["cash_amount"]} if row["cash_basis"] else None,
            "group_kind": row["group_kind"],
            "group_ids": [str(g) for g in row["group_ids"]] if row["group_ids"] else None,
            "period": _period(row["starts_on"], row["ends_on"]), "region_codes": list(row["region_codes"]),
            "rule": row["rule"], "quota": row["quota"], "budget": row["budget"], "stacks": row["stacks"],
            "status": row["status"]}


def entitlement(row):
    """``row``: an entitlement with its programme (storage.entitlements.DETAIL)."""
    return {"entitlement_id": str(row["id"]), "version": row["version"], "programme_id": str(row["programme_id"]),
            "programme_name": row["programme_name"], "agency": row["agency"], "kind": row["kind"],
            "category": row["category"], "beneficiary_kind": row["beneficiary_kind"],
            "beneficiary_id": str(row["beneficiary_id"]), "village_code": row["village_code"],
            "period": _period(row["starts_on"], row["ends_on"]), "amount": row["amount"],
            "items": items(row["items"]), "status": row["status"]}


def stock_level(point, level):
    return {"point_id": str(point["id"]), "point_name": point["name"], "agency": point["agency"],
            "village_code": point["village_code"], "item": level["item"], "unit": level["unit"],
            "on_hand": decimal_text(level["on_hand"]), "allocated": decimal_text(level["allocated"])}
