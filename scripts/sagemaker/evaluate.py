"""Evaluate step (SageMaker Processing): scores the trained model on the validation split.

    evaluate.py

Inputs: <processing>/input/model/model.tar.gz (the training job's artifact) and the validation CSV(s) under
<processing>/input/validation. Outputs: <processing>/output/evaluation/evaluation.json (the pipeline's property file,
read by the quality gate) and <processing>/output/artifacts/ with preprocessing_spec.json, segment_profiles.json,
metrics.json (training metrics plus a "validation" section) and model_quality.json (shaped like SageMaker Model
Monitor model-quality statistics, for RegisterModel's ModelMetrics.ModelQuality.Statistics).

Silhouette is computed on a seeded sample of at most 10,000 validation rows; the other metrics on all of them.
label_stability_ari is the training step's agreement with the previously deployed model (null without a baseline).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import joblib

import segments

COPIED_ARTIFACTS = ("preprocessing_spec.json", "segment_profiles.json")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = segments.processing_root(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=root / "input" / "model",
                        help="folder holding model.tar.gz")
    parser.add_argument("--validation-dir", type=Path, default=root / "input" / "validation")
    parser.add_argument("--evaluation-dir", type=Path, default=root / "output" / "evaluation")
    parser.add_argument("--artifacts-dir", type=Path, default=root / "output" / "artifacts")
    parser.add_argument("--failure-file", type=Path, action="append",
                        help="where the failure reason goes (repeatable); default <ml>/output/message and "
                             "<ml>/output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = [root.parent / "output" / "message", root.parent / "output" / "failure"]
    return args


def extract_model(model_dir: Path, target: Path) -> Path:
    archives = sorted(Path(model_dir).glob("*.tar.gz"))
    if len(archives) != 1:
        raise segments.DataError("expected exactly one *.tar.gz in %s, found %s"
                                 % (model_dir, [a.name for a in archives] or "none"))
    with tarfile.open(archives[0], "r:gz") as archive:
        for member in archive.getmembers():
            resolved = (target / member.name).resolve()
            if not (member.isfile() or member.isdir()) or target.resolve() not in (resolved, *resolved.parents):
                raise segments.DataError("%s holds an unsafe entry %r" % (archives[0].name, member.name))
        archive.extractall(target)
    missing = [name for name in ("model.joblib", "metrics.json", *COPIED_ARTIFACTS) if not (target / name).is_file()]
    if missing:
        raise segments.DataError("%s lacks %s" % (archives[0].name, ", ".join(missing)))
    return target


def model_quality(metrics: Dict[str, object], rows: int) -> Dict[str, object]:
    names = ("silhouette", "calinski_harabasz", "davies_bouldin", "min_cluster_fraction", "max_cluster_fraction",
             "label_stability_ari")
    return {
        "version": 0.0,
        "dataset": {"item_count": rows,
                    "evaluation_time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "clustering_metrics": {name: {"value": metrics[name], "standard_deviation": None} for name in names},
    }


def run(args: argparse.Namespace) -> Dict[str, object]:
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = extract_model(args.model_dir, Path(scratch))
        bundle = joblib.load(model_dir / "model.joblib")
        spec = json.loads((model_dir / "preprocessing_spec.json").read_text(encoding="utf-8"))
        training = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
        copies = {name: (model_dir / name).read_text(encoding="utf-8") for name in COPIED_ARTIFACTS}

    features = spec["features"]
    data = segments.load_customers(args.validation_dir, features)
    print("validation data: %s" % data.report.summary(), flush=True)
    scaled = bundle["scaler"].transform(segments.compute_features(data.frame, features))
    ids, _ = segments.assign_segments(bundle, scaled)
    quality = segments.cluster_quality(segments.bundle_model_space(bundle, scaled), ids, bundle["segment_ids"],
                                       int(spec["random_seed"]))
    metrics = {
        "silhouette": quality["silhouette"],
        "calinski_harabasz": quality["calinski_harabasz"],
        "davies_bouldin": quality["davies_bouldin"],
        "min_cluster_fraction": quality["min_cluster_fraction"],
        "max_cluster_fraction": quality["max_cluster_fraction"],
        "k": len(bundle["segment_ids"]),
        "rows": int(len(ids)),
        "label_stability_ari": training.get("label_stability_ari"),
    }
    segments.write_json(args.evaluation_dir / "evaluation.json", {"metrics": metrics})
    args.artifacts_dir.mkdir(parents=True, exist_ok=True)
    for name, text in copies.items():
        (args.artifacts_dir / name).write_text(text, encoding="utf-8")
    validation = dict(metrics, silhouette_sample_rows=quality["silhouette_sample_rows"],
                      rows_dropped_by_rule=data.report.dropped_by_rule)
    segments.write_json(args.artifacts_dir / "metrics.json", dict(training, validation=validation))
    segments.write_json(args.artifacts_dir / "model_quality.json", model_quality(metrics, int(len(ids))))
    segments.print_metrics(metrics, list(metrics))
    return metrics


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return segments.run_step("evaluate", lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
