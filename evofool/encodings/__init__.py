"""Encodings turn genomes into images; each also knows how to vary its genomes."""

from .direct import DirectEncoding

ENCODINGS = ("direct",)


def make_encoding(name: str, input_size: tuple[int, int, int], genome_size: int | None = None):
    """The encoding called ``name`` for a model taking C x H x W inputs."""
    channels, height, width = input_size
    if name == "direct":
        return DirectEncoding(channels, (height, width), genome_size)
    raise ValueError(f"unknown encoding {name!r}; choose one of {', '.join(ENCODINGS)}")
