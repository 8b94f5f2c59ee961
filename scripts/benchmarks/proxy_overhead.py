"""SegmentProxy (native AOT bootstrap) against the seed's proposed design (a Python Lambda that unpickles a fitted
StandardScaler with scikit-learn and scales the input), side by side in one run, both behind a loopback Lambda Runtime
API, the endpoint call excluded:

    /usr/bin/python3 scripts/benchmarks/proxy_overhead.py [--bootstrap PATH] [--cold-runs 20] [--requests 400]

  per-request overhead  POST /segment proxy events with 1 customer and with a batch of 1,000, the two functions served
                        alternately, one request at a time; median of --requests warm requests each. "function" is the
                        time from the Runtime API handing the event out to the function's response arriving (what
                        Lambda bills and the caller waits for); "handler" is what each logs for its handler alone.
  cold start            process spawn -> first response posted (scripts/benchmarks/lambda_cold_start.py), median of
                        --cold-runs, the two alternating run by run.
  package size          our bootstrap zipped as Lambda receives it, against the Python handler plus what its imports
                        need as a layer, measured from Debian's installed packages (see python_package_size).
The Runtime API, the warm and cold loops and the package measurement are lambda_harness.py's (shared with
recommendations_api_benchmark.py).

Equal terms: ours runs SERVING_MODE=centroids, so it also scores the nearest centroid and adds segment labels in the
Lambda, work the baseline does not do (it only scales and answers the endpoint body it would send). Ours reads the
deployed marker, spec, profiles and metrics from a loopback s3rver at its first request (its cold start includes those
four GETs); the baseline loads scaler.joblib from local disk ("spec cached locally"). Both use one CPU thread for BLAS.
Needs Debian's python3 (scikit-learn 1.2.1, boto3), node with the repository's s3rver, and the .NET SDK unless
--bootstrap names a published bootstrap. Prints the medians, the ratios and which targets are met (>= 20x lower
per-request function time for both payloads, >= 10x faster cold start, a zip of at most 15 MB); exits 0 whenever the
measurement itself succeeded.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASELINE = HERE / "python_scaler_lambda"
sys.path.insert(0, str(HERE))

import lambda_harness as harness  # noqa: E402
from lambda_harness import Function, median_of, mb, run, served  # noqa: E402

BUCKET = "segments-model-bucket"
PREFIX = "runs/benchmark/artifacts/"
# Debian packages behind `joblib.load(<a StandardScaler>)` and numpy: what a Lambda layer would have to carry.
LAYER_PACKAGES = ("python3-sklearn", "python3-sklearn-lib", "python3-numpy", "python3-scipy", "python3-joblib",
                  "python3-threadpoolctl")


# ---------------------------------------------------------------------------------------------------------------------
# Fixtures: model, s3rver, events, the two functions
# ---------------------------------------------------------------------------------------------------------------------

def train(work: Path) -> Path:
    """The real train.py on seeded sample customers; the baseline's scaler.joblib is the model's fitted scaler."""
    (work / "train").mkdir()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    run([sys.executable, "-m", "sample_data.customers", "--rows", "5000", "--seed", "3", "--segments", "4",
         "--out", str(work / "train" / "customers.csv")], cwd=ROOT / "scripts", env=env)
    model = work / "model"
    run([sys.executable, str(ROOT / "scripts" / "sagemaker" / "train.py"), "--n-clusters", "4", "--model-dir",
         str(model), "--train", str(work / "train")], env=env)
    import joblib

    joblib.dump(joblib.load(model / "model.joblib")["scaler"], work / "scaler.joblib")
    return model


def start_s3rver(work: Path, model: Path) -> Tuple[subprocess.Popen, str]:
    entry = harness.node_entry("s3rver/bin/s3rver.js")
    port = harness.free_port()
    (work / "s3").mkdir()
    process = harness.start_server(["node", str(entry), "-d", str(work / "s3"), "-a", "127.0.0.1", "-p", str(port),
                                    "--silent", "--configure-bucket", BUCKET], port)
    endpoint = "http://127.0.0.1:%d" % port
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="S3RVER",
                      aws_secret_access_key="S3RVER", config=Config(s3={"addressing_style": "path"}))
    for name in ("preprocessing_spec.json", "segment_profiles.json", "metrics.json"):
        s3.put_object(Bucket=BUCKET, Key=PREFIX + name, Body=(model / name).read_bytes())
    uri = "s3://%s/%s" % (BUCKET, PREFIX)
    marker = {"ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/segments/1",
              "ModelPackageVersion": 1, "ModelName": "segments-model-1", "EndpointName": "segments",
              "EndpointConfigName": "segments-config-1", "PreprocessingSpecUri": uri + "preprocessing_spec.json",
              "SegmentProfilesUri": uri + "segment_profiles.json", "MetricsUri": uri + "metrics.json",
              "PipelineExecutionArn": None, "DeployedAt": "2026-11-25T10:00:00Z"}
    s3.put_object(Bucket=BUCKET, Key="deployed/version.json", Body=json.dumps(marker).encode("utf-8"))
    return process, endpoint


def event(customers: int, seed: int) -> bytes:
    import numpy as np

    rng = np.random.default_rng(seed)
    body = {"customers": [{"age": float(a), "income": float(i), "purchases": float(p)} for a, i, p in
                          zip(rng.uniform(18, 90, customers), rng.uniform(10_000, 180_000, customers),
                              rng.integers(1, 80, customers))]}
    return json.dumps({"resource": "/segment", "path": "/segment", "httpMethod": "POST",
                       "headers": {"Content-Type": "application/json"},
                       "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod"},
                       "body": json.dumps(body), "isBase64Encoded": False}).encode("utf-8")


def functions(bootstrap: Path, s3_endpoint: str, scaler: Path) -> List[Function]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    base.update({"AWS_REGION": "us-east-1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    ours = dict(base, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", AWS_ENDPOINT_URL_S3=s3_endpoint,
                MODEL_BUCKET=BUCKET, SERVING_MODE="centroids", MODEL_REFRESH_SECONDS="3600",
                LAMBDA_TASK_ROOT=str(bootstrap.parent))
    python = dict(base, SCALER_PATH=str(scaler), LAMBDA_TASK_ROOT=str(BASELINE), PYTHONDONTWRITEBYTECODE="1")
    return [Function("SegmentProxy (native AOT, centroids mode)", [str(bootstrap)], ours),
            Function("Python + scikit-learn scaler", [sys.executable, str(harness.PYTHON_RUNTIME_LOOP),
                                                      "handler.handler"], python)]


# ---------------------------------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------------------------------

def warm(functions_: List[Function], events: Dict[str, bytes], requests: int) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Both functions started once; for each payload, warm-up, then requests alternate between them."""
    runs, _ = harness.warm(functions_, {label: [payload] for label, payload in events.items()}, requests)
    results: Dict[str, Dict[str, Dict[str, float]]] = {}
    for name, by_label in runs.items():
        results[name] = {}
        for label, measured in by_label.items():
            handled = served(measured.logs)
            results[name][label] = {
                "function_ms": statistics.median(measured.function_ms),
                "round_trip_ms": statistics.median(measured.round_trip_ms),
                "handler_ms": median_of(handled, "totalMs"),
                # Only the native bootstrap logs its split; NaN for the baseline.
                "parse_ms": median_of(handled, "parseMs"),
                "scale_ms": median_of(handled, "scaleMs"),
                "score_ms": median_of(handled, "endpointMs"),
                "requests": len(measured.function_ms),
            }
    return results


def python_package_size() -> Dict[str, object]:
    """The handler + the packages behind `joblib.load(<a StandardScaler>)` as a layer (lambda_harness)."""
    return harness.python_package_size(LAYER_PACKAGES, [BASELINE / "handler.py"])


# ---------------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------------

def report(names: List[str], warm_results: Dict[str, Dict[str, Dict[str, float]]],
           cold_results: Dict[str, Dict[str, float]], ours_size: Dict[str, object], python_size: Dict[str, object],
           requests: int) -> Dict[str, object]:
    ours, theirs = names
    print("\nper-request overhead, median of %d warm requests each (ms)" % requests)
    print("%-28s %-14s %12s %12s %12s" % ("payload", "measure", "ours", "python", "python/ours"))
    ratios = {}
    for label in warm_results[ours]:
        for measure in ("function_ms", "handler_ms", "round_trip_ms"):
            a, b = warm_results[ours][label][measure], warm_results[theirs][label][measure]
            ratios[(label, measure)] = b / a
            print("%-28s %-14s %12.3f %12.3f %11.1fx" % (label, measure, a, b, b / a))
    for label, figures in warm_results[ours].items():
        print("ours, %s, in-handler split (median ms): parse %.3f, scale %.3f, centroid scoring %.3f, total %.3f"
              % (label, figures["parse_ms"], figures["scale_ms"], figures["score_ms"], figures["handler_ms"]))
    a, b = cold_results[ours]["median_ms"], cold_results[theirs]["median_ms"]
    print("\ncold start, spawn -> first response, median of %d (ms): ours %.1f (min %.1f, max %.1f), python %.1f "
          "(min %.1f, max %.1f): %.1fx" % (cold_results[ours]["runs"], a, cold_results[ours]["min_ms"],
                                           cold_results[ours]["max_ms"], b, cold_results[theirs]["min_ms"],
                                           cold_results[theirs]["max_ms"], b / a))
    print("\npackage: ours %s zipped (%s bootstrap); python handler + layer %s"
          % (mb(ours_size["zip_bytes"]), mb(ours_size["bootstrap_bytes"]), harness.python_package_line(python_size)))
    targets = {
        "per_request_20x": all(ratios[(label, "function_ms")] >= 20 for label in warm_results[ours]),
        "cold_start_10x": b / a >= 10,
        "package_15mb": ours_size["zip_bytes"] <= 15e6,
    }
    print("\ntargets: " + ", ".join("%s %s" % (name, "met" if met else "MISSED") for name, met in targets.items()))
    return {"warm": warm_results, "cold": cold_results, "package": {"ours": ours_size, "python": python_size},
            "ratios": {"%s %s" % key: value for key, value in ratios.items()}, "targets": targets,
            "machine": "%d cpu, %s" % (os.cpu_count() or 0, os.uname().machine)}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", type=Path, help="a published SegmentProxy bootstrap; default: publish one")
    parser.add_argument("--cold-runs", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.cold_runs < 20:
        parser.error("--cold-runs must be >= 20 (the medians are reported as of at least 20 runs)")

    work = Path(tempfile.mkdtemp(prefix="proxy-overhead-"))
    s3rver = None
    try:
        bootstrap = args.bootstrap.resolve() if args.bootstrap else harness.publish_native(
            "lambdas/SegmentProxy/SegmentProxy.csproj", work)
        model = train(work)
        s3rver, endpoint = start_s3rver(work, model)
        candidates = functions(bootstrap, endpoint, work / "scaler.joblib")
        events = {"1 customer": event(1, 1), "batch of 1,000 customers": event(1000, 2)}
        warm_results = warm(candidates, events, args.requests)
        cold_results = harness.cold(candidates, events["1 customer"], args.cold_runs)
        figures = report([c.name for c in candidates], warm_results, cold_results, harness.our_package_size(bootstrap),
                         python_package_size(), args.requests)
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0
    finally:
        if s3rver is not None:
            s3rver.kill()
            s3rver.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
