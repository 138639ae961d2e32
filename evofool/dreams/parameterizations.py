"""Image parameterizations for gradient ascent: each returns ``(params, image_fn)`` as in Lucent.

``image_fn()`` maps the trainable parameters to a 1 x C x H x W image in [0, 1].
"""

from __future__ import annotations

import torch

# Lucid's colour correlation of ImageNet (square root of the covariance, from its Cholesky factor)
_COLOR_CORRELATION = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
_COLOR_NORM = _COLOR_CORRELATION.norm(dim=0).max()


def sigmoid_pixels(start: torch.Tensor):
    """One free parameter per pixel and channel, squashed by a sigmoid; ``start`` (C x H x W in [0, 1])."""
    params = torch.logit(start.clamp(1e-3, 1 - 1e-3)).unsqueeze(0).clone().requires_grad_(True)
    return [params], lambda: torch.sigmoid(params)


def fourier(channels: int, height: int, width: int, generator: torch.Generator, device, decay: float = 1.0,
            scale: float = 0.01):
    """A spectrum scaled by 1 / frequency (so low frequencies dominate), with decorrelated colour.

    Following Lucid/Lucent: optimizing in this basis favours natural-looking images over pixel noise.
    """
    fy = torch.fft.fftfreq(height, device=device)[:, None]
    fx = torch.fft.rfftfreq(width, device=device)[None, :]
    frequency = (fx * fx + fy * fy).sqrt().clamp_min(1.0 / max(height, width))
    weights = (1.0 / frequency**decay) * (max(height, width) ** 0.5)
    spectrum = (torch.randn(channels, *frequency.shape, 2, generator=generator) * scale).to(device)
    spectrum.requires_grad_(True)

    def image_fn():
        pixels = torch.fft.irfft2(torch.view_as_complex(spectrum) * weights, s=(height, width), norm="ortho")
        if channels == 3:
            correlation = (_COLOR_CORRELATION / _COLOR_NORM).to(pixels.device)
            pixels = torch.einsum("cd,dhw->chw", correlation, pixels)
        return torch.sigmoid(pixels).unsqueeze(0)

    return [spectrum], image_fn
