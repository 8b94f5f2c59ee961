"""Benchmark of train.py with automatic k: wall time and peak memory on generated data, and how that grows from 100k to
1M rows compared with scoring every candidate k by silhouette on all rows (quadratic in rows).

    /usr/bin/python3 scripts/benchmarks/train_benchmark.py [--rows 100000 1000000] [--max-k 10] [--segments 5]

Each train.py run is a child process exactly as SageMaker starts it (SM_MODEL_DIR, SM_CHANNEL_TRAIN, hyperparameters
as arguments); its peak resident memory is that child's ru_maxrss from os.wait4. Full-data silhouette is timed on
5k, 10k and 20k rows with the same function train.py uses, fitted to time = a * rows^2 and extrapolated (timing it
directly at 1M rows would take hours). Targets: 1M rows in <= 60 s and <= 2 GB.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "scripts" / "sagemaker"), str(ROOT / "scripts")]

import segments  # noqa: E402  (needs the path above)
from sample_data.customers import generate  # noqa: E402

TARGET_SECONDS = 60.0
TARGET_MB = 2048.0
FEATURES = ["Age", "Income", "Purchases"]


def run_train(csv_dir: Path, model_dir: Path, max_k: int) -> Dict[str, object]:
    env = dict(os.environ, SM_MODEL_DIR=str(model_dir), SM_CHANNEL_TRAIN=str(csv_dir))
    command = [sys.executable, str(ROOT / "scripts" / "sagemaker" / "train.py"), "--n-clusters", "0",
               "--max-k", str(max_k), "--n-components", "0", "--random-seed", "42",
               "--features", ",".join(FEATURES), "--baseline-uri", ""]
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError("train.py exited %d:\n%s" % (child.returncode, output))
    metrics = json.loads((model_dir / "metrics.json").read_text())
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024.0, "k": metrics["k"],
            "silhouette": metrics["silhouette"]}


def time_full_silhouette(sizes: List[int], seed: int) -> Dict[int, float]:
    data = generate(rows=max(sizes), seed=seed, segments=5)
    x = data.frame[FEATURES].astype(float).to_numpy()
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    timings = {}
    for size in sizes:
        started = time.perf_counter()
        segments.silhouette(x[:size], data.segment[:size])
        timings[size] = time.perf_counter() - started
    return timings


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--max-k", type=int, default=10)
    parser.add_argument("--segments", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--silhouette-sizes", type=int, nargs="+", default=[5_000, 10_000, 20_000])
    args = parser.parse_args(argv)

    print("host: %d CPUs, load average %.1f; OMP_NUM_THREADS=%s; python %s; %s"
          % (os.cpu_count(), os.getloadavg()[0], os.environ.get("OMP_NUM_THREADS", "unset"),
             sys.version.split()[0], ", ".join("%s %s" % kv for kv in segments.versions().items())))
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for rows in args.rows:
            csv_dir = Path(scratch) / ("rows%d" % rows)
            # Generated in a child: Linux carries a process's peak RSS across exec, so rows held by this process
            # would be counted in the next train.py child's ru_maxrss.
            subprocess.run([sys.executable, "-m", "sample_data.customers", "--rows", str(rows), "--seed",
                            str(args.seed), "--segments", str(args.segments), "--out", str(csv_dir / "customers.csv")],
                           cwd=str(ROOT / "scripts"), check=True, stdout=subprocess.DEVNULL)
            results[rows] = run_train(csv_dir, Path(scratch) / ("model%d" % rows), args.max_k)
            print("train.py auto-k (2..%d) on %9d rows: %6.1f s wall, peak RSS %7.1f MB, k=%d, silhouette=%.3f"
                  % (args.max_k, rows, results[rows]["seconds"], results[rows]["peak_mb"], results[rows]["k"],
                     results[rows]["silhouette"]))

    timings = time_full_silhouette(args.silhouette_sizes, args.seed)
    sizes = np.array(list(timings), dtype=float)
    seconds = np.array(list(timings.values()))
    per_row_squared = float((seconds @ sizes ** 2) / (sizes ** 4).sum())  # least squares for t = a * n^2
    candidates = args.max_k - 1
    for size, spent in timings.items():
        print("full silhouette, one k, %6d rows: %.2f s" % (size, spent))
    print("fit t = a * n^2: a = %.3g s/row^2" % per_row_squared)
    for rows in args.rows:
        projected = per_row_squared * rows ** 2 * candidates
        print("projected full-data silhouette for %d candidate k on %9d rows: %10.0f s (%.1f h) vs measured "
              "bounded-sample train.py %.1f s" % (candidates, rows, projected, projected / 3600,
                                                   results[rows]["seconds"]))
    if len(args.rows) >= 2:
        small, large = min(args.rows), max(args.rows)
        print("growth %d -> %d rows (x%.0f): bounded-sample train.py x%.1f time, x%.1f memory; full silhouette "
              "x%.0f time" % (small, large, large / small, results[large]["seconds"] / results[small]["seconds"],
                              results[large]["peak_mb"] / results[small]["peak_mb"], (large / small) ** 2))
    largest = results[max(args.rows)]
    met = largest["seconds"] <= TARGET_SECONDS and largest["peak_mb"] <= TARGET_MB
    print("target (%d rows <= %.0f s and <= %.0f MB): %s" % (max(args.rows), TARGET_SECONDS, TARGET_MB,
                                                             "met" if met else "MISSED"))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
