"""The sweep that chose the CPPN coordinate scale: the GA with CPPNs on the shipped LeNet, every class x
two seeds, population 128, up to 200 generations to 0.99, per scale (a number, or raw pixel indices).

    python scripts/tune_coordinate_scale.py 1 2 4 8 raw
"""

import statistics
import sys

import torch

import evofool


def main():
    torch.set_num_threads(1)
    classifier = evofool.load_classifier("lenet_fmnist", device="cpu")
    for scale in sys.argv[1:]:
        generations, confidences = [], []
        for seed in (0, 1):
            for index in range(10):
                result = evofool.evolve(classifier, index, algorithm="ga", encoding="cppn", pop_size=128,
                                        generations=200, seed=seed, target_confidence=0.99,
                                        coordinate_scale=scale if scale == "raw" else float(scale))
                confidences.append(result.confidence)
                if result.confidence >= 0.99:
                    generations.append(result.generations)
        print(f"scale {scale}: {len(generations)}/{len(confidences)} reach 0.99; median generations "
              f"{statistics.median(generations) if generations else None}, worst {max(generations, default=None)}, "
              f"lowest confidence {min(confidences):.3f}", flush=True)


if __name__ == "__main__":
    main()
