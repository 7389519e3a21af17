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

# NAB v1.0 scoreboard (README / results/final_results.json), for the report table.
SCOREBOARD = {
    "Perfect": (100.0, 100.0, 100.0),
    "ARTime": (74.9, 65.1, 80.4),
    "Numenta HTM": (70.5, 62.6, 75.2),
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


def _detect_one(args):
    name, ts, values, params = args
    t0 = time.perf_counter()
    return name, detect(ts, values, params), time.perf_counter() - t0


def detect_corpus(corpus: Corpus, params: DetectorParams = DetectorParams(), workers: int | None = None,
                  progress=None) -> dict[str, np.ndarray]:
    workers = workers or min(2, os.cpu_count() or 1)
    jobs = [(n, corpus.frames[n]["timestamp"], corpus.frames[n]["value"].to_numpy(float), params)
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


def run_nab(data_dir: str, params: DetectorParams = DetectorParams(), workers: int | None = None,
            progress=None) -> dict:
    """Detect and score the NAB corpus in ``data_dir`` (holding data/, labels/, config/).

    Returns ``{"standard": float, "reward_low_FP_rate": float, "reward_low_FN_rate": float,
    "categories": {profile: {category: score}}, "thresholds": {profile: float},
    "files": {profile: {file: raw}}, "params": {...}, "seconds": float}``."""
    t0 = time.perf_counter()
    corpus = Corpus.load(data_dir)
    scores = detect_corpus(corpus, params, workers, progress)
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
