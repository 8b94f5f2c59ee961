"""Seeded customers CSV generator with K known, well-separated segments in raw units.

    cd scripts && python3 -m sample_data.customers --rows 10000 --seed 7 --segments 4 --out customers.csv [--bad-rows 3]

Columns: CustomerID, Age, Gender, Income, Purchases. Segment centres are drawn per seed in a box of plausible values
(Age 20..75, Income 15k..150k, Purchases 2..60) and rejected until every pair is at least MIN_SEPARATION apart in
box-normalised units, while each segment's spread is SPREAD of the box per feature, so the segments stay separated
after standard scaling. `--bad-rows N` adds N rows of every kind preprocess.py drops (segments.RULES), at seeded
positions; zero-purchase rows are bad only when SpendingPower is a feature. Same arguments, same bytes.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np
import pandas as pd

LOW = np.array([20.0, 15_000.0, 2.0])
HIGH = np.array([75.0, 150_000.0, 60.0])
MIN_SEPARATION = 0.35
SPREAD = 0.03
BAD_KINDS = ("missing_value", "non_numeric", "age_out_of_range", "negative_income", "negative_purchases",
             "zero_purchases")


@dataclass
class Customers:
    frame: pd.DataFrame
    segment: np.ndarray  # true segment per row of frame; -1 for bad rows
    centers: np.ndarray  # raw Age, Income, Purchases per segment


def segment_centers(segments: int, rng: np.random.Generator) -> np.ndarray:
    for _ in range(10_000):
        unit = rng.uniform(0.05, 0.95, size=(segments, 3))
        gaps = np.linalg.norm(unit[:, None, :] - unit[None, :, :], axis=2) + np.eye(segments)
        if gaps.min() >= MIN_SEPARATION:
            return LOW + unit * (HIGH - LOW)
    raise ValueError("cannot place %d segments %.2f apart; use fewer segments" % (segments, MIN_SEPARATION))


def _bad_row(kind: str, rng: np.random.Generator) -> dict:
    row = {"Age": "40", "Gender": "Female", "Income": "50000", "Purchases": "10"}
    if kind == "missing_value":
        row[str(rng.choice(["Age", "Income", "Purchases"]))] = ""
    elif kind == "non_numeric":
        row[str(rng.choice(["Age", "Income", "Purchases"]))] = str(rng.choice(["abc", "12x", "inf"]))
    elif kind == "age_out_of_range":
        row["Age"] = str(rng.choice(["-3", "121", "150"]))
    elif kind == "negative_income":
        row["Income"] = "-100"
    elif kind == "negative_purchases":
        row["Purchases"] = "-2"
    elif kind == "zero_purchases":
        row["Purchases"] = "0"
    return row


def generate(rows: int, seed: int, segments: int, bad_rows: int = 0) -> Customers:
    if rows < segments or segments < 1:
        raise ValueError("need 1 <= segments <= rows, got segments=%d rows=%d" % (segments, rows))
    rng = np.random.default_rng(seed)
    centers = segment_centers(segments, rng)
    truth = rng.permutation(np.arange(rows) % segments)
    values = centers[truth] + rng.normal(0.0, SPREAD, size=(rows, 3)) * (HIGH - LOW)
    values = np.maximum(values, [18.0, 1_000.0, 1.0])
    frame = pd.DataFrame({
        "CustomerID": ["C%08d" % i for i in range(rows)],
        "Age": np.round(values[:, 0]).astype(int).astype(str),
        "Gender": rng.choice(["Female", "Male"], size=rows),
        "Income": np.round(values[:, 1], 2).astype(str),
        "Purchases": np.round(values[:, 2]).astype(int).astype(str),
    })
    segment = truth.copy()
    if bad_rows:
        bad = pd.DataFrame([dict(_bad_row(kind, rng), CustomerID="B%s%04d" % (kind[:3].upper(), i))
                            for kind in BAD_KINDS for i in range(bad_rows)])[frame.columns]
        frame = pd.concat([frame, bad], ignore_index=True)
        segment = np.concatenate([segment, np.full(len(bad), -1)])
        order = rng.permutation(len(frame))
        frame, segment = frame.iloc[order].reset_index(drop=True), segment[order]
    return Customers(frame=frame, segment=segment, centers=centers)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--segments", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bad-rows", type=int, default=0, help="rows of each bad kind to add")
    args = parser.parse_args(argv)
    data = generate(args.rows, args.seed, args.segments, args.bad_rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    data.frame.to_csv(args.out, index=False)
    print("wrote %d rows (%d segments, %d bad) to %s" % (len(data.frame), args.segments,
                                                          int((data.segment < 0).sum()), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
