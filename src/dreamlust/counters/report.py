"""The drift table `dreamlust recount` prints."""

from __future__ import annotations

from collections.abc import Iterable

from dreamlust.counters.recount import Drift


def drift_lines(drifts: Iterable[Drift], *, corrected: bool) -> list[str]:
    """One line per counter (rows off, total absolute difference), then a verdict."""
    drifts = list(drifts)
    width = max(len(drift.counter) for drift in drifts)
    lines = [f"{'counter':<{width}}  {'rows':>9}  {'difference':>12}"]
    lines += [
        f"{drift.counter:<{width}}  {drift.rows:>9}  {drift.difference:>12}" for drift in drifts
    ]
    drifting = [drift for drift in drifts if drift.rows]
    if not drifting:
        lines.append("No drift.")
    else:
        rows = sum(drift.rows for drift in drifting)
        verb = "Corrected" if corrected else "Found (nothing changed)"
        lines.append(f"{verb}: {rows} row(s) in {len(drifting)} counter(s).")
    return lines
