"""The direct-encoding GA: reaches its target, is reproducible, and reports what the saved image scores."""

import numpy as np
import pytest
import torch

import evofool
from evofool.defaults import direct_defaults
from evofool.encodings import make_encoding
from evofool.images import load_image
from evofool.results import save_result


def test_evolve_fools_the_perceptron_and_records_milestones(perceptron):
    result = evofool.evolve(perceptron, "3", algorithm="ga", pop_size=32, generations=300, seed=1)
    assert result.confidence >= 0.9999
    assert result.top5[0][:2] == ("3", 3)
    assert result.generations < 300
    assert result.milestones[0.99]["gen"] <= result.milestones[0.9999]["gen"] == result.generations
    assert [row["gen"] for row in result.logbook] == list(range(result.generations + 1))
    assert result.evaluations == sum(row["nevals"] for row in result.logbook)


def test_same_seed_same_image_other_seed_other_image(perceptron):
    first = evofool.evolve(perceptron, 5, pop_size=16, generations=20, seed=7)
    again = evofool.evolve(perceptron, 5, pop_size=16, generations=20, seed=7)
    other = evofool.evolve(perceptron, 5, pop_size=16, generations=20, seed=8)
    assert torch.equal(first.image, again.image) and first.confidence == again.confidence
    assert not torch.equal(first.image, other.image)


def test_saved_png_scores_the_reported_confidence(tmp_path, lenet):
    result = evofool.evolve(lenet, "Bag", pop_size=32, generations=15, seed=0)
    save_result(result, tmp_path)
    reloaded = lenet.probs(load_image(tmp_path / "best.png", 1)[None])[0]
    assert abs(reloaded[8].item() - result.confidence) < 1e-4
    assert result.image.mul(255).sub(result.image.mul(255).round()).abs().max() < 1e-4


def test_small_genome_is_upsampled_to_the_model_input(lenet):
    result = evofool.evolve(lenet, "Trouser", algorithm="ga", pop_size=16, generations=3, seed=0, genome_size=7,
                            upsample="nearest", refine_after=0)
    assert result.genome.shape == (1, 7, 7)
    assert result.image.shape == (1, 28, 28)
    assert torch.equal(result.image[:, :4, :4], result.image[:, :1, :1].expand(1, 4, 4))


def test_direct_grid_defaults_depend_on_the_algorithm_and_the_input(lenet):
    """The GA on small inputs evolves a 14 x 14 nearest grid refined to the input's pixels after 60 generations,
    with tournaments of 3, the strategies 16 x 16 bilinear; the GA's is 16 x 16 bilinear too above 64 px; and the
    strategies default to the pyramid."""
    for algorithm, side, upsample in (("ga", 28, "nearest"), ("snes", 16, "bilinear")):
        result = evofool.evolve(lenet, "Trouser", algorithm=algorithm, encoding="direct", pop_size=8, generations=1)
        assert result.genome.shape == (1, side, side) and result.config["encoding_params"]["upsample"] == upsample
    ga = evofool.evolve(lenet, "Trouser", algorithm="ga", pop_size=8, generations=1)
    assert ga.config["encoding_params"]["refine_after"] == 60 and ga.config["tournsize"] == 3
    assert direct_defaults("ga", (3, 224, 224)) == dict(genome_size=16, upsample="bilinear", refine_after=0,
                                                        tournsize=2)
    assert direct_defaults("ga", (1, 64, 64)) == dict(genome_size=14, upsample="nearest", refine_after=60,
                                                      tournsize=3)
    result = evofool.evolve(lenet, "Trouser", pop_size=8, generations=1)
    assert result.config["algorithm"] == "snes" and result.config["encoding"] == "pyramid"
    assert result.config["encoding_params"]["sides"] == [2, 4, 8, 16] and result.genome.shape == (4 + 16 + 64 + 256,)


def test_only_changed_children_are_scored(perceptron):
    result = evofool.evolve(perceptron, 0, algorithm="ga", pop_size=20, generations=5, seed=0, cxpb=0.0, mutpb=0.5,
                            target_confidence=0.999999)
    nevals = [row["nevals"] for row in result.logbook[1:]]
    assert all(0 < n < 20 for n in nevals)


def test_user_registered_operators_drive_the_loop(perceptron):
    calls = []
    toolbox = evofool.make_toolbox(perceptron, 2, make_encoding("direct", (1, 8, 8)), torch.Generator().manual_seed(0))

    def mutate_to_white(genomes):
        calls.append(len(genomes))
        return torch.ones_like(genomes), torch.ones(len(genomes), dtype=torch.bool)

    toolbox.register("mutate", mutate_to_white)
    result = evofool.evolve(perceptron, 2, algorithm="ga", pop_size=8, generations=2, toolbox=toolbox, cxpb=0.0,
                            target_confidence=0.999999)
    assert calls == [8, 8]
    white = perceptron.probs(torch.ones(1, 1, 8, 8))[0, 2].item()
    assert result.logbook[1]["best"] >= white - 1e-6


def test_hall_of_fame_keeps_its_own_copy_of_one_genome_not_the_population():
    from evofool.algorithms.ga import _remember, new_hall_of_fame

    population, fitness = torch.rand(16, 1, 8, 8), torch.rand(16)
    hall_of_fame = new_hall_of_fame()
    _remember(hall_of_fame, population, fitness, fitness.max().item())
    kept = hall_of_fame[0].genome
    best = fitness.argmax().item()
    assert torch.equal(kept, population[best])
    assert kept.untyped_storage().nbytes() == kept.numel() * kept.element_size()  # not the 16 rows' storage
    population[best] = 0  # the population's rows are overwritten in place as the loop goes on
    assert kept.sum() > 0


def test_vary_keeps_in_place_and_new_tensor_operators_results_for_some_or_all_rows():
    from deap import base

    from evofool.algorithms.ga import vary

    toolbox = base.Toolbox()
    toolbox.register("mate", lambda a, b: (a.add_(1), b.add_(2), torch.ones(len(a), dtype=torch.bool)))  # in place
    toolbox.register("mutate", lambda g: (g + 10, torch.ones(len(g), dtype=torch.bool)))  # new tensor
    for cxpb, mutpb in [(0.5, 0.5), (1.0, 1.0)]:
        children, changed = vary(torch.zeros(40, 3), toolbox, cxpb, mutpb, torch.Generator().manual_seed(0))
        crossed, mutated = children[:, 0] % 10, children[:, 0] >= 10
        assert torch.equal(crossed[0::2] == 1, crossed[1::2] == 2)  # pairs crossed together
        assert torch.equal(changed, (crossed > 0) | mutated)
        assert (children == children[:, :1]).all()
        if cxpb < 1:
            assert 0 < (crossed > 0).sum() < 40 and 0 < mutated.sum() < 40
        else:
            assert (crossed > 0).all() and mutated.all()


@pytest.mark.parametrize("kwargs, message", [
    ({"pop_size": 1}, "population"),
    ({"generations": 0}, "generations"),
    ({"target_confidence": 1.0}, "confidence"),
    ({"target_confidence": 0.0}, "confidence"),
    ({"encoding": "pixels"}, "encoding"),
])
def test_bad_parameters_are_refused(perceptron, kwargs, message):
    with pytest.raises(ValueError, match=message):
        evofool.evolve(perceptron, 0, **kwargs)


def test_robust_transforms_are_parsed_and_unknown_ones_listed():
    from evofool.robust import parse_robust

    assert parse_robust("shift,scale=0.2") == {"shift": 0.08, "scale": 0.2}
    assert parse_robust("crops") == {"crops": 0.0}
    with pytest.raises(ValueError, match="unknown robust transform 'zoom'; choose from crops, shift, scale, rotate"):
        parse_robust("shift,zoom")
    for bad in ("scale=2", "shift=abc", "crops,shift", ""):
        with pytest.raises(ValueError):
            parse_robust(bad)


def test_ten_crops_are_the_corners_and_centre_of_an_enlarged_image_and_their_mirrors():
    from evofool.robust import ten_crops

    image = torch.arange(28 * 28, dtype=torch.float32).view(1, 1, 28, 28)
    crops = ten_crops(image)
    assert crops.shape == (10, 1, 28, 28)
    assert torch.equal(crops[5:], crops[:5].flip(-1))
    assert crops[0, 0, 0, 0] < crops[3, 0, -1, -1]  # top-left corner crop vs bottom-right
    assert len({tuple(c.flatten()[:3].tolist()) for c in crops}) == 10


def test_robust_fitness_scores_each_view_in_one_batch_and_averages(lenet):
    from evofool.robust import RobustFitness

    calls = []
    original = lenet.probs
    lenet.probs = lambda images, **kw: calls.append(images.shape[0]) or original(images, **kw)
    try:
        fitness = RobustFitness(lenet, 8, "shift,scale", 6, torch.Generator().manual_seed(0))
        images = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
        values = fitness(images)
    finally:
        lenet.probs = original
    assert calls == [30] and values.shape == (5,)
    plain = lenet.probs(images)[:, 8]
    assert not torch.allclose(values, plain)  # the views differ from the image


def test_robust_search_survives_unseen_shifts_better_and_reports_the_saved_image(lenet):
    """Fitness under random views makes the saved image hold up under views never used in the search,
    while ``confidence`` stays the saved image's own."""
    from evofool.images import quantize
    from evofool.robust import random_views

    def unseen(result):
        views = random_views(result.image[None], 64, dict(shift=2 / 28, scale=0.1), torch.Generator().manual_seed(7))
        return float(lenet.probs(views)[:, result.target_index].mean())

    # on the pixel grid: the pyramid's broad shapes hold up under shifts already (0.97 on these views, plain)
    plain = evofool.evolve(lenet, "Ankle boot", encoding="direct", budget=4000, generations=400, seed=0)
    robust = evofool.evolve(lenet, "Ankle boot", encoding="direct", budget=4000, generations=400, seed=0,
                            robust="shift,scale")
    assert robust.confidence == pytest.approx(float(lenet.probs(quantize(robust.image.clone())[None])[0, 9]))
    assert robust.config["robust"] == "shift,scale" and robust.robust_confidence > 0.9
    assert unseen(robust) > unseen(plain) + 0.05


def test_bilinear_rendering_matches_torch_interpolate():
    import torch.nn.functional as F

    from evofool.encodings.direct import DirectEncoding

    genomes = torch.rand(4, 3, 9, 9, generator=torch.Generator().manual_seed(0))
    encoding = DirectEncoding(3, (30, 20), 9, upsample="bilinear")
    expected = F.interpolate(genomes, size=(30, 20), mode="bilinear", align_corners=False)
    assert torch.allclose(encoding.render(genomes), expected, atol=1e-6)


def test_images_are_rounded_to_the_levels_a_png_stores_and_genomes_stay_untouched():
    from evofool.encodings import saved_images
    from evofool.images import quantize, quantize_

    images = torch.rand(300, 10, 10, generator=torch.Generator().manual_seed(0)) * 1.2 - 0.1
    levels = np.rint(np.clip(images.numpy(), 0, 1) * np.float32(255))  # numpy rounds half to even, as PNGs do here
    whole = torch.from_numpy(levels.astype(np.float32) / np.float32(255))
    assert torch.equal(quantize(images), whole)
    assert not torch.equal(images, whole)  # quantize leaves its input alone; quantize_ rounds it in place
    assert torch.equal(quantize_(images), whole) and torch.equal(images, whole)
    # a full-resolution direct genome renders as itself: saving it must not round the genome
    encoding = make_encoding("direct", (1, 28, 28))
    genomes = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    kept = genomes.clone()
    assert torch.equal(saved_images(encoding, genomes), quantize(kept)) and torch.equal(genomes, kept)
