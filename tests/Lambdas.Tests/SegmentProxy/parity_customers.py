"""Random raw customers and scikit-learn's own segments for them, from a model directory train.py wrote.

    /usr/bin/python3 tests/Lambdas.Tests/SegmentProxy/parity_customers.py --model-dir DIR --count 3000 --seed 1 --out F

The answer ParityTests holds the SegmentProxy API to: model.joblib's fitted estimators chained as a scikit-learn
Pipeline (StandardScaler -> PCA when the model has one -> KMeans) after the feature recipe (segments.compute_features);
closest_cluster is the stable id (bundle["segment_ids"]) of KMeans.predict's cluster, distance_to_cluster is that
cluster's column of Pipeline.transform (KMeans.transform: Euclidean distance in the space KMeans was fitted in);
scaled is the StandardScaler's output, what a legacy pre-scaled {"features": ...} request sends.

Customers, all inside the API's documented plausible ranges (age 0..120, income 0..1e9, purchases 0..1e6, purchases
> 0 when SpendingPower is a feature), come in three kinds so that agreement means something:
  typical   uniform over the sample data's box and a little beyond (where the segments are)
  boundary  on the segment between two raw centroids, near its midpoint (where assignments flip)
  extreme   log-uniform over the whole documented range, plus its corners
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[3]
for folder in ("scripts/sagemaker", "scripts"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

import segments  # noqa: E402

AGE_MAX, INCOME_MAX, PURCHASES_MAX = 120.0, 1e9, 1e6


def typical(rng: np.random.Generator, count: int, min_purchases: float) -> np.ndarray:
    return np.column_stack([rng.uniform(16, 95, count), rng.uniform(0, 200_000, count),
                            rng.integers(int(min_purchases), 90, count).astype(float)])


def boundary(rng: np.random.Generator, count: int, raw_centroids: np.ndarray) -> np.ndarray:
    pairs = [(i, j) for i in range(len(raw_centroids)) for j in range(i + 1, len(raw_centroids))]
    chosen = rng.integers(0, len(pairs), count)
    t = 0.5 + rng.uniform(-0.02, 0.02, count)
    first = raw_centroids[[pairs[c][0] for c in chosen]]
    second = raw_centroids[[pairs[c][1] for c in chosen]]
    return first + t[:, None] * (second - first)


def extreme(rng: np.random.Generator, count: int, min_purchases: float) -> np.ndarray:
    corners = np.array([[0, 0, max(min_purchases, 0)], [AGE_MAX, INCOME_MAX, PURCHASES_MAX], [0, INCOME_MAX, 1],
                        [AGE_MAX, 0, PURCHASES_MAX], [AGE_MAX, 1, max(min_purchases, 0)]], dtype=float)
    drawn = max(count - len(corners), 0)
    random = np.column_stack([rng.uniform(0, AGE_MAX, drawn), np.exp(rng.uniform(0, np.log(INCOME_MAX), drawn)),
                              np.exp(rng.uniform(0, np.log(PURCHASES_MAX), drawn))])
    return np.vstack([corners, random])[:count]


def raw_centroids(profiles: Dict[str, object]) -> np.ndarray:
    return np.array([[segment["centroid"].get(column, np.nan) for column in segments.INPUT_COLUMNS]
                     for segment in profiles["segments"]])


def customers_for(model_dir: Path, count: int, seed: int) -> pd.DataFrame:
    bundle = joblib.load(model_dir / "model.joblib")
    profiles = json.loads((model_dir / "segment_profiles.json").read_text(encoding="utf-8"))
    min_purchases = 1.0 if "SpendingPower" in bundle["features"] else 0.0
    rng = np.random.default_rng(seed)
    centroids = raw_centroids(profiles)
    if np.isnan(centroids).any():
        raise ValueError("segment_profiles.json lacks a raw Age, Income or Purchases centroid")
    n_boundary, n_extreme = count // 5, count // 10
    rows = np.vstack([typical(rng, count - n_boundary - n_extreme, min_purchases),
                      boundary(rng, n_boundary, centroids), extreme(rng, n_extreme, min_purchases)])
    kinds = ["typical"] * (count - n_boundary - n_extreme) + ["boundary"] * n_boundary + ["extreme"] * n_extreme
    frame = pd.DataFrame(rows, columns=list(segments.INPUT_COLUMNS))
    frame["Purchases"] = frame["Purchases"].clip(lower=min_purchases)
    frame["kind"] = kinds
    return frame


def sklearn_answers(model_dir: Path, frame: pd.DataFrame) -> Dict[str, list]:
    """Predictions, plus the StandardScaler output (what a legacy pre-scaled request sends)."""
    bundle = joblib.load(model_dir / "model.joblib")
    steps = [bundle["scaler"]] + ([bundle["pca"]] if bundle["pca"] is not None else []) + [bundle["kmeans"]]
    pipeline = make_pipeline(*steps)
    x = segments.compute_features(frame[list(segments.INPUT_COLUMNS)], bundle["features"])
    clusters = pipeline.predict(x)
    distances = pipeline.transform(x)[np.arange(len(x)), clusters]
    ids = np.asarray(bundle["segment_ids"])[clusters]
    predictions = [{"closest_cluster": int(i), "distance_to_cluster": float(d)} for i, d in zip(ids, distances)]
    return {"predictions": predictions,
            "scaled": bundle["scaler"].transform(x).tolist()}


def build(model_dir: Path, count: int, seed: int) -> Dict[str, object]:
    frame = customers_for(model_dir, count, seed)
    return {
        "sklearn_version": sklearn.__version__,
        "customers": [{"age": float(a), "income": float(i), "purchases": float(p)}
                      for a, i, p in zip(frame["Age"], frame["Income"], frame["Purchases"])],
        "kinds": list(frame["kind"]),
        **sklearn_answers(model_dir, frame),
    }


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(build(args.model_dir, args.count, args.seed), allow_nan=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
