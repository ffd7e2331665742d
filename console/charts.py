"""Bar charts as SVG markup, drawn on the server: no JavaScript, no inline style.

The console's CSP forbids inline ``style`` attributes and scripts, so a chart is plain
SVG geometry (``x``, ``y``, ``width``, ``height``) with classes the stylesheet colours
(``office.css``). Each chart carries a ``<title>`` and ``<desc>`` for screen readers;
the page puts the same figures in a table beside it, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: the geometry of one chart (SVG user units)
ROW = 26
BAR = 16
LABEL = 170
PLOT = 420
VALUE = 150
TOP = 8
#: labels longer than this are cut (the table beside the chart has them whole)
LABEL_CHARS = 14


@dataclass(frozen=True)
class Bar:
    """One row: its label and one or more values (a series each, drawn side by side)."""

    label: str
    values: tuple[float, ...]


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(title: str, bars: Sequence[Bar], *, chart_id: str,
              series: Sequence[str] = (), describe: str = "",
              value_text: Callable[[float], str] = _number) -> Markup:
    """Horizontal bars, one row per :class:`Bar`; with several ``series`` each row has
    one thinner bar per series (classes ``bar s0``, ``bar s1``…) and a legend.

    ``chart_id`` must be unique on the page (it ties ``aria-labelledby`` to the title).
    An empty ``bars`` gives a chart that says so rather than an empty box.
    """
    n_series = max([len(b.values) for b in bars] + [len(series), 1])
    legend = ROW if n_series > 1 else 0
    height = TOP + legend + ROW * max(len(bars), 1) + TOP
    width = LABEL + PLOT + VALUE
    top = max([v for b in bars for v in b.values] + [0.0])
    scale = PLOT / top if top > 0 else 0.0
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [f'<svg class="chart" id="{escape(chart_id)}" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-labelledby="{title_id} {desc_id}" xmlns="http://www.w3.org/2000/svg">',
           f'<title id="{title_id}">{escape(title)}</title>',
           f'<desc id="{desc_id}">{escape(describe or title)}</desc>']
    if n_series > 1:
        x = LABEL
        for i, name in enumerate(series):
            out.append(f'<rect class="bar s{i}" x="{x}" y="{TOP + 4}" width="12" '
                       f'height="12"/>')
            out.append(f'<text class="legend" x="{x + 16}" y="{TOP + 15}">'
                       f'{escape(name)}</text>')
            x += 20 + 14 * len(name) + 24
    if not bars:
        out.append(f'<text class="empty" x="{LABEL}" y="{TOP + legend + 17}">—</text>')
    thin = BAR / n_series if n_series > 1 else BAR
    for row, b in enumerate(bars):
        y0 = TOP + legend + row * ROW
        out.append(f'<text class="label" x="{LABEL - 8}" y="{y0 + 17}" '
                   f'text-anchor="end">{escape(_cut(b.label))}<title>{escape(b.label)}'
                   f'</title></text>')
        for i, v in enumerate(b.values):
            w = max(v * scale, 1.0 if v > 0 else 0.0)
            y = y0 + (ROW - BAR) / 2 + i * thin
            out.append(f'<rect class="bar s{i}" x="{LABEL}" y="{y:.1f}" width="{w:.1f}" '
                       f'height="{thin:.1f}"><title>{escape(b.label)}: '
                       f'{escape(value_text(v))}</title></rect>')
        shown = " / ".join(value_text(v) for v in b.values)
        end = LABEL + max([v * scale for v in b.values] + [0.0])
        out.append(f'<text class="value" x="{end + 6:.1f}" y="{y0 + 17}">'
                   f'{escape(shown)}</text>')
    out.append("</svg>")
    return Markup("\n".join(out))
