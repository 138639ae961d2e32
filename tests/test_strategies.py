import json

import pytest
import torch
from deap import base

import evofool
from evofool.algorithms.es import ea_generate_update, register_strategy
from evofool.algorithms.ga import fitness_statistics, new_hall_of_fame
from evofool.algorithms.strategies import SNES, DeapCMA, SepCMAES, centered_ranks, make_strategy, rank_utilities
from evofool.cli import main
from evofool.encodings import make_encoding


def _sphere_toolbox(strategy, optimum):
    toolbox = register_strategy(base.Toolbox(), strategy)
    toolbox.register("evaluate", lambda x: -((x - optimum) ** 2).sum(1))
    return toolbox


@pytest.mark.parametrize("name, dim, generations", [("snes", 40, 800), ("sep-cma", 40, 300), ("cma", 10, 150)])
def test_strategies_find_the_optimum_of_a_sphere(name, dim, generations):
    optimum = torch.linspace(-2, 2, dim)
    strategy = make_strategy(name, torch.zeros(dim), 1.0, 16, torch.Generator().manual_seed(0))
    toolbox = _sphere_toolbox(strategy, optimum)
    hall_of_fame = new_hall_of_fame()
    start = -((optimum) ** 2).sum().item()
    logbook, stopped_by = ea_generate_update(toolbox, generations, fitness_statistics(), hall_of_fame)
    assert stopped_by == "generations"
    assert logbook[-1]["best"] > 0.01 * start  # squared distance down by 100x at least
    assert (hall_of_fame[0].genome - optimum).abs().max() < 0.5


def test_samples_come_in_mirrored_pairs():
    for strategy in (SNES(torch.ones(6), 0.5, 8, torch.Generator().manual_seed(1)),
                     SepCMAES(torch.ones(6), 0.5, 8, torch.Generator().manual_seed(1))):
        samples = strategy.generate()
        assert torch.allclose(samples[:4] + samples[4:], 2 * torch.ones(4, 6))


@pytest.mark.parametrize("shaping", [rank_utilities, centered_ranks])
def test_fitness_shaping_depends_on_ranks_only(shaping):
    fitness = torch.tensor([0.1, 0.9, 0.5, 0.0001])
    utilities = shaping(fitness)
    assert utilities.sum().abs() < 1e-6
    assert utilities.argmax() == 1 and utilities[3] == utilities.min()
    assert torch.allclose(shaping(fitness.log()), utilities)  # probability or log-probability: same update


@pytest.mark.parametrize("name", ["snes", "sep-cma", "cma"])
def test_scoring_the_centroid_costs_one_evaluation_a_generation_and_its_genome_can_be_the_best(name):
    strategy = make_strategy(name, torch.full((6,), 0.25), 1.0, 8, torch.Generator().manual_seed(0))
    toolbox = _sphere_toolbox(strategy, torch.zeros(6))
    updates = []
    update = toolbox.update
    toolbox.register("update", lambda population, fitness: updates.append(len(fitness)) or update(population, fitness))
    hall_of_fame = new_hall_of_fame()
    logbook, _ = ea_generate_update(toolbox, 5, fitness_statistics(), hall_of_fame, score_centroid=True)
    assert [row["nevals"] for row in logbook] == [9] * 5 and logbook[-1]["evals"] == 45
    assert updates == [8] * 5  # the centroid's score never reaches the strategy's update
    # the first generation's centroid (0.25 everywhere) is nearer the optimum than samples of step size 1 mostly are
    first = make_strategy(name, torch.full((6,), 0.25), 1.0, 8, torch.Generator().manual_seed(0))
    assert torch.equal(first.centroid(), torch.full((6,), 0.25))
    assert hall_of_fame[0].fitness.values[0] >= -6 * 0.25**2


def test_evolve_scores_the_strategy_mean_and_keeps_within_its_budget(lenet):
    result = evofool.evolve(lenet, "Bag", pop_size=16, budget=170, target_confidence=None, seed=0)
    assert [row["nevals"] for row in result.logbook] == [17] * len(result.logbook)
    assert 170 <= result.evaluations < 170 + 17


def test_step_sizes_shrink_near_the_optimum():
    strategy = SNES(torch.zeros(20), 1.0, 16, torch.Generator().manual_seed(0))
    ea_generate_update(_sphere_toolbox(strategy, torch.zeros(20)), 200)
    assert strategy.sigma.max() < 0.5


def test_stalled_strategy_restarts_from_its_best_genome():
    strategy = SNES(torch.zeros(5), 1.0, 8, torch.Generator().manual_seed(0), lr_sigma=0.5)
    toolbox = register_strategy(base.Toolbox(), strategy)
    calls = []
    toolbox.register("evaluate", lambda x: torch.zeros(x.shape[0]))  # a plateau: nothing ever improves
    toolbox.register("restart", lambda centroid: calls.append(centroid.clone()) or strategy.restart(centroid))
    hall_of_fame = new_hall_of_fame()
    ea_generate_update(toolbox, 21, fitness_statistics(), hall_of_fame, patience=10)
    assert len(calls) == 2  # generations 11 and 21
    assert torch.equal(calls[0], hall_of_fame[0].genome)
    assert torch.equal(strategy.sigma, torch.ones(5))  # the step sizes are the initial ones again after a restart


@pytest.mark.parametrize("name", ["sep-cma", "snes", "cma"])
def test_bad_strategy_parameters_are_refused(name):
    with pytest.raises(ValueError, match="sigma"):
        make_strategy(name, torch.zeros(3), 0.0, 8, torch.Generator())
    with pytest.raises(ValueError, match="population"):
        make_strategy(name, torch.zeros(3), 1.0, 1, torch.Generator())


def test_full_cma_refuses_genomes_too_large_for_its_covariance():
    with pytest.raises(ValueError, match="sep-cma"):
        DeapCMA(torch.zeros(3000), 1.0, 8, torch.Generator())


@pytest.mark.parametrize("algorithm", ["snes", "sep-cma", "cma"])
def test_every_strategy_fools_the_perceptron(perceptron, algorithm):
    result = evofool.evolve(perceptron, "3", algorithm=algorithm, generations=200, seed=0, target_confidence=0.99)
    assert result.confidence >= 0.99 and result.stopped_by == "target"
    again = evofool.load_classifier("perceptron_digits", device="cpu").probs(result.image[None])[0, 3]
    assert abs(again.item() - result.confidence) < 1e-6  # the saved image's own score


@pytest.mark.parametrize("algorithm, encoding", [("snes", "direct"), ("ga", "direct"), ("snes", "dct"), ("ga", "dct"),
                                                 ("snes", "pyramid"), ("ga", "pyramid")])
def test_budget_stops_every_algorithm(lenet, algorithm, encoding):
    result = evofool.evolve(lenet, "Coat", algorithm=algorithm, encoding=encoding, pop_size=16, generations=1000,
                            budget=100, seed=0, target_confidence=None)
    assert result.stopped_by == "budget"
    assert 100 <= result.evaluations < 100 + 16
    assert result.config["budget"] == 100 and result.config["algorithm"] == algorithm


@pytest.mark.parametrize("algorithm", ["snes", "sep-cma", "cma"])
def test_strategy_run_resumes_exactly_from_a_checkpoint_file(lenet, tmp_path, algorithm):
    from evofool.campaigns.checkpoint import load_checkpoint, save_checkpoint

    saved = {}
    kwargs = dict(algorithm=algorithm, pop_size=8, seed=3, target_confidence=None, genome_size=6)
    whole = evofool.evolve(lenet, "Coat", generations=12, **kwargs)
    evofool.evolve(lenet, "Coat", generations=5, checkpoint=lambda state: saved.update(state), **kwargs)
    save_checkpoint(tmp_path / "checkpoint.pt", saved)  # torch.save, read back with weights_only=True
    resumed = evofool.evolve(lenet, "Coat", generations=12, resume=load_checkpoint(tmp_path / "checkpoint.pt"),
                             **kwargs)
    assert torch.equal(whole.image, resumed.image)
    assert [row["best"] for row in whole.logbook] == [row["best"] for row in resumed.logbook]


def test_bilinear_genome_renders_smoothly():
    from evofool.encodings import make_encoding

    genome = torch.zeros(1, 1, 2, 2)
    genome[..., 0, 0] = 1.0
    nearest = make_encoding("direct", (1, 8, 8), 2, upsample="nearest").render(genome)
    bilinear = make_encoding("direct", (1, 8, 8), 2, upsample="bilinear").render(genome)
    assert set(nearest.unique().tolist()) == {0.0, 1.0}
    assert len(bilinear.unique()) > 4 and bilinear[0, 0, 0, 0] == 1.0 and bilinear[0, 0, 7, 7] == 0.0


@pytest.mark.parametrize("side", [5, 48])  # matrix products up to MATRIX_SIDE, F.interpolate above
@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_upsampling_matches_interpolate_on_either_path(side, align_corners):
    import torch.nn.functional as F

    from evofool.encodings.upsample import bilinear

    images = torch.rand(2, 3, side, side + 3, generator=torch.Generator().manual_seed(side))
    expected = F.interpolate(images, size=(61, 70), mode="bilinear", align_corners=align_corners)
    resized = bilinear(images[:, None], (61, 70), align_corners)  # any leading dimensions
    assert resized.shape == (2, 1, 3, 61, 70)
    assert torch.allclose(resized[:, 0], expected, atol=1e-6)


def test_dct_genome_is_a_smooth_image_in_range():
    from evofool.encodings import make_encoding

    encoding = make_encoding("dct", (3, 32, 32), 4)
    genomes = encoding.random(5, torch.Generator().manual_seed(0), "cpu")
    images = encoding.render(genomes)
    assert images.shape == (5, 3, 32, 32) and 0 < images.min() and images.max() < 1
    flat = encoding.render(torch.full((1, 3, 4, 4), 0.5))
    assert torch.allclose(flat, torch.full_like(flat, 0.5))  # zero coefficients: gray
    assert (images[..., 1:, :] - images[..., :-1, :]).abs().max() < 0.3  # four frequencies: no pixel-to-pixel jumps


def test_pyramid_image_is_the_sigmoid_of_its_levels_logits_summed_at_the_input_size():
    import torch.nn.functional as F

    from evofool.encodings.pyramid import PyramidEncoding

    encoding = make_encoding("pyramid", (3, 40, 30), 8)
    assert encoding.sides == [2, 4, 8] and encoding.genome_shape == (3 * (4 + 16 + 64),)
    genomes = torch.rand(7, *encoding.genome_shape, generator=torch.Generator().manual_seed(0))
    logits, start, expected = torch.logit(genomes), 0, 0
    for side in encoding.sides:
        level = logits[:, start:start + 3 * side * side].reshape(7, 3, side, side)
        expected = expected + F.interpolate(level, size=(40, 30), mode="bilinear", align_corners=False)
        start += 3 * side * side
    assert torch.allclose(encoding.render(genomes), torch.sigmoid(expected), atol=1e-6)
    big = PyramidEncoding(3, (224, 224))  # a batch renders as its images do one by one (what is saved)
    many = torch.rand(9, *big.genome_shape, generator=torch.Generator().manual_seed(1))
    assert torch.equal(big.render(many)[8], big.render(many[8:])[0])
    gray = encoding.render(encoding.center()[None])
    assert torch.equal(gray, torch.full_like(gray, 0.5))
    coarse = encoding.center().clone()
    coarse[0] = 0.99  # the 2 x 2 level's top-left gene, red channel: a quarter of the image turns red
    red = encoding.render(coarse[None])[0, 0]
    assert red[0, 0] > 0.95 and red[-1, -1] == 0.5 and red[:20, :15].min() > 0.5


def test_pyramid_genes_in_the_ga_and_the_archive_stay_valid(lenet):
    from evofool.algorithms.map_elites import map_elites

    result = evofool.evolve(lenet, "Coat", algorithm="ga", encoding="pyramid", pop_size=8, generations=3)
    assert result.genome.shape == (4 + 16 + 64 + 256,) and 0 <= result.genome.min() and result.genome.max() <= 1
    archive = map_elites(lenet, "pyramid", [0, 1], pop_size=8, generations=2, seed=0, emitters=1).archive
    assert archive.genomes.shape == (2, 4 + 16 + 64 + 256) and (archive.confidence > 0).all()


@pytest.mark.parametrize("args, message", [
    (["--budget", "10"], "at least one population"),
    (["--encoding", "pyramid", "--genome-size", "99"], "2 <= S <= 28"),
    (["--algorithm", "snes", "--sigma", "0"], "sigma must be positive"),
    (["--algorithm", "snes", "--encoding", "cppn"], "the strategies search real vectors"),
    (["--encoding", "dct", "--genome-size", "99"], "1 <= K <= 28"),
])
def test_bad_search_settings_exit_2_and_write_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "never"
    assert main(["evolve", "--model", "lenet_fmnist", "--target", "Bag", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_unknown_algorithm_lists_the_known_ones(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["evolve", "--target", "Bag", "--algorithm", "nes", "--out", str(tmp_path / "never")])
    assert stop.value.code == 2
    assert "'ga', 'snes', 'sep-cma', 'cma'" in capsys.readouterr().err.splitlines()[-1]
    with pytest.raises(ValueError, match="choose one of ga, snes"):
        evofool.evolve(None, 0, algorithm="nes")


def test_map_elites_emitters_raise_the_cells_they_work_on(lenet):
    from evofool.algorithms.map_elites import map_elites

    plain = map_elites(lenet, "direct", pop_size=16, seed=0, generations=200, budget=1600, genome_size=14)
    emitted = map_elites(lenet, "direct", pop_size=8, seed=0, generations=200, budget=1600, genome_size=14,
                         emitters=1, emitter_pop=8)
    assert plain.stopped_by == emitted.stopped_by == "budget"
    assert 1600 <= emitted.evaluations < 1600 + 16
    assert emitted.logbook[1]["nevals"] == 16  # 8 children of uniform parents + 8 emitter samples
    assert emitted.archive.confidence.median() > plain.archive.confidence.median()


@pytest.mark.parametrize("encoding, options", [("direct", dict(genome_size=7)), ("cppn", {})])
def test_map_elites_with_emitters_resumes_exactly(lenet, encoding, options):
    from evofool.algorithms.map_elites import map_elites

    kwargs = dict(pop_size=8, seed=1, emitters=2, emitter_pop=4, **options)
    whole = map_elites(lenet, encoding, generations=10, **kwargs)
    saved = {}
    map_elites(lenet, encoding, generations=4, checkpoint=lambda state: saved.update(state), **kwargs)
    resumed = map_elites(lenet, encoding, generations=10, resume=saved, **kwargs)
    assert torch.equal(whole.archive.confidence, resumed.archive.confidence)
    assert torch.equal(whole.archive.genomes, resumed.archive.genomes)


def test_a_cppn_local_space_moves_only_the_weights_of_its_graph():
    encoding = make_encoding("cppn", (3, 16, 16))
    generator = torch.Generator().manual_seed(0)
    genome = encoding.random(1, generator, "cpu")
    for _ in range(20):
        genome = encoding.mutate(genome, generator)[0]
    start, decode = encoding.local_space(genome[0])
    assert torch.equal(decode(start[None])[0], genome[0])  # the start is the elite itself
    moved = decode(start + 100 * torch.randn(5, start.numel(), generator=generator))
    changed = (moved != genome).any(0).nonzero().squeeze(1)
    weights = encoding.layout.views(genome)["enabled"][0].flatten().nonzero().squeeze(1)
    assert set(changed.tolist()) <= set(weights.tolist())  # graph, activations and keys stay
    assert moved.abs()[:, weights].max() <= encoding.rates.weight_range  # weights clipped to their range


def test_a_strategy_evolves_the_weights_of_a_fixed_cppn_graph(lenet, tmp_path):
    from evofool.encodings.cppn import load_genome_dict, render_genome

    result = evofool.evolve(lenet, "Trouser", algorithm="snes", encoding="cppn-weights", generations=100, seed=0,
                            target_confidence=0.99)
    assert result.confidence >= 0.99
    graph = result.genome_dict
    assert len(graph["nodes"]) == 16  # the default two layers of eight, unchanged by the search
    path = tmp_path / "best.json"
    path.write_text(json.dumps(graph))
    again = render_genome(load_genome_dict(path), 28)
    assert (again - result.image).abs().max() <= 1 / 255 + 1e-6  # best.json draws the saved image
    seeded = evofool.evolve(lenet, "Trouser", algorithm="sep-cma", encoding="cppn-weights", init=graph,
                            generations=1, pop_size=4, seed=0, target_confidence=None)
    assert seeded.genome_dict["nodes"] == graph["nodes"]  # the seed's graph is the one evolved


def test_seed_genome_and_genome_size_are_refused_where_they_do_nothing(lenet):
    with pytest.raises(ValueError, match="--init"):
        evofool.evolve(lenet, "Bag", encoding="direct", init={"nodes": []})
    with pytest.raises(ValueError, match="--genome-size"):
        evofool.evolve(lenet, "Bag", encoding="cppn", genome_size=8)


def test_improvement_emitters_rank_samples_by_what_they_add_to_the_archive():
    from evofool.algorithms.emitters import StrategyEmitters

    encoding = make_encoding("dct", (1, 8, 8), genome_size=2)  # 1 x 2 x 2 genes
    emitters = StrategyEmitters(1, 4, encoding, "snes", 0.5, torch.Generator().manual_seed(0), objective="improvement")
    before = torch.tensor([0.1, 0.1, 0.5])
    emitters.ask(torch.rand(3, 1, 2, 2), before)
    ranked = []
    emitters.strategies[0].update = lambda vectors, fitness: ranked.append(fitness.clone())
    scores = torch.tensor([[0.4, 0.4, 0.0], [0.4, 0.0, 0.0], [0.2, 0.0, 0.0], [0.05, 0.05, 0.4]])
    emitters.tell(scores, before, torch.maximum(before, scores.max(0).values))
    assert ranked[0].argsort(descending=True).tolist() == [0, 1, 2, 3]  # two cells > one cell > less > nothing
    assert ranked[0][3] == 0 and emitters.stalled == [0]
    with pytest.raises(ValueError, match="objective"):
        StrategyEmitters(1, 4, encoding, "snes", 0.5, torch.Generator(), objective="novelty")
