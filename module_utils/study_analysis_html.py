# -*- coding: utf-8 -*-
"""The analysis as one self-contained HTML page: inline CSS, inline SVG charts, the tables.

No script, no external style, font or image: the page opens offline and sends no request.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from html import escape

PALETTE = ["#4363d8", "#e6194b", "#3cb44b", "#f58231", "#911eb4", "#42d4f4", "#f032e6",
           "#9a6324", "#808000", "#000075"]
STYLE = """
body{font-family:sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{font-size:1.5em}h2{font-size:1.25em;border-bottom:1px solid #aaa;margin-top:2em}
h3{font-size:1.05em}table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.85em}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}
td.n{text-align:right}svg{display:block;margin:.5em 0}.note{color:#555;font-size:.9em}
"""


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _format(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return ("%.4f" % value).rstrip("0").rstrip(".")
    return str(value)


def bar_chart(title, categories, series, maximum=None, unit=""):
    """Horizontal grouped bars: one row per category, one bar per series.

    series: [(name, {category: value})]; missing values are left out (not drawn as zero).
    """
    values = [v for _n, data in series for v in data.values() if _number(v)]
    top = maximum if maximum is not None else max(values + [0]) or 1
    bar, gap, label_width, width = 12, 8, 230, 420
    rows = len(categories) * (len(series) * bar + gap)
    legend = 18 * len(series) if len(series) > 1 else 0
    height = 24 + rows + legend + 8
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="%s">'
             % (label_width + width + 80, height, escape(title)),
             '<text x="0" y="14" font-size="13" font-weight="bold">%s</text>' % escape(title)]
    y = 24
    for category in categories:
        name = str(category)
        short = name if len(name) <= 38 else name[:37] + u"\u2026"
        parts.append('<text x="%d" y="%d" font-size="11" text-anchor="end"><title>%s</title>%s</text>'
                     % (label_width - 6, y + len(series) * bar / 2 + 4, escape(name), escape(short)))
        for index, (_name, data) in enumerate(series):
            value = data.get(category)
            if _number(value):
                length = max(0.0, min(1.0, float(value) / top)) * width
                parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>'
                             % (label_width, y, length, bar - 1, PALETTE[index % len(PALETTE)]))
                parts.append('<text x="%.1f" y="%d" font-size="10">%s%s</text>'
                             % (label_width + length + 3, y + bar - 2, escape(_format(value)), unit))
            y += bar
        y += gap
    for index, (name, _data) in enumerate(series if len(series) > 1 else []):
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
                     % (label_width, y + 18 * index, PALETTE[index % len(PALETTE)]))
        parts.append('<text x="%d" y="%d" font-size="11">%s</text>'
                     % (label_width + 14, y + 18 * index + 9, escape(str(name))))
    parts.append("</svg>")
    return "".join(parts)


def table(columns, rows):
    head = "".join("<th>%s</th>" % escape(column) for column in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            cells.append('<td%s>%s</td>' % (' class="n"' if _number(value) else "", escape(_format(value))))
        body.append("<tr>%s</tr>" % "".join(cells))
    return "<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>" % (head, "".join(body))


def _batch_charts(batch, tables):
    mine = dict((name, [row for row in rows if row.get("batch") == batch]) for name, rows in tables.items())
    out = ["<h2>%s</h2>" % escape(batch)]
    agreement = mine.get("agreement", [])
    kinds = []
    for row in agreement:
        if row["kind"] not in kinds:
            kinds.append(row["kind"])
    for kind in kinds:
        rows = [row for row in agreement if row["kind"] == kind]
        out.append(bar_chart("Span agreement (mean pairwise F1), %s" % kind, [row["label"] for row in rows],
                             [("F1", dict((row["label"], row["f1"]) for row in rows))], maximum=1.0))
    for vote in ("exact", "relaxed", "majority"):
        rows = mine.get("errors-" + vote, [])
        categories, models = [], []
        for row in rows:
            if row["category"] not in categories:
                categories.append(row["category"])
            if row["model"] not in models:
                models.append(row["model"])
        series = [(model, dict((row["category"], row["percent"]) for row in rows if row["model"] == model))
                  for model in models]
        out.append(bar_chart("Errors per model, %s vote (%% of reports with at least one)" % vote,
                             categories, series, maximum=100.0, unit="%"))
    durations = [row for row in mine.get("durations", []) if row.get("mean") is not None]
    out.append(bar_chart("Self-reported minutes per report (mean)", [row["annotator"] for row in durations],
                         [("mean", dict((row["annotator"], row["mean"]) for row in durations)),
                          ("median", dict((row["annotator"], row["median"]) for row in durations))],
                         unit=" min"))
    progress = mine.get("completeness", [])
    out.append(bar_chart("Progress: assigned and completed", [row["annotator"] for row in progress],
                         [("assigned", dict((row["annotator"], row["assigned"]) for row in progress)),
                          ("completed", dict((row["annotator"], row["completed"]) for row in progress))]))
    return "".join(out)


def render(title, facts, batches, tables, columns, texts=None):
    """The page. facts: [(what, value)] saying what the analysis used; texts: optional
    [(batch, report, text)] shown only when the user asked for report text."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="referrer" content="no-referrer">',
             "<title>%s</title><style>%s</style></head><body>" % (escape(title), STYLE),
             "<h1>%s</h1>" % escape(title),
             table(["what", "value"], [{"what": what, "value": value} for what, value in facts])]
    for batch in batches:
        parts.append(_batch_charts(batch, tables))
    parts.append("<h2>Tables</h2>")
    for name, rows in tables.items():
        parts.append("<h3>%s</h3>" % escape(name))
        parts.append(table(columns[name], rows) if rows else '<p class="note">none</p>')
    if texts:
        parts.append("<h2>Report text</h2>")
        parts.append(table(["batch", "report", "text"],
                           [{"batch": b, "report": r, "text": t} for b, r, t in texts]))
    parts.append("</body></html>\n")
    return "\n".join(parts)
