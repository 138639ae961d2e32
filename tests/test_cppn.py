"""CPPN genomes: the batched renderer agrees with a plain one, mutations keep genomes valid, files round-trip."""

import json

import pytest
import torch

import evofool
from evofool.encodings import make_encoding
from evofool.encodings.cppn import CPPNMutationRates, GenomeError, dict_to_genome, load_genome_dict
from evofool.encodings.cppn.activations import ACTIVATIONS
from evofool.encodings.cppn.render import coordinate_grid, squash


def reference_render(genome: dict, height: int, width: int) -> torch.Tensor:
    """Obviously correct: one genome, node by node in topological order, from its JSON graph."""
    x, y, d, bias = coordinate_grid(height, width, "cpu").double()
    stretch = genome.get("coordinates", {"scale": 1.0, "offset": 0.0, "d_scale": 1.0})
    x, y = stretch["scale"] * x + stretch["offset"], stretch["scale"] * y + stretch["offset"]
    value = {"x": x, "y": y, "d": stretch["d_scale"] * d, "bias": bias}
    activation = {node["id"]: node["activation"] for node in genome["nodes"]}
    pending = [node["id"] for node in genome["nodes"]] + list(genome["outputs"])
    while pending:
        for node in pending:
            sources = [c for c in genome["connections"] if c["to"] == node]
            if all(c["from"] in value for c in sources):
                total = sum((c["weight"] * value[c["from"]] for c in sources), torch.zeros_like(x))
                value[node] = ACTIVATIONS[activation[node]](total) if node in activation else total
                pending.remove(node)
                break
        else:
            raise AssertionError("cycle")
    pre = torch.stack([value[name] for name in genome["outputs"]])[None].float()
    return squash(pre, genome["color_mode"]).view(len(genome["outputs"]), height, width)


def evolved_population(n=24, rounds=30, channels=3, seed=0):
    encoding = make_encoding("cppn", (channels, 16, 16))
    generator = torch.Generator().manual_seed(seed)
    population = encoding.random(n, generator, "cpu")
    for _ in range(rounds):
        population = encoding.mutate(population, generator)[0]
    return encoding, population


@pytest.mark.parametrize("channels, color_mode", [(3, "rgb"), (1, "rgb"), (3, "hls")])
def test_batched_renderer_matches_reference_on_random_genomes(channels, color_mode):
    encoding, population = evolved_population(channels=channels)
    encoding.color_mode = color_mode
    assert encoding.layout.hidden_counts(population).max() > 3  # the check covers deep genomes
    images = encoding.render(population, (19, 23))
    for row, image in zip(population, images):
        expected = reference_render(encoding.to_dict(row), 19, 23)
        assert torch.allclose(image, expected, atol=1e-5)


def test_mutations_keep_genomes_acyclic_bounded_and_consistent():
    encoding, population = evolved_population(n=64, rounds=60)
    parts = encoding.layout.views(population)
    enabled = parts["enabled"].bool()
    n, j, i = enabled.nonzero(as_tuple=True)
    assert (parts["key"][n, i] < parts["key"][n, j]).all()
    assert parts["alive"][n, i].all() and parts["alive"][n, j].all()
    assert (parts["weight"][~enabled] == 0).all()
    assert parts["weight"].abs().max() <= 10.0


def test_new_genomes_have_no_hidden_nodes():
    encoding = make_encoding("cppn", (3, 8, 8))
    population = encoding.random(5, torch.Generator().manual_seed(0), "cpu")
    genome = encoding.to_dict(population[0])
    assert genome["nodes"] == [] and len(genome["connections"]) == 12


def test_genome_json_round_trip_gives_the_same_image(tmp_path):
    encoding, population = evolved_population()
    path = tmp_path / "genome.json"
    path.write_text(json.dumps(encoding.to_dict(population[3])))
    row = dict_to_genome(load_genome_dict(path), encoding.layout)
    assert torch.allclose(encoding.render(row[None], (40, 40)), encoding.render(population[3:4], (40, 40)), atol=1e-6)


def _write(tmp_path, text):
    path = tmp_path / "g.json"
    path.write_text(text)
    return path


GOOD = {"color_mode": "rgb", "outputs": ["gray"], "nodes": [{"id": "a", "activation": "sine"}],
        "connections": [{"from": "x", "to": "a", "weight": 1.0}, {"from": "a", "to": "gray", "weight": 2.0}]}


@pytest.mark.parametrize("change, message", [
    (None, "not valid JSON"),
    ({"nodes": [{"id": "a", "activation": "sine"}, {"id": "b", "activation": "tanh"}],
      "connections": [{"from": "a", "to": "b", "weight": 1}, {"from": "b", "to": "a", "weight": 1}]}, "cycle"),
    ({"nodes": [{"id": "a", "activation": "swish"}]}, "unknown activation 'swish'"),
    ({"connections": [{"from": "x", "to": "nowhere", "weight": 1}]}, "dangling end: no node 'nowhere'"),
])
def test_bad_genome_files_are_named_and_explained(tmp_path, change, message):
    text = "{not json" if change is None else json.dumps({**GOOD, **change})
    with pytest.raises(GenomeError, match=message):
        load_genome_dict(_write(tmp_path, text))


def test_cppn_evolution_fools_lenet(lenet):
    result = evofool.evolve(lenet, "Trouser", encoding="cppn", pop_size=64, generations=150, seed=1,
                            target_confidence=0.99)
    assert result.confidence >= 0.99
    row = dict_to_genome(result.genome_dict, make_encoding("cppn", (1, 28, 28)).layout)
    again = make_encoding("cppn", (1, 28, 28)).render(row[None])
    assert torch.allclose(evofool.images.quantize(again)[0], result.image, atol=1e-6)


def test_hls_colours_match_colorsys():
    import colorsys

    from evofool.encodings.cppn.render import hls_to_rgb

    hls = torch.rand(3, 50, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    ours = hls_to_rgb(hls[0][None], hls[1][None], hls[2][None])[0]
    theirs = torch.tensor([colorsys.hls_to_rgb(*hls[:, k].tolist()) for k in range(50)], dtype=torch.float64).T
    assert torch.allclose(ours, theirs, atol=1e-9)


def test_rendering_ignores_whatever_memory_held_before():
    """Genomes with fewer hidden nodes than the largest leave rows unwritten; they must not leak NaN."""
    encoding, population = evolved_population(n=16, rounds=25)
    counts = encoding.layout.hidden_counts(population)
    assert counts.min() < counts.max()
    poison = torch.full((1 << 22,), float("nan"))  # fill the allocator's free memory with NaN, then free it
    del poison
    images = encoding.render(population, (32, 32))
    assert torch.isfinite(images).all()


@pytest.mark.parametrize("scale", [8.0, "raw"])
def test_stretched_coordinates_are_saved_with_the_genome_and_render_alike(scale):
    from evofool.encodings.cppn import render_genome

    encoding = make_encoding("cppn", (3, 32, 32), coordinate_scale=scale)
    generator = torch.Generator().manual_seed(3)
    genomes = encoding.mutate(encoding.random(4, generator, "cpu"), generator)[0]
    images = encoding.render(genomes)
    plain = make_encoding("cppn", (3, 32, 32), coordinate_scale=1.0).render(genomes)
    assert (images - plain).abs().max() > 0.1  # the stretch changes the picture
    for row, image in zip(genomes, images):
        again = render_genome(json.loads(json.dumps(encoding.to_dict(row))), 32)
        assert torch.allclose(again, image, atol=1e-5)


def test_genome_with_bad_coordinates_is_refused(tmp_path):
    encoding = make_encoding("cppn", (1, 8, 8))
    data = encoding.to_dict(encoding.random(1, torch.Generator().manual_seed(0), "cpu")[0])
    data["coordinates"] = {"scale": 1e308, "offset": 0, "d_scale": 1}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    with pytest.raises(GenomeError, match="coordinates"):
        load_genome_dict(path)


def test_a_coarser_render_grid_is_upsampled_to_the_input_and_saved_with_the_genome(tmp_path):
    from evofool.encodings.cppn import render_genome

    full = make_encoding("cppn", (3, 64, 64), render_side=None)
    coarse = make_encoding("cppn", (3, 64, 64), render_side=32)
    generator = torch.Generator().manual_seed(5)
    genomes = full.mutate(full.random(6, generator, "cpu"), generator)[0]  # a hidden node or two: smooth
    sharp, smooth = full.render(genomes), coarse.render(genomes)
    assert smooth.shape == sharp.shape == (6, 3, 64, 64) and 0 <= smooth.min() and smooth.max() <= 1
    assert 0 < (smooth - sharp).abs().mean() < 0.02  # the same picture, sampled coarser
    # the corners are sampled at both sizes: the upsampled grid keeps them exactly
    assert torch.allclose(smooth[..., [0, -1], :][..., [0, -1]], sharp[..., [0, -1], :][..., [0, -1]], atol=1e-5)
    # best.json remembers the grid, so `evofool render --model` scores what the search scored
    saved = json.loads(json.dumps(coarse.to_dict(genomes[2])))
    assert saved["render_side"] == 32
    assert torch.allclose(render_genome(saved, 64, for_model=True), smooth[2], atol=1e-5)
    assert torch.allclose(render_genome(saved, 64), sharp[2], atol=1e-5)  # a plain render is every pixel
    with pytest.raises(ValueError, match="render side"):
        make_encoding("cppn", (3, 64, 64), render_side=1)
    saved["render_side"] = "big"
    (tmp_path / "g.json").write_text(json.dumps(saved))
    with pytest.raises(GenomeError, match="render_side"):
        load_genome_dict(tmp_path / "g.json")


def test_the_coordinate_scale_follows_the_input_size_and_travels_with_the_genome():
    small, large = make_encoding("cppn", (1, 28, 28)), make_encoding("cppn", (3, 224, 224))
    assert small.coordinates["scale"] == 2.0 and large.coordinates["scale"] == 8.0
    assert make_encoding("cppn", (1, 28, 28), coordinate_scale=8.0).coordinates["scale"] == 8.0  # given wins
    genome = small.random(1, torch.Generator().manual_seed(0), "cpu")[0]
    assert small.to_dict(genome)["coordinates"]["scale"] == 2.0  # saved with the genome, so it renders alike


def test_colour_cppns_read_hls_by_default_and_each_genome_keeps_the_mode_it_was_drawn_in():
    from evofool.encodings.cppn import render_genome
    from evofool.encodings.cppn.render import hls_to_rgb

    hls, rgb = make_encoding("cppn", (3, 16, 16)), make_encoding("cppn", (3, 16, 16), color_mode="rgb")
    assert hls.color_mode == "hls" and rgb.color_mode == "rgb"
    genomes = hls.random(4, torch.Generator().manual_seed(2), "cpu")
    as_hls, as_rgb = hls.render(genomes), rgb.render(genomes)
    # the same outputs, read as HLS
    assert torch.allclose(as_hls, hls_to_rgb(*as_rgb.flatten(2).unbind(1)).view_as(as_hls))
    saved = json.loads(json.dumps(hls.to_dict(genomes[0])))
    assert saved["color_mode"] == "hls" and torch.allclose(render_genome(saved, 16, for_model=True), as_hls[0])
    del saved["color_mode"]  # a genome saved before colour modes was drawn in rgb, and seeds rgb runs
    assert torch.allclose(render_genome(saved, 16, for_model=True), as_rgb[0])
    assert make_encoding("cppn", (3, 16, 16), init=saved).color_mode == "rgb"
    with pytest.raises(ValueError, match="unknown colour mode 'hsv'; choose one of rgb, hls"):
        make_encoding("cppn", (3, 16, 16), color_mode="hsv")


def test_the_ga_lets_cppns_of_small_inputs_grow_to_40_hidden_nodes_from_grown_genomes(lenet):
    result = evofool.evolve(lenet, "Coat", algorithm="ga", encoding="cppn", pop_size=8, generations=1,
                            target_confidence=None)
    params = result.config["encoding_params"]
    assert params["max_hidden"] == 40 and params["grown_start"] == 15
    assert params["rates"]["new_weight_range"] == 10 and params["rates"]["split_weight_range"] == 10
    assert params["rates"]["new_node_inputs"] == 0.5  # new nodes wired from the inputs too
    assert params["rates"]["new_node_outputs"] == 0.5  # and to the outputs
    assert result.config["distinct_survivors"] is True  # survivors among distinct fitness values first
    assert result.config["species"] == 6  # NEAT's speciation
    direct = evofool.evolve(lenet, "Coat", algorithm="ga", pop_size=8, generations=1, target_confidence=None)
    assert direct.config["distinct_survivors"] is False  # other GA runs keep plain truncation
    assert direct.config["species"] == 0
    with pytest.raises(ValueError, match="species group the GA's CPPN genomes; ga on direct has none"):
        evofool.evolve(lenet, "Coat", algorithm="ga", species=4)
    with pytest.raises(ValueError, match="species must be a whole number >= 0"):
        evofool.evolve(lenet, "Coat", algorithm="ga", encoding="cppn", species=-2)
    with pytest.raises(ValueError, match="distinct survivors set how the GA keeps its population; snes keeps none"):
        evofool.evolve(lenet, "Coat", algorithm="snes", distinct_survivors=True)
    bare = make_encoding("cppn", (1, 28, 28))  # MAP-Elites and the rest keep the encoding's cap, start and rates
    assert bare.max_hidden == 24 and bare.grown_start == 0
    assert bare.rates.new_weight_range == 2.0 and bare.rates.split_weight_range == 0.0
    assert bare.rates.new_node_inputs == 0.0 and bare.rates.new_node_outputs == 0.0


def test_new_connections_draw_weights_across_the_range_they_are_given():
    def new_weights(new_weight_range):
        rates = CPPNMutationRates(add_connection=1.0, remove_connection=0, perturb_weights=0, add_node=0,
                                  remove_node=0, change_activation=0, new_weight_range=new_weight_range)
        encoding = make_encoding("cppn", (1, 28, 28), rates=rates)
        before = make_encoding("cppn", (1, 28, 28), grown_start=15).random(512, torch.Generator().manual_seed(0), "cpu")
        after, changed = encoding.mutate(before, torch.Generator().manual_seed(1))
        added = encoding.layout.views(after)["enabled"].bool() & ~encoding.layout.views(before)["enabled"].bool()
        assert changed.sum() > 256 and added.flatten(1).sum(1).eq(changed.long()).all()  # one new connection each
        return encoding.layout.views(after)["weight"][added]

    narrow, wide = new_weights(2.0), new_weights(10.0)
    assert narrow.abs().max() <= 2 and wide.abs().max() <= 10 and wide.abs().max() > 9
    assert wide.abs().mean() > 4 * narrow.abs().mean()
    with pytest.raises(ValueError, match=r"weight range must be a number in \(0, 10\], got 12"):
        evofool.evolve(None, "Coat", encoding="cppn", new_weight_range=12)
    with pytest.raises(ValueError, match=r"incoming weight range must be a number in \[0, 10\], got -1"):
        evofool.evolve(None, "Coat", encoding="cppn", split_weight_range=-1)
    with pytest.raises(ValueError, match="the direct encoding has none"):
        evofool.evolve(None, "Coat", encoding="direct", new_weight_range=5)


def test_a_new_node_takes_weight_1_in_or_one_drawn_across_the_range_it_is_given():
    def split_weights(split_weight_range):
        rates = CPPNMutationRates(add_connection=0, remove_connection=0, perturb_weights=0, add_node=1.0,
                                  remove_node=0, change_activation=0, split_weight_range=split_weight_range)
        encoding = make_encoding("cppn", (1, 28, 28), rates=rates)
        before = encoding.random(256, torch.Generator().manual_seed(0), "cpu")
        after, changed = encoding.mutate(before, torch.Generator().manual_seed(1))
        assert changed.all() and encoding.layout.hidden_counts(after).eq(1).all()  # one new node in every genome
        views = encoding.layout.views(after)
        into_hidden = views["enabled"].bool()[:, encoding.layout.hidden, :]  # the new node's one incoming edge
        return views["weight"][:, encoding.layout.hidden, :][into_hidden]

    assert split_weights(0.0).eq(1.0).all()  # NEAT's split: near-neutral
    wide = split_weights(10.0)
    assert wide.abs().max() <= 10 and wide.abs().max() > 9 and (wide < 0).any()


def test_a_new_node_is_wired_from_each_input_with_the_chance_it_is_given():
    def incoming(new_node_inputs):
        rates = CPPNMutationRates(add_connection=0, remove_connection=0, perturb_weights=0, add_node=1.0,
                                  remove_node=0, change_activation=0, new_weight_range=10.0,
                                  new_node_inputs=new_node_inputs)
        encoding = make_encoding("cppn", (1, 28, 28), rates=rates)
        before = encoding.random(512, torch.Generator().manual_seed(0), "cpu")
        after = encoding.mutate(before, torch.Generator().manual_seed(1))[0]
        views = encoding.layout.views(after)
        into_hidden = views["enabled"].bool()[:, encoding.layout.hidden, :4]  # inputs -> the one new node
        return into_hidden.flatten(1).sum(1), views["weight"][:, encoding.layout.hidden, :4][into_hidden]

    alone, _ = incoming(0.0)
    assert alone.eq(1).all()  # NEAT's new node reads the one connection it split
    half, weights = incoming(0.5)
    assert 2.3 < half.float().mean() < 2.7  # the split input, and each of the other 3 inputs with chance 0.5
    assert half.max() == 4 and weights.abs().max() <= 10 and (weights < -5).any() and (weights > 5).any()
    assert incoming(1.0)[0].eq(4).all()
    with pytest.raises(ValueError, match=r"wired from each input must be a number in \[0, 1\], got 2"):
        evofool.evolve(None, "Coat", encoding="cppn", new_node_inputs=2)
    with pytest.raises(ValueError, match="the direct encoding has none"):
        evofool.evolve(None, "Coat", encoding="direct", new_node_inputs=0.5)


def test_a_new_node_feeds_each_output_with_the_chance_it_is_given():
    def outgoing(new_node_outputs):  # colour genomes: three outputs, one of them the end of the split connection
        rates = CPPNMutationRates(add_connection=0, remove_connection=0, perturb_weights=0, add_node=1.0,
                                  remove_node=0, change_activation=0, new_node_outputs=new_node_outputs)
        encoding = make_encoding("cppn", (3, 28, 28), rates=rates)
        before = encoding.random(512, torch.Generator().manual_seed(0), "cpu")
        after = encoding.mutate(before, torch.Generator().manual_seed(1))[0]
        views, layout = encoding.layout.views(after), encoding.layout
        from_hidden = views["enabled"].bool()[:, layout.output, layout.hidden]  # the one new node -> outputs
        return from_hidden.flatten(1).sum(1), views["weight"][:, layout.output, layout.hidden][from_hidden]

    assert outgoing(0.0)[0].eq(1).all()  # NEAT's new node feeds the end of the connection it split
    half, weights = outgoing(0.5)
    assert 1.8 < half.float().mean() < 2.2  # that output, and each of the other two with chance 0.5
    assert half.max() == 3 and weights.abs().max() <= 3 and (weights > 2).any() and (weights < -2).any()
    assert outgoing(1.0)[0].eq(3).all()
    with pytest.raises(ValueError, match=r"wired to each output must be a number in \[0, 1\], got -0.5"):
        evofool.evolve(None, "Coat", encoding="cppn", new_node_outputs=-0.5)
    with pytest.raises(ValueError, match="the direct encoding has none"):
        evofool.evolve(None, "Coat", encoding="direct", new_node_outputs=0.5)


def test_a_grown_start_spreads_new_genomes_over_many_small_graphs():
    encoding = make_encoding("cppn", (1, 28, 28), grown_start=15)
    genomes = encoding.random(64, torch.Generator().manual_seed(0), "cpu")
    hidden = encoding.layout.hidden_counts(genomes)
    assert hidden.float().mean() > 2 and len(hidden.unique()) > 3
    edges = encoding.layout.views(genomes)["enabled"].flatten(1)
    assert len(edges.unique(dim=0)) > 32  # many different graphs, not one graph with other weights
    bare = make_encoding("cppn", (1, 28, 28)).random(64, torch.Generator().manual_seed(0), "cpu")
    assert encoding.layout.hidden_counts(bare).sum() == 0
    assert encoding.render(genomes).shape == (64, 1, 28, 28)
