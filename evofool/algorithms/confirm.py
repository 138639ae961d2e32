"""Exact records from approximate scores: a search that scores in bf16 (or fp16 on CUDA) keeps its records
in fp32.

Ranking tolerates the small errors of reduced precision, a record does not: the hall of fame, the logbook's
best, the milestones, the stop test and the MAP-Elites archive must hold the confidence of the saved image
as fp32 scores it. So when a batch's best fast score beats the record it would set (the best so far, or an
archive cell's elite), that candidate is scored again in fp32 and keeps that score; any other candidate
whose fast score beats both the record and that confirmed score is held at the higher of the two (a tie),
since its own fast score was not confirmed. The batch's best is then a confirmed score or the record:
records and milestones are exact, for one fp32 score per generation at most (per improved cell in
MAP-Elites).
"""

from __future__ import annotations

from typing import Callable

import torch


class ConfirmedRecords:
    """``score(inputs)`` with record-setting scores confirmed by ``precise(inputs[rows])``.

    ``score`` and ``precise`` map a batch to N scores or N x K (one column per archive cell); ``record()``
    gives the current record, a number or K of them. ``confirmed`` counts the rows scored again.
    """

    def __init__(self, score: Callable, precise: Callable, record: Callable):
        self.score, self.precise, self.record = score, precise, record
        self.confirmed = 0

    def __call__(self, inputs: torch.Tensor) -> torch.Tensor:
        scores = self.score(inputs)
        table = scores.view(scores.shape[0], -1)  # a view: changes reach ``scores``
        record = torch.as_tensor(self.record(), device=table.device, dtype=table.dtype).expand(table.shape[1])
        best, winner = table.max(0)
        rows = winner[best > record].unique()
        if len(rows) == 0:
            return scores
        table[rows] = self.precise(inputs.index_select(0, rows)).view(len(rows), -1).to(table.dtype)
        self.confirmed += len(rows)
        ceiling = torch.maximum(record, table[rows].max(0).values)
        unconfirmed = torch.ones(table.shape[0], dtype=torch.bool, device=table.device)
        unconfirmed[rows] = False
        table[unconfirmed] = torch.minimum(table[unconfirmed], ceiling)
        return scores
