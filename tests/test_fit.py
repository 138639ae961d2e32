"""A coordinate network fitted to a picture is a genome the CPPN renderer draws exactly, at any size."""

import json

import pytest
import torch

from evofool.cli import main
from evofool.encodings.cppn import render_genome
from evofool.encodings.cppn.fit import fit_picture, psnr
from evofool.images import save_png


def disc(size=16):
    y, x = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    inside = ((x * x + y * y) < 0.4).float()
    return torch.stack([inside, 0.5 * (x + 1), 1 - inside])


@pytest.mark.parametrize("network", [dict(activation="relu"), dict(activation="sine"),
                                     dict(activation="relu", fourier=8)])
def test_fitting_learns_the_picture_and_the_genome_draws_it(network):
    picture = disc()
    result = fit_picture(picture, layers=2, width=16, epochs=300, frames=5, lr=1e-2, **network)
    assert result.psnr > 20
    assert result.psnr > psnr(torch.full_like(picture, picture.mean().item()), picture) + 8
    assert torch.allclose(render_genome(result.genome, 16), result.image, atol=1e-4)
    assert render_genome(result.genome, 64).shape == (3, 64, 64)
    assert len(result.frames) == 6


def test_sine_and_fourier_networks_draw_detail_a_relu_network_blurs():
    """Fine stripes: the ReLU net of the same size stays a blur, the sine and Fourier ones draw them."""
    y, x = torch.meshgrid(torch.linspace(-1, 1, 32), torch.linspace(-1, 1, 32), indexing="ij")
    stripes = (0.5 + 0.5 * torch.sin(12 * x + 6 * y))[None]
    scores = {name: fit_picture(stripes, layers=2, width=32, epochs=200, frames=0, lr=1e-2, **net).psnr
              for name, net in [("relu", dict(activation="relu")), ("sine", dict(activation="sine")),
                                ("fourier", dict(activation="relu", fourier=16))]}
    assert scores["sine"] > scores["relu"] + 5 and scores["fourier"] > scores["relu"] + 5


def test_fit_refuses_bad_sizes_and_unreadable_images_before_writing(tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"not a png")
    save_png(disc(12)[:1], tmp_path / "disc.png")
    for argv in (["broken.png"], ["disc.png", "--width", "0"], ["disc.png", "--layers", "0"],
                 ["missing.png"], ["disc.png", "--fourier", "-1"]):
        out = tmp_path / "out"
        assert main(["fit", str(tmp_path / argv[0]), *argv[1:], "--epochs", "5", "--out", str(out)]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
        assert not out.exists()


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
