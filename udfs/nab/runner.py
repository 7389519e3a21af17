"""Run the baseline detector over the NAB corpus and score it (run_nab)."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict

import numpy as np
import pandas as pd

from .detector import DetectorParams, detect
from .scorer import Corpus, score_corpus

# NAB v1.0 scoreboard (numenta/NAB README, "Scoreboard"), for the report table: standard,
# reward low FP, reward low FN. NAB publishes HTM as a range over random seeds (high, low).
SCOREBOARD: dict[str, tuple] = {
    "Perfect": (100.0, 100.0, 100.0),
    "ARTime": (74.9, 65.1, 80.4),
    "Numenta HTM": ((70.5, 69.7), (62.6, 61.7), (75.2, 74.2)),
    "CAD OSE": (69.9, 67.0, 73.2),
    "earthgecko Skyline": (58.2, 46.2, 63.9),
    "KNN CAD": (58.0, 43.4, 64.8),
    "Relative Entropy": (54.6, 47.6, 58.8),
    "Random Cut Forest": (51.7, 38.4, 59.7),
    "Twitter ADVec": (47.1, 33.6, 53.5),
    "Windowed Gaussian": (39.6, 20.9, 47.4),
    "Etsy Skyline": (35.7, 27.1, 44.5),
    "Null": (0.0, 0.0, 0.0),
}
PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
# the detector's name in NAB's results layout: results/<detector>/<category>/<detector>_<file>.csv
DETECTOR_NAME = "nqlflinkSeasonal"


def _detect_one(args):
    name, ts, values, params, detector = args
    t0 = time.perf_counter()
    return name, detector(ts, values, params), time.perf_counter() - t0


def detect_corpus(corpus: Corpus, params: DetectorParams = DetectorParams(), workers: int | None = None,
                  progress=None, detector=detect) -> dict[str, np.ndarray]:
    """``detector(ts, values, params)`` on every file of the corpus (a module-level function:
    it crosses to worker processes)."""
    workers = workers or min(2, os.cpu_count() or 1)
    jobs = [(n, corpus.frames[n]["timestamp"], corpus.frames[n]["value"].to_numpy(float), params, detector)
            for n in corpus.names]
    out = {}
    if workers <= 1:
        results = map(_detect_one, jobs)
    else:
        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(_detect_one, jobs)
    try:
        for i, (name, sc, dt) in enumerate(results, 1):
            out[name] = sc
            if progress:
                progress(i, len(jobs), name, dt)
    finally:
        if workers > 1:
            pool.shutdown()
    return out


def nab_labels(corpus: Corpus, name: str) -> np.ndarray:
    """NAB's `label` column: 1 for rows whose timestamp lies in an anomaly window (edges
    included, as nab/labeler.py marks them), else 0."""
    ts = corpus.frames[name]["timestamp"]
    label = np.zeros(len(ts), dtype=np.int64)
    for left, right in corpus.windows[name]:
        label[((ts >= ts.iloc[left]) & (ts <= ts.iloc[right])).to_numpy()] = 1
    return label


def write_results(corpus: Corpus, scores: dict[str, np.ndarray], out_dir: str,
                  detector: str = DETECTOR_NAME) -> list[str]:
    """NAB's results layout, for rescoring with NAB's own scorer (`python run.py -d DETECTOR
    --score --normalize` with these files under NAB's results/): one CSV per data file at
    ``out_dir/<detector>/<category>/<detector>_<file>.csv`` with the columns
    ``timestamp,value,anomaly_score,label``. Scores are written at full precision (repr),
    so the rescored thresholds are the same floats."""
    written = []
    for name in corpus.names:
        score = np.asarray(scores[name], dtype=float)
        if not ((score >= 0.0) & (score <= 1.0)).all():
            raise ValueError(f"{name}: NAB requires anomaly scores in [0, 1]")
        category, file = name.split("/", 1)
        path = os.path.join(out_dir, detector, category, f"{detector}_{file}")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        frame = corpus.frames[name]
        pd.DataFrame({
            "timestamp": frame["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "value": frame["value"],
            "anomaly_score": score,
            "label": nab_labels(corpus, name),
        }).to_csv(path, index=False)
        written.append(path)
    return written


def run_nab(data_dir: str, params: DetectorParams = DetectorParams(), workers: int | None = None,
            progress=None, results_dir: str | None = None) -> dict:
    """Detect and score the NAB corpus in ``data_dir`` (holding data/, labels/, config/);
    with ``results_dir``, also write NAB-format result files there (write_results).

    Returns ``{"standard": float, "reward_low_FP_rate": float, "reward_low_FN_rate": float,
    "categories": {profile: {category: score}}, "thresholds": {profile: float},
    "files": {profile: {file: raw}}, "params": {...}, "seconds": float}``."""
    t0 = time.perf_counter()
    corpus = Corpus.load(data_dir)
    scores = detect_corpus(corpus, params, workers, progress)
    if results_dir is not None:
        write_results(corpus, scores, results_dir)
    res = score_corpus(corpus, scores)
    out: dict = {p: res[p]["score"] for p in res}
    out["categories"] = {p: {c: v["score"] if v["windows"] else v["raw"] for c, v in res[p]["categories"].items()}
                         for p in res}
    out["thresholds"] = {p: res[p]["threshold"] for p in res}
    out["files"] = {p: {f: v["score"] for f, v in res[p]["files"].items()} for p in res}
    out["params"] = asdict(params)
    out["seconds"] = time.perf_counter() - t0
    return out


def stderr_progress(i: int, n: int, name: str, dt: float) -> None:
    print(f"[{i:2d}/{n}] {name} ({dt:.2f}s)", file=sys.stderr, flush=True)
