"""TrainClustering step (SageMaker Training, script mode): one StandardScaler + KMeans per segment (region_end_use) on
proportion features, k per segment by the elbow rule.

    train_clustering.py --max-k 8 --min-cluster-customers 6 --elbow-threshold 10.0 \
        --feature-groups l2_qty,brand,functionality,rfm --random-state 42 --n-init 15

Reads market_basket.csv from SM_CHANNEL_BASKET and writes to SM_MODEL_DIR (SageMaker packs it into model.tar.gz):
{stem}_kmeans.pkl, {stem}_scaler.pkl, {stem}_columns.json per segment (stem = the segment name with characters
other than letters, digits, '.', '_' and '-' replaced), model_registry.json (the manifest: segments, k, silhouette,
files, parameters, versions) and customer_clusters.csv (customer_id, segment, cluster, cluster_id). The clusters file
is in the model folder, not /opt/ml/output/data, so it travels inside model.tar.gz to the steps that need it (IPRE
bug 8).

Features per customer: the share of its total_quantity per L2 category (l2_qty), per brand (brand) and per
functionality (functionality), and its three RFM scores (rfm); proportions capture what a customer buys, not how
much. Only the columns present in a segment are used there.

k: KMeans is fitted for k = 2, 3, ... and the first k whose next increment cuts inertia by less than ElbowThreshold
percent is chosen (MaxK when none does; never more than the segment's distinct feature rows). Segments with fewer
than MinClusterCustomers customers, or fewer than two distinct feature rows, get one cluster.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

# Idle OpenMP threads sleep instead of spinning (see scripts/sagemaker/train.py); set before scikit-learn loads.
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import silhouette_score  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import pipeline_io as io_  # noqa: E402
import pipeline_parameters as params  # noqa: E402

STEP = "TrainClustering"
REGISTRY_FORMAT = 1
SILHOUETTE_SAMPLE_ROWS = 10_000
GOOD_SILHOUETTE, ACCEPTABLE_SILHOUETTE = 0.5, 0.2
PROPORTION_GROUPS = {"l2_qty": "l2_category", "brand": "brand", "functionality": "functionality"}
RFM_COLUMNS = ["rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score"]


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    params.add_arguments(parser, STEP)
    parser.add_argument("--basket", type=Path,
                        default=Path(os.environ.get("SM_CHANNEL_BASKET", "/opt/ml/input/data/basket")),
                        help="folder (or file) with market_basket.csv")
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")))
    parser.add_argument("--failure-file", type=Path, help="default: <SM_MODEL_DIR>/../output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = args.model_dir.parent / "output" / "failure"
    return args


def feature_table(basket: pd.DataFrame, groups: List[str]) -> Tuple[pd.DataFrame, pd.Series]:
    """Customer x feature matrix (all segments; columns a segment never uses are all 0 there) and each customer's
    segment."""
    customers = basket.groupby("customer_id", sort=True).first()
    parts = []
    for group in groups:
        if group == "rfm":
            parts.append(customers[RFM_COLUMNS].astype(float))
            continue
        column = PROPORTION_GROUPS[group]
        quantity = basket.groupby(["customer_id", column])["total_quantity"].sum().unstack(fill_value=0.0)
        shares = quantity.div(quantity.sum(axis=1), axis=0).fillna(0.0)
        shares.columns = ["%s:%s" % (group, value) for value in shares.columns]
        parts.append(shares)
    return pd.concat(parts, axis=1).reindex(customers.index).fillna(0.0), customers["segment"]


def file_stems(segments: List[str]) -> Dict[str, str]:
    stems: Dict[str, str] = {}
    for segment in segments:
        stem = re.sub(r"[^A-Za-z0-9._-]", "-", segment)
        candidate, n = stem, 2
        while candidate in stems.values():
            candidate, n = "%s-%d" % (stem, n), n + 1
        stems[segment] = candidate
    return stems


def elbow_k(x: np.ndarray, upper: int, threshold_percent: float, seed: int, n_init: int
            ) -> Tuple[KMeans, List[Dict[str, object]]]:
    """The first k >= 2 whose next increment cuts inertia by less than the threshold (the elbow), else `upper`;
    fitting stops at the elbow, so the curve ends one k past it. A zero inertia leaves nothing to cut: elbow."""
    models: Dict[int, KMeans] = {}
    curve: List[Dict[str, object]] = []
    for k in range(2, upper + 1):
        models[k] = KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(x)
        point: Dict[str, object] = {"k": k, "inertia": float(models[k].inertia_)}
        curve.append(point)
        if k == 2:
            continue
        previous = models[k - 1].inertia_
        drop = None if previous <= 0 else 100.0 * (previous - models[k].inertia_) / previous
        point["drop_percent"] = drop
        if drop is None or drop < threshold_percent:
            return models[k - 1], curve
    return models[upper], curve


def silhouette_band(value: Optional[float]) -> str:
    if value is None:
        return "undefined"
    return "good" if value > GOOD_SILHOUETTE else "acceptable" if value >= ACCEPTABLE_SILHOUETTE else "poor"


def cluster_segment(x: np.ndarray, values: Dict[str, object]) -> Dict[str, object]:
    """Scaler, model, labels and quality of one segment's customers."""
    scaler = StandardScaler().fit(x)
    scaled = scaler.transform(x)
    seed, n_init = values["RandomState"], values["NInit"]
    distinct = len(np.unique(scaled, axis=0))
    if len(x) < values["MinClusterCustomers"] or distinct < 2:
        model, curve = KMeans(n_clusters=1, n_init=1, random_state=seed).fit(scaled), []
        method = "single_cluster"
    else:
        model, curve = elbow_k(scaled, min(values["MaxK"], distinct), values["ElbowThreshold"], seed, n_init)
        method = "elbow"
    labels = model.labels_
    silhouette = None
    if 2 <= len(np.unique(labels)) <= len(x) - 1:
        silhouette = float(silhouette_score(scaled, labels, sample_size=min(len(x), SILHOUETTE_SAMPLE_ROWS),
                                            random_state=seed))
    return {"scaler": scaler, "model": model, "labels": labels, "method": method, "curve": curve,
            "silhouette": silhouette}


def run(args: argparse.Namespace) -> Dict[str, object]:
    values = params.from_arguments(args, STEP)
    groups = values["FeatureGroups"]
    source = args.basket / "market_basket.csv" if args.basket.is_dir() else args.basket
    basket = io_.read_csv_output(source, {"customer_id": str, "product_id": str, "segment": str, "brand": str,
                                          "l2_category": str, "functionality": str})
    if basket.empty:
        raise io_.StepError("%s has no rows" % source)
    features, segment_of = feature_table(basket, groups)
    segments = sorted(segment_of.unique())
    stems = file_stems(segments)
    args.model_dir.mkdir(parents=True, exist_ok=True)

    assignments = []
    entries = []
    for segment in segments:
        members = segment_of.index[segment_of == segment]
        block = features.loc[members]
        block = block.loc[:, (block != 0).any(axis=0) | block.columns.isin(RFM_COLUMNS)]
        result = cluster_segment(block.to_numpy(dtype=float), values)
        stem = stems[segment]
        joblib.dump(result["model"], args.model_dir / ("%s_kmeans.pkl" % stem))
        joblib.dump(result["scaler"], args.model_dir / ("%s_scaler.pkl" % stem))
        io_.write_json(args.model_dir / ("%s_columns.json" % stem), list(block.columns))
        labels = result["labels"]
        assignments.append(pd.DataFrame({"customer_id": members, "segment": segment, "cluster": labels,
                                         "cluster_id": ["%s_%d" % (segment, label) for label in labels]}))
        k = int(result["model"].n_clusters)
        band = silhouette_band(result["silhouette"])
        entries.append({
            "segment": segment, "file_stem": stem, "customers": int(len(members)), "k": k,
            "method": result["method"], "silhouette": result["silhouette"], "silhouette_band": band,
            "inertia": float(result["model"].inertia_), "elbow_curve": result["curve"],
            "cluster_sizes": np.bincount(labels, minlength=k).tolist(), "columns": int(block.shape[1]),
            "files": {"kmeans": "%s_kmeans.pkl" % stem, "scaler": "%s_scaler.pkl" % stem,
                      "columns": "%s_columns.json" % stem},
        })
        io_.log("segment %s: %d customers, k=%d (%s), silhouette %s (%s)" % (
            segment, len(members), k, result["method"],
            "n/a" if result["silhouette"] is None else "%.3f" % result["silhouette"], band))
        if band == "poor":
            io_.log("WARNING: segment %s has a poor silhouette %.3f (< %.1f): consider fewer feature groups or more "
                    "data" % (segment, result["silhouette"], ACCEPTABLE_SILHOUETTE))

    clusters = pd.concat(assignments, ignore_index=True)
    io_.write_csv(args.model_dir / "customer_clusters.csv", clusters)
    defined = [e["silhouette"] for e in entries if e["silhouette"] is not None]
    registry = {
        "format": REGISTRY_FORMAT,
        "feature_groups": groups,
        "parameters": values,
        "segments": entries,
        "summary": {"segments": len(entries), "clusters": int(sum(e["k"] for e in entries)),
                    "customers": int(len(clusters)),
                    "mean_silhouette": float(np.mean(defined)) if defined else None,
                    "poor_segments": sum(1 for e in entries if e["silhouette_band"] == "poor")},
        "customer_clusters": "customer_clusters.csv",
        "sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
        "python_version": "%d.%d.%d" % sys.version_info[:3],
    }
    io_.write_json(args.model_dir / "model_registry.json", registry)
    summary = registry["summary"]
    io_.log("clustering: %d segments, %d clusters, %d customers" % (summary["segments"], summary["clusters"],
                                                                    summary["customers"]))
    io_.metric(STEP, "Segments", summary["segments"])
    io_.metric(STEP, "Clusters", summary["clusters"])
    if summary["mean_silhouette"] is not None:
        io_.metric(STEP, "MeanSilhouette", summary["mean_silhouette"])
    io_.metric(STEP, "PoorSilhouetteSegments", summary["poor_segments"])
    return registry


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return io_.run_step(STEP, lambda: run(args), [args.failure_file])


if __name__ == "__main__":
    sys.exit(main())
