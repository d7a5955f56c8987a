"""Charts drawn on the server as SVG (no script, readable by a screen
reader through their title and description, crisp on a phone): bars of
several series side by side in one bar per line (stacked), each segment
with its figure."""
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Series:
    label: str
    colour: str


LABEL_WIDTH = 150
BAR_HEIGHT = 22
GAP = 8
LEGEND_HEIGHT = 26


def stacked_bars(title, lines, series, width=560, number=str):
    """``lines``: [(label, [value per series])]; each line one bar whose
    segments are the series' values, the longest line spanning the width.
    ``number`` formats a figure (the page's language)."""
    plot = width - LABEL_WIDTH - 60
    biggest = max((sum(values) for _, values in lines), default=0) or 1
    height = LEGEND_HEIGHT + len(lines) * (BAR_HEIGHT + GAP) + GAP
    summary = "; ".join(f"{label}: " + ", ".join(f"{s.label} {number(v)}" for s, v in zip(series, values))
                        for label, values in lines)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-labelledby="t d" preserveAspectRatio="xMinYMin meet">',
             f"<title>{escape(title)}</title>", f"<desc>{escape(summary)}</desc>"]
    x = LABEL_WIDTH
    for s in series:  # the legend
        parts.append(f'<rect x="{x}" y="4" width="14" height="14" fill="{escape(s.colour)}"/>'
                     f'<text x="{x + 19}" y="16" font-size="12">{escape(s.label)}</text>')
        x += 24 + 7 * len(s.label)
    for row, (label, values) in enumerate(lines):
        y = LEGEND_HEIGHT + GAP + row * (BAR_HEIGHT + GAP)
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
                     f"{escape(_short(label))}</text>")
        x = LABEL_WIDTH
        for s, value in zip(series, values):
            length = plot * value / biggest
            if length <= 0:
                continue
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" '
                         f'fill="{escape(s.colour)}"><title>{escape(label)}: {escape(s.label)} '
                         f"{escape(number(value))}</title></rect>")
            if length > 8 * len(number(value)) + 6:
                parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" font-size="12" fill="#fff">'
                             f"{escape(number(value))}</text>")
            x += length
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" font-size="12">{escape(number(sum(values)))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _short(label, limit=24):
    return label if len(label) <= limit else label[:limit - 1] + "…"
