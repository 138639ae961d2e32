"""The defaults of ``evolve``, each chosen by measurement (the README has the figures and the commands).

They depend on the algorithm and on the model's input: what fools a 28-pixel Fashion-MNIST net fastest is not
what fools a 224-pixel ImageNet model, so settings measured on small inputs (up to 64 px, ``small_input``)
apply there only, and the others keep what was measured on EfficientNet.
"""

from __future__ import annotations

from .encodings.cppn import CPPNMutationRates, small_input

DEFAULT_ALGORITHM = "snes"
# The strategies' default genome, chosen by measurement (README): on EfficientNet-Lite0 SNES on the pyramid
# (grids of 2, 4, 8 and 16 summed in logit space at the input's resolution) reached a median of 0.991 at 5,000
# evaluations on 24 random classes where the 16 x 16 grid reached 0.919. The GA keeps the paper's pixels.
DEFAULT_STRATEGY_ENCODING = "pyramid"
DEFAULT_TOURNSIZE = 2  # the GA's parents: DEAP's tournaments of 2, unless measured otherwise below
# Chosen by measurement (README): the direct encoding evolves a 16 x 16 grid upsampled bilinearly. For the
# strategies on EfficientNet-Lite0 (tabby, banana, ambulance) 8, 12, 32 and 64 did worse, and so did nearest and
# tiling; for the GA it beat the paper's full-resolution nearest grid on EfficientNet-Lite0 (median 0.961
# against 0.016 at 5,000 evaluations). The strategies start from gray with step size 0.5 in logit space (0.25
# and 1.0 did worse).
DIRECT_DEFAULTS = dict(genome_size=16, upsample="bilinear", refine_after=0, tournsize=DEFAULT_TOURNSIZE)
# ... except the GA's on inputs up to 64 px: a 14 x 14 grid enlarged by nearest neighbour (2 x 2 blocks at 28).
# Measured (README, results/tune_direct_grid.json) on the five held-out Fashion-MNIST architectures trained with
# three seeds, 10 classes x 3 GA seeds, within 150 generations to 0.99: 450/450 runs against 444/450 for 16
# bilinear, medians the same or up to 1.9x lower (the GAP net's worst 73-136 against 101-143 and 5 misses); LeNet
# to 0.9999 at a median 16.5 generations against 26.5. 12 nearest was faster but missed 1 of 450; 10 and 8
# nearest missed 3 and 9 of 150 (a coarse grid caps some classes of the GAP net).
# ... searched coarse to fine (``refine_after``): the genome is the input's pixels, varied in the 14 x 14 grid's
# 2 x 2 blocks for 60 generations and pixel by pixel after, with tournaments of 3. Measured (README,
# results/tune_direct_refine.md), runs at 0.99 within 150 generations of 128: on the nine held-out
# architectures trained under two seeds, 10 classes x 3 GA seeds, 539/540 against 532/540, and the mean
# generations 14.9 against 18.2; on 16 other held-out nets 480/480 against 475/480 (a 14 x 14 grid caps a GAP
# net's Ankle boot near 0.98: 17/20 against 0/20). A switch at 30, 45 or 90, mixing cell and pixel mutations
# in every generation, or pixels from the start did worse; tournaments of 3 alone lifted a LeNet-5's Coat,
# next to its ceiling of 0.992, from 9 to 18 of 30.
GA_DIRECT_SMALL_INPUT_DEFAULTS = dict(genome_size=14, upsample="nearest", refine_after=60, tournsize=3)
# The GA's CPPNs on small inputs may grow to 40 hidden nodes (the encoding's cap is 24). Under one target every
# genome of the population reaches 24 within about 100 generations and can grow no more; one Shirt run stayed
# at 0.575 so. Measured (results/tuning_cppn_small_inputs.md; the GA, population 128, 200 generations, LeNet
# to 0.9999 and two tuning CNNs to 0.999, 10 classes x 2 seeds each): 59 of 60 runs with 40 against 56 with 24.
# MAP-Elites keeps 24: its archive holds every class's elite, not one converged population (LeNet, 300
# generations of 64, 12 seeds: 117/120 cells at 0.99 with 40, 120/120 with 24).
GA_CPPN_SMALL_INPUT_HIDDEN = 40
# ... start from genomes grown by 15 rounds of mutation (about 5 hidden nodes each) instead of bare graphs; draw
# a new connection's weight, and a new node's incoming one (NEAT's is 1), across the whole weight range, +-10;
# keep distinct fitness values before copies (``sel_best_distinct``: a mutation that does not reach the output
# copies its parent's fitness, and copies of the best filled the population); and keep 6 NEAT species apart
# (``algorithms/speciation.py``: without them the population is one lineage by generation 20). Measured on the
# held-out CNN's architecture trained five more times, Pullover/Dress/Coat/Shirt x 40 GA seeds, 200 generations
# of 128, runs at 0.99 (README, results/tune_cppn_start.json): on 360 of them bare graphs 310, grown 319, grown
# with new connections in +-10 325; on all 800 the latter 735, with new nodes' incoming weights in +-10 754, with
# distinct survivors 771, with 6 species 789 (all four classes under 189 of 200 (training, seed) pairs, not
# 172). A new node is also wired from each input with chance 0.5 (``new_node_inputs``; NEAT's reads one
# connection, so most hidden nodes drew a function of one input): on a tanh LeNet-5 whose Coat needs the whole
# graph's precision (a dense CPPN fitted by gradient reaches 0.9956, the GA's sparse graphs 0.991), Coat x 60 GA
# seeds 45 at 0.99 against 32; on the CNN trainings above, four classes x 20 seeds, 398/400 against 395; on 16
# held-out nets x 10 classes x 3 seeds 474/480 against 466 (results/tuning_cppn_small_inputs.md). And a new node
# also feeds each output with chance 0.5 (``new_node_outputs``; a node split into a hidden connection reached the
# picture only through later nodes): Coat x 100 seeds 94 against 78, the CNN trainings 399/400 against 398, the
# 16 held-out nets 480/480 against 474. Other inputs keep the encoding's own settings and plain truncation:
# nothing was measured there.
GA_CPPN_SMALL_INPUT_DEFAULTS = dict(grown_start=15, new_weight_range=10.0, split_weight_range=10.0,
                                    new_node_inputs=0.5, new_node_outputs=0.5, distinct_survivors=True, species=6)
GA_CPPN_DEFAULTS = dict(grown_start=0, new_weight_range=CPPNMutationRates.new_weight_range,
                        split_weight_range=CPPNMutationRates.split_weight_range,
                        new_node_inputs=CPPNMutationRates.new_node_inputs,
                        new_node_outputs=CPPNMutationRates.new_node_outputs, distinct_survivors=False, species=0)
STRATEGY_SIGMA = 0.5
# The strategies score their distribution's mean with every generation (one evaluation more than the
# population): measured on EfficientNet-Lite0 (README), the mean is often the fittest image, so the same
# search ends higher at the same budget.
SCORE_CENTROID = True


def direct_defaults(algorithm: str, input_size: tuple[int, int, int]) -> dict:
    """The direct encoding's ``genome_size`` (no larger than the input's side), ``upsample``, ``refine_after``
    and the GA's ``tournsize`` for ``algorithm`` on C x H x W inputs."""
    small = algorithm == "ga" and small_input(max(input_size[1:]))
    grid = dict(GA_DIRECT_SMALL_INPUT_DEFAULTS if small else DIRECT_DEFAULTS)
    grid["genome_size"] = min(grid["genome_size"], *input_size[1:])
    return grid


def direct_settings(algorithm: str, input_size: tuple[int, int, int], genome_size: int | None = None,
                    upsample: str | None = None, refine_after: int | None = None,
                    tournsize: int | None = None, robust: bool = False) -> dict:
    """The direct encoding's settings for ``algorithm`` on C x H x W inputs, those given kept and the others
    from :func:`direct_defaults`: the default ``refine_after`` refines only a nearest grid smaller than the input
    (else 0), and ``tournsize`` is the GA's alone (None for a strategy). A ``robust`` search keeps the grid and
    tournaments of 2: its fitness is noisy (views drawn anew each generation), and on the shipped LeNet
    (``scripts/bench_robust.py --algorithm ga``, mean (worst) confidence over unseen views) tournaments of 3 with
    refining gave 0.916 (0.691), of 3 on the grid 0.926 (0.700), of 2 with refining 0.979 (0.862), of 2 on the
    grid 0.984 (0.883)."""
    grid = direct_defaults(algorithm, input_size)
    genome_size = grid["genome_size"] if genome_size is None else genome_size
    upsample = upsample or grid["upsample"]
    if refine_after is None:
        coarse = upsample == "nearest" and genome_size < min(input_size[1:]) and not robust
        refine_after = grid["refine_after"] if coarse else 0
    if tournsize is None and algorithm == "ga":
        tournsize = DEFAULT_TOURNSIZE if robust else grid["tournsize"]
    return dict(genome_size=genome_size, upsample=upsample, refine_after=refine_after, tournsize=tournsize)


def ga_cppn_defaults(input_size: tuple[int, int, int]) -> dict:
    """The GA's CPPN settings (``grown_start``, ``new_weight_range``, ``split_weight_range``, ``new_node_inputs``,
    ``new_node_outputs``, ``distinct_survivors``, ``species``) for a model taking C x H x W inputs:
    ``GA_CPPN_SMALL_INPUT_DEFAULTS`` up to 64 px, where they were measured, else ``GA_CPPN_DEFAULTS``."""
    return dict(GA_CPPN_SMALL_INPUT_DEFAULTS if small_input(max(input_size[1:])) else GA_CPPN_DEFAULTS)
