"""CPPN genomes as JSON files: nodes, activations, connections, weights and colour mode.

The JSON form is the graph itself (no slots, no keys), so a file is readable and editable by hand;
loading checks it and packs it into a row of a :class:`CPPNLayout`.
"""

from __future__ import annotations

import json
import math
from collections import deque
from pathlib import Path

import torch

from .activations import IDS, NAMES
from .genome import INPUTS, CPPNLayout
from .render import COLOR_MODES

FORMAT = "evofool-cppn/1"


class GenomeError(ValueError):
    """A genome file that cannot be a CPPN: bad JSON, a cycle, an unknown activation, a dangling connection."""


def output_names(count: int) -> list[str]:
    return ["gray"] if count == 1 else ["r", "g", "b"]


def genome_to_dict(row: torch.Tensor, layout: CPPNLayout, color_mode: str = "rgb") -> dict:
    """The JSON-ready graph of one packed genome; hidden nodes listed in topological order."""
    parts = layout.views(row[None].detach().cpu())
    alive = parts["alive"][0].bool()
    hidden = [s for s in range(layout.hidden.start, layout.hidden.stop) if alive[s]]
    hidden.sort(key=lambda s: parts["key"][0, s].item())
    names = {i: name for i, name in enumerate(INPUTS)}
    names.update({s: f"h{k}" for k, s in enumerate(hidden)})
    names.update({s: name for s, name in zip(range(layout.output.start, layout.output.stop), output_names(layout.outputs))})
    enabled = parts["enabled"][0].bool()
    connections = [
        {"from": names[i], "to": names[j], "weight": parts["weight"][0, j, i].item()}
        for j, i in enabled.nonzero().tolist()
    ]
    connections.sort(key=lambda c: (list(names.values()).index(c["to"]), list(names.values()).index(c["from"])))
    return {
        "format": FORMAT,
        "color_mode": color_mode,
        "inputs": list(INPUTS),
        "outputs": output_names(layout.outputs),
        "nodes": [{"id": names[s], "activation": NAMES[int(parts["activation"][0, s].item())]} for s in hidden],
        "connections": connections,
    }


def topological_hidden_order(data: dict) -> list[str]:
    """Hidden node ids sorted so that every connection goes forward (Kahn's algorithm, linear in nodes and
    connections; ties in the order of ``data["nodes"]``); raises GenomeError on a cycle."""
    hidden = [node["id"] for node in data["nodes"]]
    position = {h: k for k, h in enumerate(hidden)}
    incoming = {h: set() for h in hidden}
    successors = {h: set() for h in hidden}
    for c in data["connections"]:
        if c["to"] in incoming and c["from"] in incoming:
            incoming[c["to"]].add(c["from"])
            successors[c["from"]].add(c["to"])
    ready = deque(h for h in hidden if not incoming[h])
    order, seen = [], set(ready)
    while ready:
        node = ready.popleft()
        order.append(node)
        for other in sorted(successors[node], key=position.__getitem__):
            incoming[other].discard(node)
            if not incoming[other] and other not in seen:
                seen.add(other)
                ready.append(other)
    if len(order) < len(hidden):
        stuck = sorted(set(hidden) - set(order))
        raise GenomeError(f"the genome has a cycle through hidden nodes {', '.join(map(str, stuck[:10]))}"
                          f"{' ...' if len(stuck) > 10 else ''}")
    return order


# Bounds on what a genome file may hold: far above anything evolved or fitted (the largest fitted network,
# 4 x 300 ReLU units with 128 Fourier pairs, has 1,456 nodes and 349,415 connections), far below what
# would exhaust memory when it is packed into a dense weight matrix and rendered
MAX_NODES = 5000
MAX_CONNECTIONS = 2_000_000
MAX_WEIGHT = 1e6


def validate(data) -> None:
    """Raise GenomeError naming the first problem that stops ``data`` from being a CPPN."""
    if not isinstance(data, dict) or not {"nodes", "connections", "outputs"} <= set(data):
        raise GenomeError("a genome is a JSON object with 'nodes', 'connections' and 'outputs'")
    if data.get("color_mode", "rgb") not in COLOR_MODES:
        raise GenomeError(f"unknown colour mode {data['color_mode']!r}; choose one of {', '.join(COLOR_MODES)}")
    coordinates = data.get("coordinates")
    if coordinates is not None and not (
            isinstance(coordinates, dict) and set(coordinates) == {"scale", "offset", "d_scale"}
            and all(isinstance(v, (int, float)) and math.isfinite(v) and abs(v) <= 1e4 for v in coordinates.values())):
        raise GenomeError("'coordinates' must hold finite numbers 'scale', 'offset' and 'd_scale' (at most 1e4)")
    side = data.get("render_side")
    if side is not None and (isinstance(side, bool) or not isinstance(side, int) or not 2 <= side <= 8192):
        raise GenomeError(f"'render_side' must be a whole number of pixels in 2..8192, not {side!r:.40}")
    if not all(isinstance(data[key], list) for key in ("nodes", "connections", "outputs")):
        raise GenomeError("'nodes', 'connections' and 'outputs' must be lists")
    if len(data["outputs"]) not in (1, 3) or not all(isinstance(o, str) for o in data["outputs"]):
        raise GenomeError(f"a genome has 1 or 3 outputs named by strings, not {data['outputs']!r:.80}")
    if len(data["nodes"]) > MAX_NODES or len(data["connections"]) > MAX_CONNECTIONS:
        raise GenomeError(f"the genome has {len(data['nodes'])} nodes and {len(data['connections'])} connections; "
                          f"evofool reads at most {MAX_NODES} and {MAX_CONNECTIONS}")
    if not all(isinstance(node, dict) and isinstance(node.get("id"), str) for node in data["nodes"]):
        raise GenomeError("every node must be an object with a string 'id'")
    if not all(isinstance(c, dict) for c in data["connections"]):
        raise GenomeError("every connection must be an object with 'from', 'to' and 'weight'")
    ids = [node.get("id") for node in data["nodes"]]
    for node in data["nodes"]:
        if node.get("activation") not in IDS:
            raise GenomeError(f"node {node.get('id')!r} has unknown activation {node.get('activation')!r}; "
                              f"known: {', '.join(NAMES)}")
    known = set(INPUTS) | set(ids) | set(data["outputs"])
    if len(known) != len(INPUTS) + len(ids) + len(data["outputs"]):
        raise GenomeError("node ids must be unique and differ from the input and output names")
    for c in data["connections"]:
        for end in ("from", "to"):
            if c.get(end) not in known:
                raise GenomeError(f"connection {c.get('from')!r} -> {c.get('to')!r} has a dangling end: "
                                  f"no node {c.get(end)!r}")
        if c["to"] in INPUTS or c["from"] in data["outputs"]:
            raise GenomeError(f"connection {c['from']!r} -> {c['to']!r} runs into an input or out of an output")
        weight = c.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not abs(weight) <= MAX_WEIGHT:
            raise GenomeError(f"connection {c['from']!r} -> {c['to']!r} needs a finite numeric weight of at most "
                              f"{MAX_WEIGHT:g} in size, not {weight!r}")
    topological_hidden_order(data)


def dict_to_genome(data: dict, layout: CPPNLayout) -> torch.Tensor:
    """Pack a validated genome graph into one row of ``layout`` (hidden keys spaced by topological rank)."""
    validate(data)
    order = topological_hidden_order(data)
    if len(order) > layout.max_hidden:
        raise GenomeError(f"the genome has {len(order)} hidden nodes; the layout holds {layout.max_hidden}")
    activation = {node["id"]: node["activation"] for node in data["nodes"]}
    slot = {name: i for i, name in enumerate(INPUTS)}
    slot.update({h: layout.hidden.start + k for k, h in enumerate(order)})
    slot.update({name: layout.output.start + k for k, name in enumerate(data["outputs"])})
    row = layout.initial(1, None, "cpu", weight_range=0.0)
    parts = layout.views(row)
    parts["enabled"].zero_()
    for k, h in enumerate(order):
        s = slot[h]
        parts["alive"][0, s] = 1.0
        parts["key"][0, s] = (k + 1) / (len(order) + 1)
        parts["activation"][0, s] = IDS[activation[h]]
    for c in data["connections"]:
        parts["enabled"][0, slot[c["to"]], slot[c["from"]]] = 1.0
        parts["weight"][0, slot[c["to"]], slot[c["from"]]] = float(c["weight"])
    return row[0]


def load_genome_dict(path: str | Path) -> dict:
    """Read and validate a genome file; every problem is a GenomeError that names the file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GenomeError(f"genome file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GenomeError(f"{path} is not valid JSON: {error}") from None
    try:
        validate(data)
    except GenomeError as error:
        raise GenomeError(f"{path}: {error}") from None
    return data
