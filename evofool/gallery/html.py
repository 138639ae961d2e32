"""A self-contained static gallery page: thumbnails, captions, sorting and filtering, no network.

Every piece of text that comes from a manifest is HTML-escaped (and JSON-encoded for the script).
"""

from __future__ import annotations

from html import escape

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1em; }}
#tiles {{ display: flex; flex-wrap: wrap; gap: 10px; }}
.tile {{ width: 160px; font-size: 12px; }}
.tile img {{ width: 160px; height: 160px; image-rendering: pixelated; border: 1px solid #ccc; }}
.label {{ font-weight: bold; overflow-wrap: anywhere; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{summary}</p>
<p><label>filter <input id="filter" type="search" placeholder="class name"></label>
<label>min confidence <input id="min" type="number" min="0" max="1" step="0.01" value="0"></label>
<label>sort <select id="sort"><option value="confidence">confidence</option><option value="label">name</option>
<option value="index">class index</option></select></label> <span id="count"></span></p>
<div id="tiles">
{tiles}
</div>
<script>
const tiles = Array.from(document.querySelectorAll('.tile'));
function update() {{
  const text = document.getElementById('filter').value.toLowerCase();
  const min = parseFloat(document.getElementById('min').value) || 0;
  const key = document.getElementById('sort').value;
  const shown = tiles.filter(t => t.dataset.label.toLowerCase().includes(text) && parseFloat(t.dataset.confidence) >= min);
  shown.sort((a, b) => key === 'label' ? a.dataset.label.localeCompare(b.dataset.label)
                      : key === 'index' ? a.dataset.index - b.dataset.index
                      : b.dataset.confidence - a.dataset.confidence);
  const box = document.getElementById('tiles');
  tiles.forEach(t => t.hidden = true);
  shown.forEach(t => {{ t.hidden = false; box.appendChild(t); }});
  document.getElementById('count').textContent = shown.length + ' of ' + tiles.length + ' shown';
}}
['filter', 'min', 'sort'].forEach(id => document.getElementById(id).addEventListener('input', update));
update();
</script>
</body></html>
"""

_TILE = """<div class="tile" data-label="{label}" data-confidence="{confidence}" data-index="{index}">
<a href="{image}"><img src="{image}" alt="{label}"></a>
<div class="label">{label}</div>
<div class="confidence">{percent}</div>
<div class="meta">{method} · {model}</div>
<div class="links"><a href="{image}">PNG</a>{genome}</div>
</div>"""


def gallery_html(manifest: dict) -> str:
    """The page for a manifest; image and genome links stay relative to the campaign directory."""
    model = str(manifest.get("model", ""))
    tiles = []
    for elite in manifest["elites"]:
        genome = f' · <a href="{escape(str(elite["genome"]))}">genome</a>' if elite.get("genome") else ""
        tiles.append(_TILE.format(
            label=escape(str(elite["label"])), confidence=float(elite["confidence"]), index=int(elite["index"]),
            image=escape(str(elite["image"])), percent=escape(f"{float(elite['confidence']):.2%}"),
            method=escape(str(elite.get("method", ""))), model=escape(model), genome=genome))
    count = len(manifest["elites"])
    at_99 = sum(float(e["confidence"]) >= 0.99 for e in manifest["elites"])
    summary = escape(f"{count} elites, {at_99} at 99% or more; model {model}, "
                     f"{manifest.get('algorithm', '')} / {manifest.get('encoding', '')}")
    return _PAGE.format(title=escape(f"evofool gallery: {model}"), summary=summary, tiles="\n".join(tiles))
