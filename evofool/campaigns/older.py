"""campaign.json files written by older versions of evofool: the settings they ran with, filled in.

Each setting added since is stored by new campaigns. An older file lacks it (or holds None), and a resume must
go on as the campaign started, so what evofool did at the time is filled in here, not today's default.
"""

from __future__ import annotations


def fill_older_settings(data: dict) -> None:
    """Fill in, in place, the settings that the campaign.json read as ``data`` predates."""
    if data.get("backend") in ("loky", "dask") and "executor" not in data:
        data["executor"] = data.pop("backend")  # written before scoring backends: "backend" named the executor
    if str(data.get("encoding", "cppn")).startswith("cppn") and "render_side" not in data:
        data["render_side"] = 0  # written before render grids: every input pixel was drawn
    if data.get("encoding", "cppn") == "cppn" and "color_mode" not in data:
        data["color_mode"] = "rgb"  # written before colour modes: outputs were red, green, blue
    if data.get("algorithm") == "per-class" and data.get("encoding", "cppn") == "cppn":
        data.setdefault("grown_start", 0)  # written before grown starts: new genomes were bare graphs
        data.setdefault("new_weight_range", 2.0)  # written before the setting: new connections drew weights in +-2
        data.setdefault("split_weight_range", 0.0)  # and a new node's incoming weight was 1
        data.setdefault("new_node_inputs", 0.0)  # and a new node read only the connection it split
        data.setdefault("new_node_outputs", 0.0)  # and fed only its end
        data.setdefault("distinct_survivors", False)  # and survivors were the fittest, copies or not
        data.setdefault("species", 0)  # and the population was one species
    if data.get("algorithm") == "per-class" and data.get("encoding") == "direct":
        data.setdefault("refine_after", 0)  # written before coarse-to-fine: the grid was the genome
        if data.get("search") == "ga":
            data.setdefault("tournsize", 2)  # and the GA's tournaments were of 2
    if data.get("algorithm", "map-elites") == "map-elites" and "parents" not in data:
        data["parents"] = "uniform"  # written before parent draws: parents were drawn uniformly


def fill_older_direct_grid(config, input_size: tuple[int, int, int]) -> None:
    """A per-class direct campaign written before its grid was stored: every search then evolved 16 x 16 (at most
    the input's side) enlarged bilinearly."""
    if config.genome_size is None:
        config.genome_size = min(16, *input_size[1:])
    if config.upsample is None:
        config.upsample = "bilinear"
