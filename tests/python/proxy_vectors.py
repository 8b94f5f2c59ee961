"""Shared test vectors for the C# SegmentProxy, produced by the real Python side.

    /usr/bin/python3 tests/python/proxy_vectors.py --out vectors.json

For several small models trained with train.fit_segmentation (raw features, SpendingPower, PCA, a constant column) it
writes the preprocessing spec and segment profiles train.py publishes, customers in raw units, their feature vectors
(segments.compute_features), the StandardScaler output (what the proxy must send the endpoint) and inference.py's
answer to exactly that request body. Lambdas.Tests runs this script and checks its scaling to 1e-12 relative and its
in-Lambda centroid scoring against the answers; test_proxy_vectors.py checks the vectors themselves.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
for folder in ("scripts/sagemaker", "scripts"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import threadpoolctl  # noqa: E402

import inference  # noqa: E402
import segments  # noqa: E402
import train  # noqa: E402
from sample_data.customers import generate  # noqa: E402

# name, features, n_components, k, constant age
MODELS = (
    ("raw_features", "Age,Income,Purchases", 0, 4, False),
    ("spending_power", "Age,Income,Purchases,SpendingPower", 0, 5, False),
    ("pca", "Age,Income,Purchases,SpendingPower", 2, 4, False),
    ("constant_age", "Age,Income,Purchases", 0, 3, True),
)

# Values at the proxy's documented limits (age 0..120, income 0..1e9, purchases 0..1e6, > 0 with SpendingPower).
EDGE_CUSTOMERS = (
    {"age": 0, "income": 0, "purchases": 1},
    {"age": 120, "income": 1e9, "purchases": 1e6},
    {"age": 34, "income": 72000, "purchases": 12},
    {"age": 18.5, "income": 15000.75, "purchases": 0.5},
    {"age": 99, "income": 123456.789, "purchases": 999999},
)


def random_customers(rng: np.random.Generator, count: int) -> List[Dict[str, float]]:
    ages = rng.uniform(0, 120, count)
    incomes = np.exp(rng.uniform(np.log(1000), np.log(1e9), count))
    purchases = rng.integers(1, 200, count).astype(float)
    return [{"age": float(a), "income": float(i), "purchases": float(p)} for a, i, p in zip(ages, incomes, purchases)]


def model_vectors(name: str, features_text: str, n_components: int, k: int, constant_age: bool,
                  seed: int) -> Dict[str, object]:
    features = segments.parse_features(features_text)
    data = generate(rows=800, seed=seed, segments=k).frame
    frame = pd.DataFrame({column: data[column].astype(float) for column in segments.INPUT_COLUMNS})
    if constant_age:
        frame["Age"] = 40.0
    with threadpoolctl.threadpool_limits(1):
        result = train.fit_segmentation(segments.compute_features(frame, features), features, k, 10, n_components,
                                        seed, train.Baseline("none"))
    customers = list(EDGE_CUSTOMERS) + random_customers(np.random.default_rng(seed + 1), 40)
    raw = pd.DataFrame({"Age": [c["age"] for c in customers], "Income": [c["income"] for c in customers],
                        "Purchases": [c["purchases"] for c in customers]})
    feature_rows = segments.compute_features(raw, features)
    scaled = result.bundle["scaler"].transform(feature_rows)
    body = json.dumps({"instances": scaled.tolist()})
    answer = json.loads(inference.output_fn(
        inference.predict_fn(inference.input_fn(body, "application/json"), result.bundle), "application/json"))
    return {
        "name": name,
        "spec": result.spec,
        "profiles": result.profiles,
        "customers": customers,
        "features": feature_rows.tolist(),
        "scaled": scaled.tolist(),
        "endpoint_body": body,
        "predictions": answer["predictions"],
    }


def build(seed: int = 7) -> Dict[str, object]:
    return {"generator": "tests/python/proxy_vectors.py", **segments.versions(),
            "models": [model_vectors(*model, seed=seed + index) for index, model in enumerate(MODELS)]}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(build(args.seed), allow_nan=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
