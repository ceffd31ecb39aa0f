"""Where property tests draw an op's inputs from: value ranges that keep off kinks and ties."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    """A value range for generated inputs, optionally kept away from points or drawn distinct.

    ``away_from`` lists kinks (``relu`` at 0) that a finite difference must not straddle;
    ``distinct`` asks for pairwise different values (``max`` ties have no derivative).
    """

    low: float = -3.0
    high: float = 3.0
    away_from: tuple[float, ...] = ()
    distinct: bool = False

    def __str__(self) -> str:
        return f"[{self.low}, {self.high}]"


ANY = Domain()
POSITIVE = Domain(0.1, 3.0)
UNIT_INTERVAL = Domain(0.05, 0.95)
AWAY_FROM_KINKS = Domain(away_from=(0.0,))
DISTINCT = Domain(distinct=True)
