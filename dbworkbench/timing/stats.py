"""Statistics of two timing samples: per-variant spread, the ratio B/A with a bootstrap
confidence interval, a rank test, and the verdict. Pure: numpy and scipy, no server."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["BOOTSTRAP_RESAMPLES", "MIN_RUNS", "SUMMARY_COLUMNS", "Statistics", "summarize"]

MIN_RUNS = 3  # per variant, below which no verdict is given
BOOTSTRAP_RESAMPLES = 2000
SUMMARY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("variant", "string"), ("runs", "Int64"), ("median_ms", "Float64"), ("p95_ms", "Float64"),
    ("iqr_ms", "Float64"), ("mean_ms", "Float64"), ("mean_ci_low_ms", "Float64"), ("mean_ci_high_ms", "Float64"),
    ("ratio", "Float64"), ("ratio_ci_low", "Float64"), ("ratio_ci_high", "Float64"), ("p_value", "Float64"),
)


@dataclass(frozen=True)
class Statistics:
    """``summary`` (:data:`SUMMARY_COLUMNS`), the ratio of medians B/A with its confidence interval,
    the Mann-Whitney U p-value (two-sided), and the verdict for B relative to A."""

    summary: pd.DataFrame
    ratio: float
    ratio_ci: tuple[float, float]
    p_value: float
    verdict: str


def _mean_ci(x: np.ndarray, confidence: float) -> tuple[float, float]:
    if len(x) < 2 or np.all(x == x[0]):
        return float(np.mean(x)), float(np.mean(x))
    low, high = stats.t.interval(confidence, len(x) - 1, loc=np.mean(x), scale=stats.sem(x))
    return float(low), float(high)


def _ratio_of_medians(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.median(b, axis=axis) / np.median(a, axis=axis)


def _ratio_ci(a: np.ndarray, b: np.ndarray, confidence: float) -> tuple[float, float]:
    if np.all(a == a[0]) and np.all(b == b[0]):
        r = float(b[0] / a[0]) if a[0] else float("nan")
        return r, r
    res = stats.bootstrap((a, b), _ratio_of_medians, vectorized=True, paired=False, confidence_level=confidence,
                          n_resamples=BOOTSTRAP_RESAMPLES, method="percentile", rng=np.random.default_rng(0))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def summarize(a: np.ndarray, b: np.ndarray, confidence: float = 0.95) -> Statistics:
    """Statistics of timings ``a`` and ``b`` (ms). The verdict is "faster" or "slower" (B relative
    to A) when the rank test rejects equality at ``1 - confidence`` *and* the ratio's interval
    excludes 1, else "no detectable difference" (also with fewer than :data:`MIN_RUNS` runs each)."""
    rows = []
    for name, x in (("A", a), ("B", b)):
        if len(x):
            q25, q75, p95 = np.percentile(x, [25, 75, 95])
            low, high = _mean_ci(x, confidence)
            rows.append([name, len(x), float(np.median(x)), float(p95), float(q75 - q25), float(np.mean(x)), low, high])
        else:
            rows.append([name, 0, *[np.nan] * 6])
    ratio, ci, p = float("nan"), (float("nan"), float("nan")), float("nan")
    verdict = "no detectable difference"
    if len(a) and len(b):
        ratio = float(_ratio_of_medians(a, b)) if np.median(a) else float("nan")
    if len(a) >= MIN_RUNS and len(b) >= MIN_RUNS and np.median(a) > 0:
        ci = _ratio_ci(a, b, confidence)
        p = float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)
        if p < 1 - confidence and (ci[1] < 1 or ci[0] > 1):
            verdict = "faster" if ratio < 1 else "slower"
    rows[0] += [1.0, np.nan, np.nan, np.nan]
    rows[1] += [ratio, ci[0], ci[1], p]
    frame = pd.DataFrame(rows, columns=[c for c, _ in SUMMARY_COLUMNS])
    frame = frame.astype(dict(SUMMARY_COLUMNS))
    return Statistics(frame, ratio, ci, p, verdict)
