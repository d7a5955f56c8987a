"""The tables of a console page, each exportable as CSV and as an Excel
workbook (what agencies pass around): the page declares them, the kit
answers ``?export=csv&table=<name>`` (or ``xlsx``) from the same figures
the page shows."""
import csv
import io
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORTS = ("csv", "xlsx")


@dataclass
class Table:
    """``columns``: [(key of a row, heading)]; ``rows``: dicts (or objects with those keys)."""

    name: str
    title: str
    columns: list
    rows: list = field(default_factory=list)

    def values(self, row):
        return [_cell(row.get(key) if isinstance(row, dict) else getattr(row, key, None))
                for key, _ in self.columns]


def _cell(value):
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def as_csv(table):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([heading for _, heading in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in table.values(row)])
    return ("\ufeff" + out.getvalue()).encode()  # the mark that makes Excel read UTF-8


def as_xlsx(table):
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(table.title)
    sheet.append([heading for _, heading in table.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([v if isinstance(v, (int, float)) or v is None else str(v) for v in table.values(row)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title):
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31] or "Sheet"
