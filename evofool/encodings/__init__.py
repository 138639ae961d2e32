"""Encodings turn genomes into images; each also knows how to vary its genomes."""

from ..images import quantize, quantize_
from .cppn import CPPNEncoding
from .cppn.weights import CPPNWeightsEncoding
from .dct import DCTEncoding
from .direct import DirectEncoding
from .pyramid import PyramidEncoding

ENCODINGS = ("direct", "pyramid", "dct", "cppn", "cppn-weights")
# settings only some encodings have: callers pass them all, each reaches the encodings it names
SHARED_SETTINGS = {"upsample": ("direct",), "refine_after": ("direct",), "coordinate_scale": ("cppn", "cppn-weights"),
                   "render_side": ("cppn", "cppn-weights"), "color_mode": ("cppn",)}


def make_encoding(name: str, input_size: tuple[int, int, int], genome_size: int | None = None,
                  init: dict | None = None, **options):
    """The encoding called ``name`` for a model taking C x H x W inputs.

    ``genome_size`` applies to the direct encoding (S x S pixels), the pyramid (its finest grid, S x S) and
    the frequency encoding (K x K frequencies), ``init`` (a CPPN genome dict) to the CPPN encodings (for
    cppn-weights: the fixed graph whose weights are evolved); ``options`` are the encoding's own fields
    (``upsample`` for direct, ``coordinate_scale`` and ``color_mode`` for CPPN, ...); of ``SHARED_SETTINGS``,
    those set to None or meant for other encodings are left out (the encoding's default holds).
    """
    options = {key: value for key, value in options.items()
               if key not in SHARED_SETTINGS or (value is not None and name in SHARED_SETTINGS[key])}
    channels, height, width = input_size
    if name == "direct":
        return DirectEncoding(channels, (height, width), genome_size, **options)
    if name == "pyramid":
        return PyramidEncoding(channels, (height, width), genome_size, **options)
    if name == "dct":
        return DCTEncoding(channels, (height, width), genome_size, **options)
    if name == "cppn":
        return CPPNEncoding(channels, (height, width), init=init, **options)
    if name == "cppn-weights":
        return CPPNWeightsEncoding(channels, (height, width), init=init, **options)
    raise ValueError(f"unknown encoding {name!r}; choose one of {', '.join(ENCODINGS)}")


def saved_images(encoding, genomes):
    """The genomes' images exactly as a PNG stores them (8 bits): what fitness is computed on and what is saved."""
    images = encoding.render(genomes)
    aliased = images.untyped_storage().data_ptr() == genomes.untyped_storage().data_ptr()  # a genome as its image
    return quantize(images) if aliased else quantize_(images)
