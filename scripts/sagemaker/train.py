"""Train step (SageMaker script mode): StandardScaler -> optional PCA -> KMeans, with automatic k, stable segment ids
across retrains and human segment labels.

    train.py --n-clusters 0 --max-k 10 --n-components 0 --random-seed 42 --features Age,Income,Purchases \
             --baseline-uri s3://<model-bucket>/deployed/segment_profiles.json

Reads every CSV in SM_CHANNEL_TRAIN (validated again with the preprocess rules, so a raw customers CSV works too) and
writes to SM_MODEL_DIR: model.joblib, preprocessing_spec.json, segment_profiles.json, metrics.json.

Cost stays linear in rows: candidate models (k-means++, n_init restarts) are fitted on a seeded sample of at most
FIT_SAMPLE_ROWS rows and scored by silhouette on at most 10,000 of them; the chosen model is then refined by Lloyd
iterations on all rows starting from the sample's centroids. The restarts only have to find the right basin, which a
50k-row sample does as well as all rows, and the refinement makes the final centroids those of the full data.

Segment ids: with a baseline (the deployed model's segment_profiles.json) the new clusters get the ids of the baseline
centroids they match by optimal assignment in the new scaler's space, extra clusters get new ids after the largest
baseline id. Without one, ids 0..k-1 follow ascending raw centroids of the first feature (then the next). The KMeans
cluster_centers_ are stored in ascending id order, so the served model's index maps to the id through
bundle["segment_ids"] (the identity whenever the ids are 0..k-1).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

# Idle OpenMP threads sleep instead of spinning. OpenMP reads this once, when scikit-learn loads it, hence before the
# imports below; an explicit setting wins. It changes only how idle threads wait, not how many work: on a shared host
# (local mode, CI) spinning threads made auto-k on 100k rows take 47.9 s instead of 25.7 s
# (scripts/benchmarks/train_benchmark.py, 2 CPUs, load average 15).
os.environ.setdefault("OMP_WAIT_POLICY", "passive")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.metrics import adjusted_rand_score, pairwise_distances_argmin  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import segments  # noqa: E402

FIT_SAMPLE_ROWS = 50_000
N_INIT = 10
METRIC_NAMES = ("silhouette", "calinski_harabasz", "davies_bouldin", "min_cluster_fraction", "max_cluster_fraction",
                "k", "rows", "label_stability_ari")


@dataclass
class Baseline:
    status: str  # none | not_found | loaded | feature_mismatch
    ids: Optional[List[int]] = None
    raw_centroids: Optional[np.ndarray] = None


@dataclass
class TrainingResult:
    bundle: Dict[str, object]
    spec: Dict[str, object]
    profiles: Dict[str, object]
    metrics: Dict[str, object]


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-clusters", type=int, default=0, help="0 = choose k in [2, max-k] by silhouette")
    parser.add_argument("--max-k", type=int, default=10)
    parser.add_argument("--n-components", type=int, default=0, help="PCA components; 0 = no PCA")
    parser.add_argument("--random-seed", type=int, default=42)
    parser.add_argument("--features", default=segments.DEFAULT_FEATURES)
    parser.add_argument("--baseline-uri", default="",
                        help="s3:// URI or local path of the deployed segment_profiles.json; empty = none")
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")))
    parser.add_argument("--train", type=Path,
                        default=Path(os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")))
    parser.add_argument("--failure-file", type=Path, help="default: <SM_MODEL_DIR>/../output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = args.model_dir.parent / "output" / "failure"
    return args


def validate_hyperparameters(n_clusters: int, max_k: int, n_components: int, rows: int, n_features: int) -> None:
    problems = []
    if n_clusters == 1 or n_clusters < 0:
        problems.append("--n-clusters must be 0 (choose automatically) or >= 2, got %d" % n_clusters)
    elif n_clusters > rows:
        problems.append("--n-clusters %d exceeds the %d training rows" % (n_clusters, rows))
    if n_clusters == 0 and max_k < 2:
        problems.append("--max-k must be >= 2 when --n-clusters is 0, got %d" % max_k)
    if n_clusters == 0 and rows < 4:
        problems.append("choosing k automatically needs at least 4 training rows, got %d" % rows)
    if n_components < 0 or (n_components and n_components >= n_features):
        problems.append("--n-components must be 0 (no PCA) or between 1 and %d (fewer than the %d features), got %d"
                        % (n_features - 1, n_features, n_components))
    if problems:
        raise segments.DataError("; ".join(problems))


def load_baseline(uri: str, features: Sequence[str]) -> Baseline:
    """The deployed model's segment profiles. Empty uri, a missing S3 object (NoSuchKey/404) or a missing local file
    mean "no baseline"; any other S3 error propagates and fails the step."""
    uri = (uri or "").strip()
    if not uri:
        return Baseline("none")
    if uri.startswith("s3://"):
        body = _read_s3(uri)
    else:
        path = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
        body = path.read_bytes() if path.is_file() else None
    if body is None:
        print("baseline: %s not found; segment ids follow the no-baseline order" % uri, flush=True)
        return Baseline("not_found")
    try:
        document = json.loads(body.decode("utf-8"))
        ids = [int(segment["id"]) for segment in document["segments"]]
        centroid_features = [set(segment["centroid"]) for segment in document["segments"]]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError("segment ids must be present and unique")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise segments.DataError("baseline %s is not a segment_profiles.json (%s: %s)"
                                 % (uri, type(error).__name__, error)) from error
    if any(found != set(features) for found in centroid_features):
        print("baseline: %s has features %s, this model %s; ids cannot be matched, using the no-baseline order"
              % (uri, sorted(centroid_features[0]), list(features)), flush=True)
        return Baseline("feature_mismatch")
    raw = np.array([[float(segment["centroid"][f]) for f in features] for segment in document["segments"]])
    print("baseline: %s with %d segments" % (uri, len(ids)), flush=True)
    return Baseline("loaded", ids, raw)


def _read_s3(uri: str) -> Optional[bytes]:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    bucket, _, key = uri[len("s3://"):].partition("/")
    # The boto3 of Debian and of the container predates the SDK's own AWS_ENDPOINT_URL support.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    client = boto3.client("s3", endpoint_url=endpoint or None,
                          config=Config(s3={"addressing_style": "path"}) if endpoint else None)
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
            return None
        raise


def select_k(x: np.ndarray, n_clusters: int, max_k: int, seed: int) -> Tuple[KMeans, Dict[str, object]]:
    """Fits the candidate models on a seeded sample and returns the best one with the k-selection curve."""
    fit_rows = x[segments.seeded_sample(len(x), FIT_SAMPLE_ROWS, seed)]
    score_index = segments.seeded_sample(len(fit_rows), segments.SILHOUETTE_SAMPLE_ROWS, seed)
    score_rows = fit_rows[score_index]
    candidates = [n_clusters] if n_clusters else list(range(2, min(max_k, len(score_rows) - 1) + 1))
    curve = []
    best: Optional[KMeans] = None
    best_score = -np.inf
    for k in candidates:
        model = KMeans(n_clusters=k, init="k-means++", n_init=N_INIT, random_state=seed).fit(fit_rows)
        labels = model.labels_[score_index]
        score = segments.silhouette(score_rows, labels)
        curve.append({"k": k, "inertia": float(model.inertia_), "silhouette": score})
        print("k-selection: k=%d inertia=%.6g silhouette=%.4f" % (k, model.inertia_, score), flush=True)
        if score > best_score:  # strict: on a tie the smaller k wins
            best, best_score = model, score
    assert best is not None
    return best, {"method": "fixed" if n_clusters else "silhouette", "fit_sample_rows": int(len(fit_rows)),
                  "score_sample_rows": int(len(score_rows)), "n_init": N_INIT, "curve": curve}


def fit_segmentation(x_raw: np.ndarray, features: Sequence[str], n_clusters: int, max_k: int, n_components: int,
                     seed: int, baseline: Baseline) -> TrainingResult:
    rows, n_features = x_raw.shape
    validate_hyperparameters(n_clusters, max_k, n_components, rows, n_features)
    scaler = StandardScaler().fit(x_raw)
    x_scaled = scaler.transform(x_raw)
    pca = PCA(n_components=n_components, random_state=seed).fit(x_scaled) if n_components else None
    x_model = pca.transform(x_scaled) if pca is not None else x_scaled

    sample_model, selection = select_k(x_model, n_clusters, max_k, seed)
    k = sample_model.n_clusters
    kmeans = KMeans(n_clusters=k, init=sample_model.cluster_centers_, n_init=1, random_state=seed).fit(x_model)

    centers = kmeans.cluster_centers_
    scaled_centroids = pca.inverse_transform(centers) if pca is not None else centers
    raw_centroids = scaler.inverse_transform(scaled_centroids)
    if baseline.status == "loaded":
        baseline_scaled = scaler.transform(baseline.raw_centroids)
        ids = segments.match_to_baseline(scaled_centroids, baseline_scaled, baseline.ids, raw_centroids)
    else:
        ids = [0] * k
        for new_id, cluster in enumerate(segments.order_without_baseline(raw_centroids)):
            ids[cluster] = new_id

    by_id = [int(i) for i in np.argsort(ids)]
    position = np.empty(k, dtype=int)
    position[by_id] = np.arange(k)
    cluster_of_row = position[kmeans.labels_]
    # The served model needs only the centroids; labels_ would put one integer per training row into model.joblib.
    del kmeans.labels_
    kmeans.cluster_centers_ = centers[by_id]
    segment_ids = [ids[i] for i in by_id]
    scaled_centroids, raw_centroids = scaled_centroids[by_id], raw_centroids[by_id]
    label_ids = np.asarray(segment_ids)[cluster_of_row]
    sizes = np.bincount(cluster_of_row, minlength=k)
    ari = None
    if baseline.status == "loaded":
        previous = np.asarray(baseline.ids)[pairwise_distances_argmin(x_scaled, baseline_scaled)]
        ari = float(adjusted_rand_score(previous, label_ids))

    quality = segments.cluster_quality(x_model, label_ids, segment_ids, seed)
    labels = segments.segment_labels(segment_ids, scaled_centroids, features)
    profiles = {
        "model_version": None,
        "features": list(features),
        "segments": [
            {"id": segment_ids[i], "label": labels[i],
             "centroid": {f: float(raw_centroids[i, j]) for j, f in enumerate(features)},
             "levels": {f: segments.level(float(scaled_centroids[i, j])) for j, f in enumerate(features)},
             "size": int(sizes[i]), "share": float(sizes[i]) / rows}
            for i in range(k)
        ],
    }
    metrics: Dict[str, object] = {
        "k": k, "rows": rows, "features": list(features), "n_components": n_components, "random_seed": seed,
        **quality,
        "inertia": float(kmeans.inertia_),
        "k_selection": selection,
        "label_stability_ari": ari,
        "baseline_status": baseline.status,
    }
    spec = {
        "spec_version": 1,
        "model_version": None,
        "features": list(features),
        "column_order": list(features),
        "feature_recipe": segments.recipe_spec(features),
        "input_columns": segments.required_inputs(features),
        "input_rules": {"age_range": list(segments.AGE_RANGE), "income_min": 0, "purchases_min": 0,
                        "purchases_must_be_positive": "SpendingPower" in features},
        "scaler": {"type": "StandardScaler", "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
        "pca": None if pca is None else {
            "n_components": n_components, "components": pca.components_.tolist(), "mean": pca.mean_.tolist(),
            "explained_variance_ratio": pca.explained_variance_ratio_.tolist()},
        "endpoint_input": "scaled feature vectors (x - mean) / scale in column_order, before PCA; the endpoint "
                          "applies PCA itself",
        "distance_space": "pca" if pca is not None else "scaled",
        "segment_ids": segment_ids,
        "random_seed": seed,
        **segments.versions(),
    }
    bundle = {"format": segments.BUNDLE_FORMAT, "features": list(features), "scaler": scaler, "pca": pca,
              "kmeans": kmeans, "segment_ids": segment_ids}
    return TrainingResult(bundle, spec, profiles, metrics)


def run(args: argparse.Namespace) -> TrainingResult:
    features = segments.parse_features(args.features)
    if args.random_seed < 0:
        raise segments.DataError("--random-seed must be >= 0, got %d" % args.random_seed)
    data = segments.load_customers(args.train, features)
    print("training data: %s" % data.report.summary(), flush=True)
    baseline = load_baseline(args.baseline_uri, features)
    result = fit_segmentation(segments.compute_features(data.frame, features), features, args.n_clusters, args.max_k,
                              args.n_components, args.random_seed, baseline)
    result.metrics["rows_dropped_by_rule"] = data.report.dropped_by_rule
    result.metrics["baseline_uri"] = args.baseline_uri
    args.model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(result.bundle, args.model_dir / "model.joblib")
    segments.write_json(args.model_dir / "preprocessing_spec.json", result.spec)
    segments.write_json(args.model_dir / "segment_profiles.json", result.profiles)
    segments.write_json(args.model_dir / "metrics.json", result.metrics)
    for segment in result.profiles["segments"]:
        print("segment %d: %s, %d rows (%.1f%%)" % (segment["id"], segment["label"], segment["size"],
                                                     100 * segment["share"]), flush=True)
    segments.print_metrics(result.metrics, METRIC_NAMES)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return segments.run_step("train", lambda: run(args), [args.failure_file])


if __name__ == "__main__":
    sys.exit(main())
