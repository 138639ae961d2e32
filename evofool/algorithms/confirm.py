"""Exact records from approximate scores: a search that scores in bf16 (or fp16 on CUDA) keeps its records
in fp32.

Ranking tolerates the small errors of reduced precision, a record does not: the hall of fame, the logbook's
best, the milestones, the stop test and the MAP-Elites archive must hold the confidence of the saved image
as fp32 scores it. So every candidate whose fast score beats the record it would set (the best so far, or an
archive cell's elite) is scored again in fp32 and keeps that score. Candidates that do not beat it keep
their fast scores, which cannot set a record: below the best so far, a fast score changes no milestone.
Usually one or two candidates a generation are confirmed.
"""

from __future__ import annotations

from typing import Callable

import torch


class ConfirmedRecords:
    """``score(inputs)`` with the rows that beat ``record()`` replaced by ``precise(inputs[rows])``.

    ``score`` and ``precise`` map a batch to N scores or N x K (one column per archive cell); ``record()``
    gives the current record, a number or K of them. ``confirmed`` counts the rows scored again.
    """

    def __init__(self, score: Callable, precise: Callable, record: Callable):
        self.score, self.precise, self.record = score, precise, record
        self.confirmed = 0

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        scores = self.score(inputs)
        beats = scores > torch.as_tensor(self.record(), device=scores.device, dtype=scores.dtype)
        rows = (beats if beats.ndim == 1 else beats.any(1)).nonzero().squeeze(1)
        if len(rows):
            scores[rows] = self.precise(inputs.index_select(0, rows))
            self.confirmed += len(rows)
        return scores
