"""Galleries: the contact sheet and the static page, escaped, and checked in a real headless browser."""

import json
import re
import shutil
import subprocess

import pytest
from PIL import Image

from evofool.cli import main
from evofool.gallery import gallery_html


def _campaign(tmp_path):
    out = tmp_path / "campaign"
    assert main(["campaign", "--model", "lenet_fmnist", "--encoding", "direct", "--generations", "5", "--pop", "16",
                 "--out", str(out)]) == 0
    return out


def test_campaign_ends_with_a_contact_sheet_and_page(tmp_path):
    out = _campaign(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["elites"]) == 10
    sheet = Image.open(out / "contact_sheet.png")
    assert sheet.size[0] == 4 * 128 and sheet.size[1] == 3 * (128 + 28)
    page = (out / "index.html").read_text()
    assert page.count('class="tile"') == 10
    for elite in manifest["elites"]:
        assert (out / elite["image"]).exists()


def test_every_manifest_text_is_escaped():
    evil = '<script>alert("x")</script>'
    manifest = {"model": evil, "algorithm": "a&b", "encoding": "cppn", "elites": [
        {"label": evil, "index": 0, "confidence": 0.5, "method": '"><img src=x onerror=alert(1)>',
         "image": 'elites/"onmouseover="alert(1).png', "genome": None}]}
    page = gallery_html(manifest)
    assert "<script>alert" not in page and "<img src=x" not in page and '"onmouseover=' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="apt-get install chromium")
def test_page_in_headless_chromium_shows_every_elite(tmp_path):
    out = _campaign(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=2000"]
    url = (out / "index.html").as_uri()
    dom = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    tiles = re.findall(r'<div class="tile"[^>]*>', dom)
    assert len(tiles) == len(manifest["elites"])
    assert "10 of 10 shown" in dom  # the page's script ran
    captions = re.findall(r'<div class="label">(.*?)</div>', dom)
    expected = sorted(manifest["elites"], key=lambda e: -e["confidence"])  # sorted by confidence by default
    assert captions == [e["label"] for e in expected]
    subprocess.run(flags + [f"--screenshot={tmp_path / 'gallery.png'}", "--window-size=1000,800", url],
                   capture_output=True, timeout=120)
    assert Image.open(tmp_path / "gallery.png").size == (1000, 800)


@pytest.mark.parametrize("field, value", [("image", "../../../etc/passwd"), ("image", "/etc/passwd"),
                                          ("image", "javascript:alert(1)"), ("genome", "javascript:alert(1)"),
                                          ("confidence", "high"), ("label", None), ("image", "elites/missing.png")])
def test_a_hostile_manifest_is_refused_naming_the_file_and_the_elite(tmp_path, capsys, field, value):
    out = _campaign(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["elites"][1][field] = value
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "index.html").unlink()
    assert main(["gallery", str(out)]) == 2
    err = capsys.readouterr().err
    assert "manifest.json: elite 1" in err and len(err.strip().splitlines()) == 1
    assert not (out / "index.html").exists()
    assert main(["transfer", str(out), "--models", "lenet_fmnist"]) == 2
