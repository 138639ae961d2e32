"""NEAT-style mutations of packed CPPN genomes, applied to a whole population tensor at once.

Every structural mutation follows one pattern: each genome draws whether it mutates (its rate), then
picks one eligible site uniformly (the argmax of random scores over the eligible sites), and the change
is written with tensor indexing. Rates and ranges default to those of the original fooling code.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...algorithms.operators import polynomial_step
from .activations import IDS, MUTABLE
from .genome import INPUTS, CPPNLayout


WEIGHT_RANGE = 10.0  # weights stay in +-this, as in the original fooling code
# a new node's weight to an output it is wired to (``new_node_outputs``): measured against +-1 and +-5 (LeNet-5
# Coat x 40 GA seeds, runs at 0.99: 35, 39, 34; results/tuning_cppn_small_inputs.md)
NEW_OUTPUT_WEIGHT_RANGE = 3.0


@dataclass(frozen=True)
class CPPNMutationRates:
    add_connection: float = 0.5
    remove_connection: float = 0.3
    perturb_weights: float = 1.0
    add_node: float = 0.5
    remove_node: float = 0.2
    change_activation: float = 0.1
    weight_indpb: float = 0.1
    weight_eta: float = 15.0
    weight_range: float = WEIGHT_RANGE
    new_weight_range: float = 2.0  # a new connection's weight is drawn uniformly in +-this (the GA's small inputs: 10)
    # a new node's incoming weight: 0 keeps NEAT's 1, so that the split is near-neutral; W > 0 draws it in +-W
    # (the GA's small inputs: 10)
    split_weight_range: float = 0.0
    # the chance that a new node is also wired from each input (x, y, d, bias), in +-new_weight_range: NEAT's new
    # node reads one connection, a function of one input; wired so it can draw a 2-D feature f(a x + b y + c d + e)
    # at once (the GA's small inputs: 0.5)
    new_node_inputs: float = 0.0
    # the chance that a new node also feeds each output it does not feed yet, in +-NEW_OUTPUT_WEIGHT_RANGE: a node
    # split into a hidden connection reaches the picture only through later nodes; wired so, the output gets a
    # dense last layer to tune (the GA's small inputs: 0.5)
    new_node_outputs: float = 0.0

    def __post_init__(self):
        check_weight_ranges(self.new_weight_range, self.split_weight_range, self.weight_range)
        check_new_node_wiring(self.new_node_inputs, self.new_node_outputs)


def check_new_node_wiring(inputs=None, outputs=None) -> None:
    """Refuse, in one line, a chance of wiring a new node from each input or to each output that is not a
    number in [0, 1] (None: not given)."""
    for value, what in ((inputs, "from each input"), (outputs, "to each output")):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ValueError(f"the chance that a new node is wired {what} must be a number in [0, 1], "
                             f"got {value!r}")


def check_weight_ranges(new_weight_range=None, split_weight_range=None, weight_range: float = WEIGHT_RANGE) -> None:
    """Refuse, in one line, a range for new connections' weights that is not a number in (0, weight range], or
    one for a new node's incoming weight not in [0, weight range] (None: not given)."""
    for value, what, zero_allowed in ((new_weight_range, "a new connection's weight range", False),
                                      (split_weight_range, "a new node's incoming weight range", True)):
        if value is None:
            continue
        number = not isinstance(value, bool) and isinstance(value, (int, float))
        if not number or not (0 <= value if zero_allowed else 0 < value) or value > weight_range:
            raise ValueError(f"{what} must be a number in {'[' if zero_allowed else '('}0, {weight_range:g}], "
                             f"got {value!r}")


def mutate_cppn(population: torch.Tensor, layout: CPPNLayout, rates: CPPNMutationRates, generator=None):
    """Mutated copies of every genome of ``population`` and the rows that changed."""
    out = population.clone()
    parts = layout.views(out)
    n, device = out.shape[0], out.device
    changed = torch.zeros(n, dtype=torch.bool, device=device)
    draw = lambda *shape: torch.rand(shape, generator=generator, device=device)
    rows = torch.arange(n, device=device)

    if rates.perturb_weights > 0:
        enabled = parts["enabled"].bool() & (draw(n) < rates.perturb_weights)[:, None, None]
        mask = enabled & (draw(*enabled.shape) < rates.weight_indpb)
        r, j, i = mask.nonzero(as_tuple=True)
        limit = rates.weight_range
        parts["weight"][r, j, i] = polynomial_step(parts["weight"][r, j, i], draw(len(r)), rates.weight_eta, -limit, limit)
        changed |= mask.flatten(1).any(1)

    alive = parts["alive"].bool()
    key = parts["key"]

    # add a connection i -> j between live nodes, lower key to higher key, where none exists
    candidates = alive[:, None, :] & alive[:, :, None] & (key[:, None, :] < key[:, :, None]) & ~parts["enabled"].bool()
    picked, site = _pick(candidates, rates.add_connection, draw)
    j, i = site // layout.slots, site % layout.slots
    r = rows[picked]
    parts["enabled"][r, j[picked], i[picked]] = 1.0
    # drawn over the whole range, then narrowed: written so, the default (a fifth) repeats the draws made before
    # it was a setting, bit for bit
    narrowing = rates.weight_range / rates.new_weight_range
    parts["weight"][r, j[picked], i[picked]] = (draw(len(r)) * 2 - 1) * rates.weight_range / narrowing
    changed |= picked

    # remove a connection
    picked, site = _pick(parts["enabled"].bool(), rates.remove_connection, draw)
    r, j, i = rows[picked], (site // layout.slots)[picked], (site % layout.slots)[picked]
    parts["enabled"][r, j, i] = 0.0
    parts["weight"][r, j, i] = 0.0
    changed |= picked

    # add a node by splitting a connection i -> j into i -> h -> j (weights 1 and the old weight)
    free = ~parts["alive"][:, layout.hidden].bool()
    picked, site = _pick(parts["enabled"].bool() & free.any(1)[:, None, None], rates.add_node, draw)
    r, j, i = rows[picked], (site // layout.slots)[picked], (site % layout.slots)[picked]
    h = free[picked].float().argmax(1) + layout.hidden.start
    old = parts["weight"][r, j, i]
    parts["enabled"][r, j, i] = 0.0
    parts["weight"][r, j, i] = 0.0
    parts["alive"][r, h] = 1.0
    parts["key"][r, h] = key[r, i] + (0.25 + 0.5 * draw(len(r))) * (key[r, j] - key[r, i])
    parts["activation"][r, h] = _random_activation(len(r), draw)
    parts["enabled"][r, h, i] = 1.0
    if rates.split_weight_range:
        parts["weight"][r, h, i] = (draw(len(r)) * 2 - 1) * rates.split_weight_range
    else:
        parts["weight"][r, h, i] = 1.0
    parts["enabled"][r, j, h] = 1.0
    parts["weight"][r, j, h] = old
    changed |= picked

    # remove a hidden node with all its connections
    hidden_alive = torch.zeros_like(alive)
    hidden_alive[:, layout.hidden] = parts["alive"][:, layout.hidden].bool()
    picked, h = _pick(hidden_alive, rates.remove_node, draw)
    r, h = rows[picked], h[picked]
    parts["alive"][r, h] = 0.0
    for name in ("enabled", "weight"):
        parts[name][r, h, :] = 0.0
        parts[name][r, :, h] = 0.0
    changed |= picked

    # give a hidden node another function
    hidden_alive[:, layout.hidden] = parts["alive"][:, layout.hidden].bool()
    picked, h = _pick(hidden_alive, rates.change_activation, draw)
    parts["activation"][rows[picked], h[picked]] = _random_activation(int(picked.sum()), draw)
    changed |= picked

    if rates.new_node_inputs > 0 or rates.new_node_outputs > 0:
        _wire_new_nodes(population, out, layout, rates, draw)
    return out, changed


def _wire_new_nodes(before: torch.Tensor, after: torch.Tensor, layout: CPPNLayout, rates: CPPNMutationRates, draw):
    """Wire each hidden node that ``after`` has and ``before`` had not (in place): from every input it does not
    read yet, each with chance ``rates.new_node_inputs`` and a weight uniform in +-``rates.new_weight_range``;
    then to every output it does not feed yet, each with chance ``rates.new_node_outputs``, the weight in
    +-``NEW_OUTPUT_WEIGHT_RANGE``."""
    parts = layout.views(after)
    born = parts["alive"][:, layout.hidden].bool() & ~layout.views(before)["alive"][:, layout.hidden].bool()
    r, h = born.nonzero(as_tuple=True)
    if not len(r):
        return
    h = h + layout.hidden.start
    if rates.new_node_inputs > 0:
        for i in range(len(INPUTS)):  # four steps, each over every new node of the population
            _connect(parts, r, h, torch.full_like(h, i), rates.new_node_inputs, rates.new_weight_range, draw)
    if rates.new_node_outputs > 0:
        for o in range(layout.output.start, layout.output.stop):
            _connect(parts, r, torch.full_like(h, o), h, rates.new_node_outputs, NEW_OUTPUT_WEIGHT_RANGE, draw)


def _connect(parts, rows, target, source, chance, weight_range, draw):
    """Add the connection source[k] -> target[k] to genome rows[k] where there is none, each with ``chance``,
    its weight uniform in +-``weight_range`` (in place)."""
    wired = (draw(len(rows)) < chance) & (parts["enabled"][rows, target, source] == 0)
    rows, target, source = rows[wired], target[wired], source[wired]
    parts["enabled"][rows, target, source] = 1.0
    parts["weight"][rows, target, source] = (draw(len(rows)) * 2 - 1) * weight_range


def _pick(eligible: torch.Tensor, rate: float, draw):
    """Per genome: whether it mutates (rate, and at least one eligible site) and a uniform eligible site."""
    flat = eligible.flatten(1)
    scores = torch.where(flat, draw(*flat.shape), torch.full_like(flat, -1.0, dtype=torch.float32))
    site = scores.argmax(1)
    picked = flat.any(1) & (draw(flat.shape[0]) < rate)
    return picked, site


def _random_activation(n: int, draw) -> torch.Tensor:
    choice = (draw(n) * len(MUTABLE)).long().clamp(max=len(MUTABLE) - 1)
    ids = torch.tensor([IDS[name] for name in MUTABLE], device=choice.device, dtype=torch.float32)
    return ids[choice]
