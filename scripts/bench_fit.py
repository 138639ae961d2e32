"""How well does a coordinate network draw a picture? PSNR and seconds per architecture ("Mona Lisa pixel by
pixel"): shallow and deep ReLU networks, with and without Fourier features, and sine networks (SIREN), on
scikit-image's astronaut at 128 px, each for the same number of full-batch Adam steps. Writes the JSON, each
network's rendering side by side with the picture, and the default's learning GIF.

    python scripts/bench_fit.py [--size 128] [--epochs 1000] [--configs default relu-4x300 ...]
"""

import argparse
import json
from pathlib import Path

import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from evofool.campaigns.checkpoint import write_json
from evofool.encodings.cppn import render_genome
from evofool.encodings.cppn.fit import fit_picture, psnr
from evofool.images import save_gif, to_pil

CONFIGS = {
    "relu-4x16 (old default)": dict(layers=4, width=16, activation="relu", lr=3e-3),
    "relu-1x256 (shallow)": dict(layers=1, width=256, activation="relu"),
    "relu-4x300 (the seed's deep net)": dict(layers=4, width=300, activation="relu"),
    "relu-4x300 + 128 Fourier features": dict(layers=4, width=300, activation="relu", fourier=128),
    "relu-3x256 + 128 Fourier features": dict(layers=3, width=256, activation="relu", fourier=128),
    "sine-3x256 (SIREN, the default)": dict(),
}


def astronaut(size: int) -> torch.Tensor:
    from skimage import data

    picture = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255)
    return F.interpolate(picture[None], size=(size, size), mode="area")[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--out", default="results/bench_fit.json")
    args = parser.parse_args()

    picture = astronaut(args.size)
    runs, tiles = [], [("astronaut", picture)]
    for name in args.configs:
        result = fit_picture(picture, epochs=args.epochs, **CONFIGS[name])
        drawn = render_genome(result.genome, args.size)  # the saved genome, drawn by the CPPN renderer
        run = dict(config=name, **CONFIGS[name], epochs=args.epochs, psnr=round(result.psnr, 2),
                   genome_psnr=round(psnr(drawn, picture), 2), seconds=round(result.seconds, 1),
                   nodes=len(result.genome["nodes"]), connections=len(result.genome["connections"]))
        runs.append(run)
        tiles.append((f"{name.split(' ')[0]}: {run['psnr']:.1f} dB", drawn))
        print(json.dumps(run), flush=True)
        if name.startswith("sine-3x256"):
            save_gif(result.frames, Path(args.out).with_name("fit_learning.gif"))
    write_json(args.out, dict(image="skimage astronaut", size=args.size, epochs=args.epochs, runs=runs))
    sheet = Image.new("RGB", (len(tiles) * args.size, args.size + 16), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (caption, image) in enumerate(tiles):
        sheet.paste(to_pil(image).convert("RGB"), (k * args.size, 16))
        draw.text((k * args.size + 2, 2), caption, fill="black")
    sheet.save(Path(args.out).with_suffix(".png"))


if __name__ == "__main__":
    main()
