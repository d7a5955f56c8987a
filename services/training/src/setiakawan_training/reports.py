"""Use case of reports: participation per course, per provider, or per
region and course (the Kutai Kartanegara question "which sub-districts had
which courses and how many took part" is ``by=region&level=district``), of
the participants the caller may see."""
import csv
import io

from .rules import reports as rules
from .storage import reports as storage


def participation(uow, identity, query):
    rows = storage.participants(uow, identity.agency, identity.regions, query)
    lines = rules.aggregate(rows, query["by"], query["level"])
    return {"by": query["by"], "level": query["level"] if query["by"] == "region" else None, "lines": lines}


def as_csv(report):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(rules.csv_columns(report["by"]))
    writer.writerows(rules.csv_row(line, report["by"]) for line in report["lines"])
    return "\ufeff" + out.getvalue()  # the mark that makes Excel read UTF-8
