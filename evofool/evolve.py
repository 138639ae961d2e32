"""``evolve``: search for one image that a classifier assigns to a target class with near certainty."""

from __future__ import annotations

import math
import os
from typing import Callable

import torch
from deap import base

from .algorithms.confirm import ConfirmedRecords
from .algorithms.es import ea_generate_update, register_strategy
from .algorithms.ga import Individual, ea_mu_plus_lambda, fitness_statistics, new_hall_of_fame
from .algorithms.operators import check_tournsize, sel_best, sel_best_distinct, sel_tournament
from .algorithms.speciation import Speciation, check_species
from .algorithms.strategies import STRATEGIES, make_strategy
from .classifiers import Classifier
from .defaults import (DEFAULT_ALGORITHM, DEFAULT_STRATEGY_ENCODING, DEFAULT_TOURNSIZE, GA_CPPN_SMALL_INPUT_HIDDEN,
                       SCORE_CENTROID, STRATEGY_SIGMA, direct_settings, ga_cppn_defaults)
from .encodings import make_encoding, saved_images
from .encodings.cppn import (CPPNMutationRates, check_grown_start, check_new_node_wiring, check_weight_ranges,
                             small_input)
from .encodings.cppn.render import check_color_mode
from .encodings.direct import check_refine_after
from .results import EvolutionResult, milestones_from_logbook
from .robust import RobustFitness, check_robust

ALGORITHMS = ("ga", *STRATEGIES)


def fitness_function(classifier: Classifier, target_index: int, robust: str | None = None, robust_samples: int = 8,
                     generator: torch.Generator | None = None,
                     record: Callable[[], float] | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Images (as saved) -> fitness: the target class's probability, or with ``robust`` its mean over
    transformed views of each image (see :mod:`evofool.robust`).

    When the classifier scores in reduced precision and ``record()`` gives the best fitness so far, every
    image that beats it is scored again in fp32 (:class:`ConfirmedRecords`), so records stay exact.
    """
    if robust is not None:
        return RobustFitness(classifier, target_index, robust, robust_samples, generator)

    def score(images, precise=False):
        return classifier.probs(images, precise=precise)[:, target_index]

    if classifier.approximate and record is not None:
        return ConfirmedRecords(score, lambda images: score(images, precise=True), record)
    return score


def make_toolbox(classifier: Classifier, target_index: int, encoding, generator: torch.Generator,
                 tournsize: int = 2, fitness: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 distinct_survivors: bool = False, species: int = 0) -> base.Toolbox:
    """The DEAP toolbox the GA runs on; register other functions under the same names to change operators.

    ``evaluate`` renders the genomes, rounds them to 8 bits (the fitness is that of the image as saved)
    and scores them with ``fitness`` (default: the target class's probability). ``survive`` is truncation,
    over distinct fitness values first with ``distinct_survivors``. ``species`` > 0 (CPPN genomes) replaces
    ``select`` and ``survive`` by those of NEAT's speciation toward that many species (registered as ``species``),
    whose survival truncates the same way.
    """
    fitness = fitness or fitness_function(classifier, target_index)
    toolbox = base.Toolbox()
    toolbox.generator = generator
    toolbox.register("select", sel_tournament, tournsize=tournsize, generator=generator)
    if encoding.mate is not None:
        toolbox.register("mate", encoding.mate, generator=generator)
    toolbox.register("mutate", encoding.mutate, generator=generator)
    if getattr(encoding, "refine_after", 0):  # coarse to fine: cells until then, pixels after
        toolbox.register("schedule", lambda gen: toolbox.register("mutate", encoding.mutate, generator=generator,
                                                                  fine=gen > encoding.refine_after))
    truncate = sel_best_distinct if distinct_survivors else sel_best
    toolbox.register("survive", truncate)
    if species:
        toolbox.species = Speciation(encoding.connection_genes, generator, target=species, tournsize=tournsize,
                                     truncate=truncate)
        toolbox.register("select", toolbox.species.select)
        toolbox.register("survive", toolbox.species.survive)
    toolbox.register("evaluate", lambda genomes: fitness(saved_images(encoding, genomes)))
    return toolbox


def make_strategy_toolbox(classifier: Classifier, target_index: int, encoding, strategy,
                          fitness: Callable[[torch.Tensor], torch.Tensor] | None = None) -> base.Toolbox:
    """The toolbox a strategy runs on: ``generate`` / ``update`` / ``restart`` from the strategy, and an
    ``evaluate`` that maps the strategy's unbounded vectors to genes in [0, 1] by a sigmoid (the logit
    space, where a Gaussian step never leaves the valid range), then scores as the GA does."""
    toolbox = register_strategy(base.Toolbox(), strategy)
    shape = encoding.genome_shape
    fitness = fitness or fitness_function(classifier, target_index)

    def evaluate(vectors):
        return fitness(saved_images(encoding, torch.sigmoid(vectors).view(-1, *shape)))

    toolbox.register("evaluate", evaluate)
    return toolbox


def evolve(
    classifier: Classifier,
    target: int | str,
    encoding: str | None = None,
    pop_size: int = 32,
    generations: int = 200,
    seed: int = 0,
    target_confidence: float | None = 0.9999,
    genome_size: int | None = None,
    device=None,
    cxpb: float = 1.0,
    mutpb: float = 1.0,
    init: dict | None = None,
    toolbox: base.Toolbox | None = None,
    on_generation: Callable[[dict], None] | None = None,
    checkpoint: Callable[[dict], None] | None = None,
    resume: dict | None = None,
    algorithm: str | None = None,
    budget: int | None = None,
    sigma: float | None = None,
    patience: int | None = 100,
    upsample: str | None = None,
    coordinate_scale: float | str | None = None,
    render_side: int | None = None,
    color_mode: str | None = None,
    robust: str | None = None,
    robust_samples: int = 8,
    grown_start: int | None = None,
    new_weight_range: float | None = None,
    split_weight_range: float | None = None,
    new_node_inputs: float | None = None,
    new_node_outputs: float | None = None,
    distinct_survivors: bool | None = None,
    species: int | None = None,
    refine_after: int | None = None,
    tournsize: int | None = None,
) -> EvolutionResult:
    """Evolve an image that ``classifier`` labels ``target`` with probability ``target_confidence``.

    ``algorithm`` is ``"ga"`` (the paper's method: DEAP's (mu + lambda) GA) or an evolution strategy
    (``"snes"``, ``"sep-cma"``, ``"cma"``; see ``algorithms/strategies.py``) that adapts a search
    distribution over the genome in logit space; None picks ``DEFAULT_ALGORITHM``, or the GA for the CPPN
    encoding, whose topology only the GA evolves. ``encoding`` None is the pixel grid ("direct") for the GA
    and ``DEFAULT_STRATEGY_ENCODING`` for a strategy. Stops at that confidence (None: never), after
    ``generations`` or once ``budget`` model evaluations are spent (at most one batch more).
    ``genome_size`` evolves S x S pixels (direct), grids up to S x S (pyramid) or K x K frequencies (dct)
    rendered at the model's input, ``upsample`` ("nearest", "bilinear" or "tile") how pixels are enlarged;
    both default to :func:`direct_defaults` (16, bilinear; the GA's on inputs up to 64 px 14, nearest; the
    paper's grid is the input's side and "nearest"). ``refine_after`` N (direct, a nearest grid smaller than the
    input) makes the genome the input's pixels, varied in the grid's cells for N generations and pixel by
    pixel after (0: the grid stays the genome; None: 60 for the GA on inputs up to 64 px, else 0);
    ``tournsize`` the GA's tournament size (None: 3 for its direct encoding on inputs up to 64 px, else 2); a
    ``robust`` search keeps 0 and 2 (:func:`~evofool.defaults.direct_settings`).
    ``coordinate_scale`` (CPPN) stretches the pixel coordinates a genome sees (a number, or "raw" for the
    original code's pixel indices; None: 2 for inputs up to 64 px, 8 above), and on such small inputs the GA's
    CPPNs may grow to ``GA_CPPN_SMALL_INPUT_HIDDEN`` hidden nodes; ``grown_start`` (CPPN) is the rounds of
    mutation that grow each new genome, ``new_weight_range`` (CPPN) the +-range of a new connection's weight and
    ``split_weight_range`` that of a new node's incoming one (0: NEAT's 1), ``new_node_inputs`` the chance that a
    new node is also wired from each input and ``new_node_outputs`` to each output (None for any:
    :func:`ga_cppn_defaults`);
    ``distinct_survivors`` (the GA) fills the population with distinct fitness values before copies (None: so for
    the CPPN on inputs up to 64 px, plain truncation otherwise); ``species`` (the GA's CPPN) the number of
    NEAT species it keeps apart (0: none; None: 6 on inputs up to 64 px, else 0);
    ``render_side`` the grid it is evaluated on
    before upsampling to the input (None: the encoding's default, 112; 0: every input pixel), ``color_mode``
    how its three outputs make a colour ("hls", the default, or "rgb"; gray models draw one). ``sigma`` is a
    strategy's initial step size, ``patience`` the generations without improvement after which it restarts
    around its best genome.
    ``robust`` (e.g. ``"crops"`` or ``"shift,scale,rotate"``; see :mod:`evofool.robust`) makes the fitness the
    mean confidence over transformed views of each image, ``robust_samples`` random views per image drawn
    anew each generation (the crops are ten); ``evaluations`` then counts images, each ``robust_samples``
    forward passes. The reported ``confidence`` stays that of the saved image itself, ``robust_confidence``
    its mean over 64 fresh random views (or the ten crops).
    ``init`` is a genome dict that seeds the population (cppn) or gives the graph whose weights are evolved
    (cppn-weights). An encoding without crossover ignores ``cxpb``.
    ``toolbox``, when given, replaces the one the algorithm builds (its ``generator`` attribute,
    if any, drives the loop's own draws). ``checkpoint`` receives the loop's state (with the generator's)
    after every generation; that state passed back as ``resume`` continues the run exactly.
    The same seed gives the same result on the CPU. Returns an :class:`EvolutionResult`.
    """
    if algorithm is None:
        algorithm = "ga" if encoding == "cppn" else DEFAULT_ALGORITHM
    if encoding is None:
        encoding = "direct" if algorithm == "ga" else DEFAULT_STRATEGY_ENCODING
    strategy_run = algorithm != "ga"
    _validate(algorithm, encoding, pop_size, generations, target_confidence, budget, sigma, patience, init,
              genome_size, upsample, render_side, color_mode, grown_start, new_weight_range, split_weight_range,
              new_node_inputs, new_node_outputs, distinct_survivors, species, refine_after, tournsize)
    if robust is not None:
        check_robust(robust, robust_samples)
    if encoding == "direct":  # the default grid, no larger than a small model's input
        genome_size, upsample, refine_after, tournsize = direct_settings(
            algorithm, classifier.input_size, genome_size, upsample, refine_after, tournsize,
            robust=robust is not None).values()
    if strategy_run:
        sigma = STRATEGY_SIGMA if sigma is None else sigma
    device = torch.device(device) if device is not None else classifier.device
    target_index = classifier.class_index(target)
    cppn_options = {}
    if encoding == "cppn":
        defaults = ga_cppn_defaults(classifier.input_size)
        cppn_options["grown_start"] = defaults["grown_start"] if grown_start is None else grown_start
        new_weight_range = defaults["new_weight_range"] if new_weight_range is None else new_weight_range
        split_weight_range = defaults["split_weight_range"] if split_weight_range is None else split_weight_range
        new_node_inputs = defaults["new_node_inputs"] if new_node_inputs is None else new_node_inputs
        new_node_outputs = defaults["new_node_outputs"] if new_node_outputs is None else new_node_outputs
        cppn_options["rates"] = CPPNMutationRates(new_weight_range=new_weight_range,
                                                  split_weight_range=split_weight_range,
                                                  new_node_inputs=new_node_inputs,
                                                  new_node_outputs=new_node_outputs)
        if small_input(max(classifier.input_size[1:])):
            cppn_options["max_hidden"] = GA_CPPN_SMALL_INPUT_HIDDEN
        if distinct_survivors is None:
            distinct_survivors = defaults["distinct_survivors"]
        if species is None:
            species = defaults["species"]
    if not strategy_run and distinct_survivors is None:
        distinct_survivors = False
    if not strategy_run and species is None:
        species = 0
    if not strategy_run and tournsize is None:
        tournsize = DEFAULT_TOURNSIZE
    genome_encoding = make_encoding(encoding, classifier.input_size, genome_size, init, upsample=upsample,
                                    refine_after=refine_after, coordinate_scale=coordinate_scale,
                                    render_side=render_side, color_mode=color_mode, **cppn_options)
    _check_memory(pop_size, genome_encoding, classifier, robust_samples if robust else 1)
    if genome_encoding.mate is None:
        cxpb = 0.0
    generator = torch.Generator(device=device).manual_seed(seed)
    hall_of_fame = new_hall_of_fame()
    fitness = fitness_function(classifier, target_index, robust, robust_samples, generator,
                               record=lambda: hall_of_fame[0].fitness.values[0] if len(hall_of_fame) else -math.inf)
    stop_fitness = float("inf") if target_confidence is None else target_confidence

    if strategy_run:
        logbook, stopped_by, genome = _run_strategy(
            classifier, target_index, genome_encoding, algorithm, pop_size, generations, budget, sigma, patience,
            generator, device, hall_of_fame, stop_fitness, fitness, toolbox, on_generation, checkpoint, resume)
    else:
        logbook, stopped_by, genome = _run_ga(
            classifier, target_index, genome_encoding, pop_size, generations, budget, cxpb, mutpb, generator,
            device, hall_of_fame, stop_fitness, fitness, toolbox, on_generation, checkpoint, resume, distinct_survivors,
            species, tournsize)
    seconds = logbook[-1]["seconds"]  # counts the time before a resume too

    image = saved_images(genome_encoding, genome[None])[0]
    probs = classifier.probs(image[None], precise=True)[0]
    config = dict(algorithm=algorithm, encoding=encoding, pop_size=pop_size, generations=generations, budget=budget,
                  seed=seed, target_confidence=target_confidence, genome_size=genome_size, cxpb=cxpb, mutpb=mutpb,
                  sigma=sigma, patience=patience if strategy_run else None, distinct_survivors=distinct_survivors,
                  species=species, tournsize=tournsize,
                  device=str(device), backend=classifier.backend, precision=classifier.precision,
                  encoding_params=genome_encoding.params(), robust=robust,
                  robust_samples=fitness.samples if robust else None)
    return EvolutionResult(
        model=classifier.name, target=classifier.labels[target_index], target_index=target_index,
        method=encoding, image=image.cpu(), genome=genome.cpu(), confidence=float(probs[target_index]),
        genome_dict=genome_encoding.to_dict(genome),
        top5=classifier.topk(probs), generations=logbook[-1]["gen"], evaluations=logbook[-1]["evals"],
        seconds=seconds, seed=seed, config=config, logbook=list(logbook),
        milestones=milestones_from_logbook(logbook), stopped_by=stopped_by,
        robust_confidence=_robust_confidence(classifier, target_index, robust, image, seed) if robust else None,
    )


def _robust_confidence(classifier, target_index, robust, image, seed) -> float:
    """The saved image's mean confidence over views the search never saw: 64 random ones from a generator of
    their own (or the ten crops)."""
    generator = torch.Generator(device=image.device).manual_seed(seed + 1_000_003)
    return float(RobustFitness(classifier, target_index, robust, 64, generator, precise=True)(image[None])[0])


def _run_ga(classifier, target_index, encoding, pop_size, generations, budget, cxpb, mutpb, generator, device,
            hall_of_fame, target_fitness, fitness, toolbox, on_generation, checkpoint, resume, distinct_survivors,
            species, tournsize):
    """Drive the GA through :func:`ea_mu_plus_lambda`; returns (logbook, stopped_by, best genome)."""
    toolbox = toolbox or make_toolbox(classifier, target_index, encoding, generator, tournsize, fitness=fitness,
                                      distinct_survivors=distinct_survivors, species=species)
    loop_checkpoint = None
    if checkpoint is not None:
        def loop_checkpoint(state):
            checkpoint(dict(state, generator=generator.get_state()))
    if resume is not None:
        generator.set_state(resume["generator"])
    population = encoding.random(pop_size, generator, device) if resume is None else resume["population"]
    _, _, logbook, stopped_by = ea_mu_plus_lambda(
        population, toolbox, lambda_=pop_size, cxpb=cxpb, mutpb=mutpb, ngen=generations,
        stats=fitness_statistics(), halloffame=hall_of_fame, target_fitness=target_fitness, budget=budget,
        on_generation=on_generation, checkpoint=loop_checkpoint, resume=resume,
    )
    return logbook, stopped_by, hall_of_fame[0].genome


def _run_strategy(classifier, target_index, encoding, algorithm, pop_size, generations, budget, sigma, patience,
                  generator, device, hall_of_fame, target_fitness, fitness, toolbox, on_generation, checkpoint, resume):
    """Drive a strategy through :func:`ea_generate_update`; returns (logbook, stopped_by, best genome in [0, 1])."""
    centroid = torch.logit(encoding.center().reshape(-1).clamp(1e-3, 1 - 1e-3)).to(device)
    strategy = make_strategy(algorithm, centroid, sigma, pop_size, generator)
    toolbox = toolbox or make_strategy_toolbox(classifier, target_index, encoding, strategy, fitness)
    if resume is not None:
        generator.set_state(resume["generator"])
        toolbox.strategy.load_state(resume["strategy"])
        hall_of_fame.update([Individual(resume["best_genome"], resume["best"])])
    loop_checkpoint = None
    if checkpoint is not None:
        def loop_checkpoint(state):
            checkpoint(dict(state, generator=generator.get_state(), strategy=toolbox.strategy.state(),
                            best_genome=hall_of_fame[0].genome))
    logbook, stopped_by = ea_generate_update(
        toolbox, generations, stats=fitness_statistics(), halloffame=hall_of_fame, target_fitness=target_fitness,
        budget=budget, patience=patience, score_centroid=SCORE_CENTROID, on_generation=on_generation,
        checkpoint=loop_checkpoint, resume=resume)
    return logbook, stopped_by, torch.sigmoid(hall_of_fame[0].genome).view(encoding.genome_shape)


def _check_memory(pop_size, encoding, classifier, views) -> None:
    """Refuse, in one line, a population whose genomes and images cannot fit in this machine's memory (a
    rough count: parents and offspring, each as genome and rendered image, and the images scored)."""
    shape = getattr(encoding, "genome_shape", None)  # a CPPN is one packed row of its layout
    genome = math.prod(shape) if shape is not None else encoding.layout.size
    image = math.prod(classifier.input_size)
    needed = 4 * pop_size * (4 * genome + 2 * image + views * image)
    available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else None
    if available and needed > 0.8 * available:
        raise ValueError(f"a population of {pop_size} genomes of {genome:,} genes needs about "
                         f"{needed / 2**30:.0f} GiB; "
                         f"this machine has {available / 2**30:.0f} GiB: use a smaller --pop or --genome-size")


def _validate(algorithm, encoding, pop_size, generations, target_confidence, budget, sigma, patience, init,
              genome_size, upsample, render_side, color_mode, grown_start, new_weight_range, split_weight_range,
              new_node_inputs, new_node_outputs, distinct_survivors, species, refine_after, tournsize):
    """Refuse settings no search can run with, or that the encoding would ignore, before anything is built
    (one-line messages)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    if pop_size < 2:
        raise ValueError(f"population must be at least 2, got {pop_size}")
    if generations < 1:
        raise ValueError(f"generations must be at least 1, got {generations}")
    if target_confidence is not None and not 0 < target_confidence < 1:
        raise ValueError(f"target confidence must be in (0, 1), got {target_confidence}")
    if budget is not None and budget < pop_size:
        raise ValueError(f"the budget ({budget} evaluations) must cover at least one population ({pop_size})")
    if sigma is not None and not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    if patience is not None and patience < 1:
        raise ValueError(f"patience must be at least 1 generation, got {patience}")
    if init is not None and not encoding.startswith("cppn"):
        raise ValueError(f"a seed genome (--init) is a CPPN; the {encoding} encoding has no use for it")
    if genome_size is not None and encoding.startswith("cppn"):
        raise ValueError("--genome-size sizes the direct and dct genomes; a CPPN draws at any size")
    if render_side is not None and not encoding.startswith("cppn"):
        raise ValueError(f"--render-side sets the grid a CPPN is drawn on; the {encoding} encoding has none")
    if upsample is not None and encoding != "direct":
        raise ValueError(f"--upsample enlarges the direct encoding's pixels; the {encoding} encoding has none")
    if color_mode is not None:
        check_color_mode(color_mode)
        if encoding != "cppn":
            raise ValueError(f"--color-mode sets how a CPPN's outputs make a colour; the {encoding} encoding has none")
        if init is not None:
            raise ValueError("--color-mode sets how a new CPPN's outputs make a colour; "
                             "a seed genome (--init) keeps its own")
    if grown_start is not None:
        check_grown_start(grown_start)
        if encoding != "cppn":
            raise ValueError(f"a grown start grows new CPPN graphs; the {encoding} encoding has none")
    if any(value is not None for value in (new_weight_range, split_weight_range, new_node_inputs, new_node_outputs)):
        check_weight_ranges(new_weight_range, split_weight_range)
        check_new_node_wiring(new_node_inputs, new_node_outputs)
        if encoding != "cppn":
            raise ValueError(f"the weights and wiring of new connections and nodes set CPPN mutations; "
                             f"the {encoding} encoding has none")
    if distinct_survivors is not None:
        if not isinstance(distinct_survivors, bool):
            raise ValueError(f"distinct survivors is true or false, got {distinct_survivors!r}")
        if algorithm != "ga":
            raise ValueError(f"distinct survivors set how the GA keeps its population; {algorithm} keeps none")
    if species is not None:
        check_species(species)
        if species and (algorithm != "ga" or encoding != "cppn"):
            raise ValueError(f"species group the GA's CPPN genomes; {algorithm} on {encoding} has none")
    if refine_after is not None:
        check_refine_after(refine_after)
        if refine_after and (algorithm != "ga" or encoding != "direct"):
            raise ValueError(f"--refine-after switches the GA's direct mutation from cells to pixels; "
                             f"{algorithm} on {encoding} has none")
    if tournsize is not None:
        check_tournsize(tournsize)
        if algorithm != "ga":
            raise ValueError(f"--tournsize sets how the GA picks parents; {algorithm} draws none")
    if algorithm != "ga" and encoding == "cppn":
        raise ValueError("the strategies search real vectors and a NEAT CPPN has a topology to evolve: "
                         "use --algorithm ga with --encoding cppn, or --encoding cppn-weights (a fixed graph)")
