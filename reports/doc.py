"""Writes the catalogue section of docs/reports.md from the definitions: ``python -m reports.doc`` prints it."""

from __future__ import annotations

from reports import CATALOGUE

FAMILIES = {
    "loans": "User and loan reports",
    "staff": "Staff reports",
    "collections": "Collection reports",
    "marketing": "Marketing and lead reports",
    "bureau": "Bureau reports",
}


def render() -> str:
    out: list[str] = []
    for family, heading in FAMILIES.items():
        out.append(f"## {heading}\n")
        for report in (r for r in CATALOGUE.values() if r.family == family):
            out.append(f"### `{report.name}`\n")
            out.append(f"**{report.title}.** {report.description}  \nDate range on: {report.date_column}.\n")
            if report.note:
                out.append(f"> {report.note}\n")
            out.append("| column | type | what |\n|---|---|---|")
            out.extend(f"| `{c.name}` | {c.type} | {c.description} |" for c in report.columns)
            out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render())
