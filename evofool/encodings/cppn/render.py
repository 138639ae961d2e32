"""Render a population of packed CPPN genomes over a pixel grid, all genomes and all pixels together.

Each genome's hidden nodes are sorted by their topological key, which makes its weight matrix strictly
lower-triangular; hidden node t of every genome is then computed at once for all genomes and pixels, as
the sum of its incoming connections (gathered as an edge list: about one a node, so a node reads a few rows
of earlier node values, not all t + 4), followed by each genome's activation. The loop runs over node
positions (as many as the largest genome has hidden nodes), never over pixels or genomes. Genomes and
pixels are processed in blocks only to bound memory.

Measured on 2 cores (64 genomes grown by 200 rounds of mutation to about 24 hidden nodes, drawn on the
112-pixel grid, timed in turns in one process): 37-60 ms against 67-91 for the dense product over all
earlier nodes, pixel for pixel the same images.
"""

from __future__ import annotations

import torch

from ..upsample import bilinear
from .activations import NAMES, apply_grouped_
from .genome import INPUTS, CPPNLayout

COLOR_MODES = ("rgb", "hls")
# how three CPPN outputs become a colour; chosen by measurement (README): 100-class MAP-Elites
# (scripts/tune_campaign.py), median elite, EfficientNet-Lite0 at 30,000 evaluations on two random draws of
# classes hls 0.180 and 0.141 against rgb 0.080 and 0.100, EfficientNet-Lite1 at 20,000 0.062 against 0.031;
# the 30-minute 1000-class campaign 1.5-2.2x rgb at equal evaluations, median elite 0.594 and 0.629 where rgb
# ended at 0.447-0.525. The original fooling code read HLS too. (Gray models draw one channel.)
DEFAULT_COLOR_MODE = "hls"
# the longest side CPPNs are evaluated on before upsampling to a larger input (see render_for_model); chosen
# by measurement (README): 1000-class MAP-Elites on EfficientNet-Lite0, seed 0, median elite at 40,000
# evaluations: 224 (every input pixel) 0.0698, 112 0.0817, 56 0.0771; 1.2-1.3x more evaluations a second at
# 112 than at 224 early in the run, more as genomes grow (3.9 -> 0.9 ms an image at 24 hidden nodes); 56
# saves little more and blurs the fine stripes of stretched coordinates
DEFAULT_RENDER_SIDE = 112


def coordinate_grid(height: int, width: int, device, coordinates: dict | None = None) -> torch.Tensor:
    """The 4 CPPN inputs over an H x W grid, 4 x (H*W): x and y in [-1, 1], d = sqrt(x^2 + y^2), bias 1.

    ``coordinates`` ({"scale", "offset", "d_scale"}, see :func:`coordinate_map`) stretches them first: x
    and y become scale * x + offset and d becomes d_scale * d, so that a wider input range lets the sines
    and Gaussians of a small genome repeat many times across the image.
    """
    y, x = torch.meshgrid(
        torch.linspace(-1, 1, height, device=device), torch.linspace(-1, 1, width, device=device), indexing="ij"
    )
    d = (x * x + y * y).sqrt()
    if coordinates:
        scale, offset = coordinates["scale"], coordinates["offset"]
        x, y, d = scale * x + offset, scale * y + offset, coordinates["d_scale"] * d
    return torch.stack([x, y, d, torch.ones_like(x)]).view(len(INPUTS), -1)


def coordinate_map(scale: float | str, size: int) -> dict:
    """The input stretch for a coordinate scale: a number multiplies x, y and d; "raw" feeds x and y as
    pixel indices 0 .. size - 1 of the model's input, with d left in [0, sqrt 2], as the original fooling
    code did. Stored in the genome, so it renders the same picture at any size."""
    if scale == "raw":
        half = (size - 1) / 2
        return dict(scale=half, offset=half, d_scale=1.0)
    if isinstance(scale, str) or not 0 < scale <= 1000:
        raise ValueError(f"the coordinate scale is a number in (0, 1000] or 'raw', got {scale!r}")
    return dict(scale=float(scale), offset=0.0, d_scale=float(scale))


def render_population(population: torch.Tensor, layout: CPPNLayout, height: int, width: int,
                      color_mode: str = "rgb", max_elements: int = 1 << 25,
                      coordinates: dict | None = None) -> torch.Tensor:
    """Images N x C x H x W in [0, 1] of every genome in ``population`` (N x D).

    Work is split into blocks of genomes and pixels of at most ``max_elements`` node values, so that a
    population at 224 x 224 or one genome at 8192 x 8192 both fit in memory. Genomes are rendered largest
    first, so that small genomes share blocks (more of them per block, fewer node steps per block).
    ``coordinates`` stretches the inputs (see :func:`coordinate_grid`).
    """
    n, pixels = population.shape[0], height * width
    hidden_counts = layout.hidden_counts(population).long()
    by_size = hidden_counts.argsort(descending=True, stable=True)
    largest = hidden_counts[by_size].tolist()
    grid = coordinate_grid(height, width, population.device, coordinates)
    out = population.new_empty(n, layout.outputs, pixels)
    start = 0
    while start < n:
        nodes = len(INPUTS) + largest[start]  # the block's largest genome
        chosen = by_size[start : start + max(1, max_elements // (nodes * pixels))]
        pixels_per_block = max(1, max_elements // (nodes * len(chosen)))
        genomes = population.index_select(0, chosen)
        bands = [_render_chunk(genomes, largest[start : start + len(chosen)], layout, grid[:, p : p + pixels_per_block],
                               color_mode)
                 for p in range(0, pixels, pixels_per_block)]
        out.index_copy_(0, chosen, torch.cat(bands, 2) if len(bands) > 1 else bands[0])
        start += len(chosen)
    return out.view(n, layout.outputs, height, width)


def check_color_mode(mode: str) -> None:
    """Refuse, in one line, a colour mode that is not one of ``COLOR_MODES``."""
    if mode not in COLOR_MODES:
        raise ValueError(f"unknown colour mode {mode!r}; choose one of {', '.join(COLOR_MODES)}")


def check_render_side(side: int | None) -> None:
    if side is not None and (isinstance(side, bool) or not isinstance(side, int) or side < 0 or side == 1):
        raise ValueError(f"the render side is a whole number of pixels of at least 2, or 0 for the model's input "
                         f"size, got {side!r}")


def render_for_model(population: torch.Tensor, layout: CPPNLayout, image_size: tuple[int, int], color_mode: str,
                     coordinates: dict | None, side: int | None) -> torch.Tensor:
    """Images N x C x H x W at the model's input size ``image_size``. With ``side`` (not 0 or None) below its
    longest side,
    the networks are evaluated on a grid whose longest side is ``side`` (the same coordinates, sampled
    coarser) and the pictures upsampled bilinearly: rendering costs as many node values as pixels, so 112
    instead of 224 makes it 4x cheaper. The upsampled picture is the one scored and saved."""
    height, width = image_size
    longest = max(height, width)
    if not side or side >= longest:
        return render_population(population, layout, height, width, color_mode, coordinates=coordinates)
    small = render_population(population, layout, max(2, round(height * side / longest)),
                              max(2, round(width * side / longest)), color_mode, coordinates=coordinates)
    return bilinear(small, (height, width), align_corners=True)  # the grid's ends are -1 and 1 at both sizes


def _render_chunk(population, active, layout, grid, color_mode):
    """Colours N x C x pixels of genomes sorted by hidden-node count (``active``, a list), largest first: the
    genomes that still have a node at position t are then a prefix."""
    parts = layout.views(population)
    n, n_in, device = population.shape[0], len(INPUTS), population.device
    alive = parts["alive"][:, layout.hidden].bool()
    depth = active[0]
    # hidden slots in topological order (dead slots last): each genome's weights become lower-triangular
    order_key = torch.where(alive, parts["key"][:, layout.hidden], torch.full_like(alive, 2.0, dtype=torch.float32))
    hidden_order = (order_key.argsort(dim=1, stable=True) + layout.hidden.start)[:, :depth]
    inputs = torch.arange(n_in, device=device).expand(n, n_in)
    sources = torch.cat([inputs, hidden_order], 1)  # per genome: the nodes whose values are computed
    weight, activation = parts["weight"], parts["activation"]
    rows = torch.arange(n, device=device)

    slots, pixels = n_in + depth, grid.shape[1]
    values = torch.empty(n, slots, pixels, device=device)
    values[:, :n_in] = grid
    flat_values = values.view(-1, pixels)  # row genome * slots + k: node k's values, for index_select / index_copy_
    for t in range(depth):
        m = sum(1 for count in active if count > t)  # genomes that have a hidden node at position t
        node = hidden_order[:m, t]
        # the genomes taken in order of this node's function, so that each function applies to one slice
        ids = activation[rows[:m], node].long()
        group = ids.argsort(stable=True)
        incoming = weight[group[:, None], node[group, None], sources[group, : n_in + t]]  # m x (4 + t)
        # the node's connections as a list: a hidden node has about one (add-node splits a connection), so
        # summing just those sources reads a few rows of node values where a product over all 4 + t read all
        genome, source = (incoming != 0).nonzero(as_tuple=True)
        terms = flat_values.index_select(0, group[genome] * slots + source).mul_(incoming[genome, source, None])
        pre = values.new_zeros(m, pixels).index_add_(0, genome, terms)
        apply_grouped_(pre, torch.bincount(ids, minlength=len(NAMES)).tolist())
        flat_values.index_copy_(0, group * slots + n_in + t, pre)
        # the other genomes have no node here; their slot meets zero weights in the output layer, and
        # must hold zeros rather than uninitialized memory (0 * NaN is NaN)
        values[m:, n_in + t] = 0
    outputs = torch.arange(layout.output.start, layout.output.stop, device=device)
    out_weight = weight[rows[:, None, None], outputs[None, :, None], sources[:, None, :]]
    return squash(torch.bmm(out_weight, values), color_mode)


def squash(pre: torch.Tensor, color_mode: str) -> torch.Tensor:
    """Map output pre-activations N x C x P to colours in [0, 1].

    ``rgb`` (and grayscale): a sigmoid per channel. ``hls``: the three outputs, each squashed to [0, 1],
    read as hue, lightness and saturation, as in the original fooling code.
    """
    if color_mode == "rgb" or pre.shape[1] == 1:
        return torch.sigmoid(pre)
    if color_mode == "hls":
        return hls_to_rgb(*torch.sigmoid(pre).unbind(1))
    raise ValueError(f"unknown colour mode {color_mode!r}; choose one of {', '.join(COLOR_MODES)}")


def hls_to_rgb(h: torch.Tensor, l: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """colorsys.hls_to_rgb over tensors; returns N x 3 x P."""
    m2 = torch.where(l <= 0.5, l * (1 + s), l + s - l * s)
    m1 = 2 * l - m2

    def channel(hue):
        hue = hue % 1.0
        return torch.where(hue < 1 / 6, m1 + (m2 - m1) * hue * 6,
               torch.where(hue < 0.5, m2,
               torch.where(hue < 2 / 3, m1 + (m2 - m1) * (2 / 3 - hue) * 6, m1)))

    return torch.stack([channel(h + 1 / 3), channel(h), channel(h - 1 / 3)], 1)
