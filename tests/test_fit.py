"""A coordinate network fitted to a picture is a genome the CPPN renderer draws exactly, at any size."""

import json

import torch

from evofool.cli import main
from evofool.encodings.cppn import render_genome
from evofool.encodings.cppn.fit import fit_picture, psnr
from evofool.images import save_png


def disc(size=16):
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    inside = ((x * x + y * y) < 0.4).float()
    return torch.stack([inside, 0.5 * (x + 1), 1 - inside])


def test_fitting_learns_the_picture_and_the_genome_draws_it():
    picture = disc()
    result = fit_picture(picture, layers=2, width=16, epochs=300, frames=5)
    assert result.psnr > 18
    assert result.psnr > psnr(torch.full_like(picture, picture.mean().item()), picture) + 8
    assert torch.allclose(render_genome(result.genome, 16), result.image, atol=1e-4)
    assert render_genome(result.genome, 64).shape == (3, 64, 64)
    assert len(result.frames) == 6


def test_fit_command_writes_genome_gif_and_seeds_evolution(tmp_path, capsys):
    save_png(disc(12)[:1], tmp_path / "disc.png")
    out = tmp_path / "fit"
    assert main(["fit", str(tmp_path / "disc.png"), "--layers", "2", "--width", "8", "--epochs", "50",
                 "--channels", "1", "--out", str(out)]) == 0
    summary = json.loads((out / "fit.json").read_text())
    assert summary["psnr"] > 0 and (out / "learning.gif").stat().st_size > 0
    assert "PSNR" in capsys.readouterr().out
    run = tmp_path / "run"
    assert main(["evolve", "--model", "lenet_fmnist", "--target", "Bag", "--encoding", "cppn", "--pop", "8",
                 "--generations", "3", "--init", str(out / "genome.json"), "--out", str(run)]) == 0
    evolved = json.loads((run / "best.json").read_text())
    assert len(evolved["nodes"]) >= 10  # it grew from the fitted network's 16 units
