"""Use cases of reports: a programme per village (planned, delivered,
blocked, revoked, Rupiah, items, and the stock of its point), and a
household's every benefit from every agency; JSON and CSV."""
import csv
import io
from decimal import Decimal

from . import entitlements, lookup, snapshots
from .rules.stock import decimal_text
from .storage import reports as storage, stock as stock_storage

VILLAGE_COLUMNS = ("village_code", "planned", "delivered", "blocked", "revoked", "amount_planned", "amount_delivered")


def programme(uow, identity, programme_id):
    row = lookup.programme(uow, identity, programme_id)
    villages = storage.programme_by_village(uow, programme_id, identity.agency, identity.regions)
    items = snapshots.items(row["items"])
    lines = [dict(v, items=[{"item": i["item"], "unit": i["unit"],
                             "planned": decimal_text(Decimal(i["quantity"]) * v["planned"]),
                             "delivered": decimal_text(Decimal(i["quantity"]) * v["delivered"])} for i in items])
             for v in villages]
    total = {k: sum(v[k] for v in villages) for k in VILLAGE_COLUMNS[1:]}
    stock = []
    if row["point_id"]:
        held = {s["item"]: s for s in stock_storage.levels(uow, row["point_id"])}
        stock = [{"item": i["item"], "unit": i["unit"],
                  "on_hand": decimal_text(held[i["item"]]["on_hand"]) if i["item"] in held else "0",
                  "allocated": decimal_text(held[i["item"]]["allocated"]) if i["item"] in held else "0",
                  "still_to_deliver": decimal_text(Decimal(i["quantity"]) * (total["planned"] - total["delivered"]))}
                 for i in items]
    return {"programme_id": row["id"], "name": row["name"], "agency": row["agency"], "status": row["status"],
            "budget": row["budget"], "budget_used": total["amount_planned"], "totals": total,
            "by_village": lines, "stock": stock}


def programme_csv(report):
    out = io.StringIO()
    writer = csv.writer(out)
    items = [(i["item"], i["unit"]) for line in report["by_village"][:1] for i in line["items"]]
    writer.writerow([*VILLAGE_COLUMNS, *(f"{name} planned ({unit})" for name, unit in items),
                     *(f"{name} delivered ({unit})" for name, unit in items)])
    for line in report["by_village"]:
        writer.writerow([*(line[c] for c in VILLAGE_COLUMNS), *(i["planned"] for i in line["items"]),
                         *(i["delivered"] for i in line["items"])])
    return "\ufeff" + out.getvalue()  # the mark that makes Excel read UTF-8


HOUSEHOLD_COLUMNS = ("programme_name", "agency", "category", "kind", "starts_on", "ends_on", "status", "amount",
                     "items")


def household(uow, identity, household_id):
    return entitlements.of_household(uow, identity, household_id)


def household_csv(report):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HOUSEHOLD_COLUMNS)
    for row in report["benefits"]:
        writer.writerow([*(row[c] for c in HOUSEHOLD_COLUMNS[:-1]),
                         "; ".join(f"{i['quantity']} {i['unit']} {i['item']}" for i in snapshots.items(row["items"]))])
    return "\ufeff" + out.getvalue()
