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
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BASELINE = HERE / "python_scaler_lambda"
sys.path.insert(0, str(HERE))

import lambda_cold_start  # noqa: E402

BUCKET = "segments-model-bucket"
PREFIX = "runs/benchmark/artifacts/"
NEXT = "/2018-06-01/runtime/invocation/next"
# Debian packages behind `joblib.load(<a StandardScaler>)` and numpy: what a Lambda layer would have to carry.
LAYER_PACKAGES = ("python3-sklearn", "python3-sklearn-lib", "python3-numpy", "python3-scipy", "python3-joblib",
                  "python3-threadpoolctl")
# Shared libraries AL2023 (provided.al2023 / python3.x runtimes) already has; any other library the layer's extension
# modules link against must ship in the layer, as the PyPI wheels do (numpy.libs, scipy.libs).
SYSTEM_LIBRARIES = ("linux-vdso", "libc.so", "libm.so", "libpthread", "libdl.so", "librt.so", "ld-linux", "libgcc_s",
                    "libstdc++", "libz.so", "libutil", "libexpat")


# ---------------------------------------------------------------------------------------------------------------------
# A Runtime API that serves many events and times each one
# ---------------------------------------------------------------------------------------------------------------------

@dataclass
class Invocation:
    event: bytes
    request_id: str
    handed_out: float = 0.0
    answered: float = 0.0
    answer: bytes = b""
    is_error: bool = False
    done: threading.Event = field(default_factory=threading.Event)


class WarmRuntimeApi:
    """Events are handed out in order; each records when it left and when its answer arrived."""

    def __init__(self) -> None:
        self.pending: "queue.Queue[Invocation]" = queue.Queue()
        self.by_id: Dict[str, Invocation] = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return "127.0.0.1:%d" % self.server.server_address[1]

    def invoke(self, event: bytes, timeout: float = 60) -> Invocation:
        invocation = Invocation(event, str(uuid.uuid4()))
        self.by_id[invocation.request_id] = invocation
        self.pending.put(invocation)
        if not invocation.done.wait(timeout):
            raise RuntimeError("no answer within %d s" % timeout)
        if invocation.is_error:
            raise RuntimeError("the function answered an error: %r" % invocation.answer)
        return invocation

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in separate writes: without TCP_NODELAY, Nagle's algorithm holds the second one
            # until the client's delayed ACK, 40 ms later, on every keep-alive request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                invocation = api.pending.get()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", invocation.request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(int((time.time() + 300) * 1000)))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:benchmark")
                self.send_header("Content-Length", str(len(invocation.event)))
                self.end_headers()
                invocation.handed_out = time.perf_counter()
                self.wfile.write(invocation.event)
                self.wfile.flush()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.perf_counter()
                parts = self.path.split("/")
                invocation = api.by_id.get(parts[-2]) if len(parts) >= 2 else None
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if invocation is not None:
                    invocation.answered, invocation.answer = now, body
                    invocation.is_error = parts[-1] == "error"
                    invocation.done.set()

        return Handler


# ---------------------------------------------------------------------------------------------------------------------
# Fixtures: model, s3rver, events, the two functions
# ---------------------------------------------------------------------------------------------------------------------

def run(command: List[str], cwd: Path = ROOT, env: Optional[Dict[str, str]] = None) -> str:
    result = subprocess.run(command, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError("%s failed (exit %d):\n%s%s" % (" ".join(command), result.returncode, result.stdout,
                                                         result.stderr))
    return result.stdout


def publish(work: Path) -> Path:
    output = work / "aot"
    run(["dotnet", "publish", "lambdas/SegmentProxy/SegmentProxy.csproj", "-c", "Release", "-r", "linux-x64",
         "-p:PublishAot=true", "-o", str(output), "--artifacts-path", str(work / "artifacts"), "--nologo",
         "-v", "quiet"])
    return output / "bootstrap"


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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_s3rver(work: Path, model: Path) -> Tuple[subprocess.Popen, str]:
    entry = ROOT / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if not entry.is_file():
        raise RuntimeError("%s is missing: run scripts/setup.sh (npm ci)" % entry)
    port = free_port()
    (work / "s3").mkdir()
    process = subprocess.Popen(["node", str(entry), "-d", str(work / "s3"), "-a", "127.0.0.1", "-p", str(port),
                                "--silent", "--configure-bucket", BUCKET],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = "http://127.0.0.1:%d" % port
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
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


@dataclass
class Function:
    name: str
    command: List[str]
    env: Dict[str, str]


def functions(bootstrap: Path, s3_endpoint: str, scaler: Path) -> List[Function]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    base.update({"AWS_REGION": "us-east-1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    ours = dict(base, AWS_ACCESS_KEY_ID="S3RVER", AWS_SECRET_ACCESS_KEY="S3RVER", AWS_ENDPOINT_URL_S3=s3_endpoint,
                MODEL_BUCKET=BUCKET, SERVING_MODE="centroids", MODEL_REFRESH_SECONDS="3600",
                LAMBDA_TASK_ROOT=str(bootstrap.parent))
    python = dict(base, SCALER_PATH=str(scaler), LAMBDA_TASK_ROOT=str(BASELINE), PYTHONDONTWRITEBYTECODE="1")
    return [Function("SegmentProxy (native AOT, centroids mode)", [str(bootstrap)], ours),
            Function("Python + scikit-learn scaler", [sys.executable, str(BASELINE / "runtime_loop.py"),
                                                      "handler.handler"], python)]


# ---------------------------------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------------------------------

def served(lines: Iterable[str]) -> List[Dict[str, object]]:
    """The "Request served." log lines (both functions print one per request, with totalMs)."""
    documents = []
    for line in lines:
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if document.get("message") == "Request served.":
            documents.append(document)
    return documents


def median_of(documents: List[Dict[str, object]], name: str) -> float:
    values = [float(document[name]) for document in documents if isinstance(document.get(name), (int, float))]
    return statistics.median(values) if values else float("nan")


def collect(process: subprocess.Popen, lines: List[str]) -> None:
    for line in process.stdout:
        lines.append(line)


def warm(functions_: List[Function], events: Dict[str, bytes], requests: int) -> Dict[str, Dict[str, Dict[str, float]]]:
    """Both functions started once; for each payload, warm-up, then requests alternate between them."""
    apis = [WarmRuntimeApi() for _ in functions_]
    processes = []
    outputs: List[List[str]] = [[] for _ in functions_]
    results: Dict[str, Dict[str, Dict[str, float]]] = {f.name: {} for f in functions_}
    try:
        for function, api, output in zip(functions_, apis, outputs):
            process = subprocess.Popen(function.command, env=dict(function.env, AWS_LAMBDA_RUNTIME_API=api.address),
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            threading.Thread(target=collect, args=(process, output), daemon=True).start()
            processes.append(process)
        for label, payload in events.items():
            for api in apis:
                for _ in range(30):
                    check(api.invoke(payload))
            marks = [len(served(list(output))) for output in outputs]
            samples: List[List[Tuple[float, float]]] = [[] for _ in functions_]
            for _ in range(requests):
                for index, api in enumerate(apis):
                    started = time.perf_counter()
                    invocation = check(api.invoke(payload))
                    samples[index].append(((invocation.answered - invocation.handed_out) * 1000,
                                           (time.perf_counter() - started) * 1000))
            time.sleep(0.2)
            for index, function in enumerate(functions_):
                handled = served(list(outputs[index]))[marks[index]:]
                results[function.name][label] = {
                    "function_ms": statistics.median(s[0] for s in samples[index]),
                    "round_trip_ms": statistics.median(s[1] for s in samples[index]),
                    "handler_ms": median_of(handled, "totalMs"),
                    # Only the native bootstrap logs its split; NaN for the baseline.
                    "parse_ms": median_of(handled, "parseMs"),
                    "scale_ms": median_of(handled, "scaleMs"),
                    "score_ms": median_of(handled, "endpointMs"),
                    "requests": len(samples[index]),
                }
    finally:
        for process in processes:
            process.kill()
            process.wait()
        for api in apis:
            api.close()
    return results


def check(invocation: Invocation) -> Invocation:
    answer = json.loads(invocation.answer)
    if answer.get("statusCode") != 200:
        raise RuntimeError("the function answered %s" % invocation.answer[:300])
    return invocation


def cold(functions_: List[Function], payload: bytes, runs: int) -> Dict[str, Dict[str, float]]:
    apis = []
    for _ in functions_:
        api = lambda_cold_start.RuntimeApi(payload)
        server = ThreadingHTTPServer(("127.0.0.1", 0), lambda_cold_start.make_handler(api))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        apis.append((api, server))
    times: List[List[float]] = [[] for _ in functions_]
    try:
        for attempt in range(runs + 2):  # two untimed runs each first, so both start from a warm page cache
            for index, (function, (api, server)) in enumerate(zip(functions_, apis)):
                env = dict(function.env, AWS_LAMBDA_RUNTIME_API="127.0.0.1:%d" % server.server_address[1])
                elapsed = lambda_cold_start.run(function.command, env, api, 60)
                if json.loads(api.answer or b"{}").get("statusCode") != 200:
                    raise RuntimeError("%s answered %r" % (function.name, api.answer))
                if attempt >= 2:
                    times[index].append(elapsed)
    finally:
        for _, server in apis:
            server.shutdown()
            server.server_close()
    return {function.name: {"median_ms": statistics.median(samples), "min_ms": min(samples), "max_ms": max(samples),
                            "runs": len(samples)} for function, samples in zip(functions_, times)}


def zipped_size(files: Iterable[Tuple[Path, str]]) -> int:
    """Bytes of a deflate zip (level 6, as `zip` makes one) of (path, name-in-zip) pairs."""
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path, name in files:
                archive.write(path, name)
        return buffer.tell()


def package_files(package: str) -> List[Path]:
    listed = run(["dpkg-query", "-L", package]).splitlines()
    return [Path(line) for line in listed if line.startswith("/usr/lib/python3/dist-packages/") and Path(line).is_file()
            and not Path(line).is_symlink()]


def linked_libraries(files: Iterable[Path]) -> List[Path]:
    """Shared libraries the extension modules load that AL2023 lacks (resolved by ldd, symlinks followed)."""
    found = set()
    for path in files:
        if ".so" not in path.name:
            continue
        for line in run(["ldd", str(path)]).splitlines():
            parts = line.split("=>")
            target = parts[1].split("(")[0].strip() if len(parts) == 2 else ""
            if target and not any(name in target for name in SYSTEM_LIBRARIES):
                found.add(Path(target).resolve())
    return sorted(found)


def python_package_size() -> Dict[str, object]:
    """Installed bytes and zipped bytes of the handler + the Debian packages' files under dist-packages (dpkg-query -L,
    regular files, no __pycache__ since dpkg lists none), + the native libraries those link that AL2023 lacks."""
    files = [path for package in LAYER_PACKAGES for path in package_files(package)]
    libraries = linked_libraries(files)
    handler = [BASELINE / "handler.py"]
    everything = [(path, "python/" + str(path.relative_to("/usr/lib/python3/dist-packages"))) for path in files]
    everything += [(path, "lib/" + path.name) for path in libraries] + [(path, path.name) for path in handler]
    return {
        "packages": list(LAYER_PACKAGES),
        "python_files": len(files),
        "python_bytes": sum(path.stat().st_size for path in files),
        "native_libraries": [str(path) for path in libraries],
        "native_bytes": sum(path.stat().st_size for path in libraries),
        "handler_bytes": sum(path.stat().st_size for path in handler),
        "installed_bytes": sum(path.stat().st_size for path, _ in everything),
        "zip_bytes": zipped_size(everything),
    }


def our_package_size(bootstrap: Path) -> Dict[str, object]:
    return {"bootstrap_bytes": bootstrap.stat().st_size, "zip_bytes": zipped_size([(bootstrap, "bootstrap")])}


# ---------------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------------

def mb(value: float) -> str:
    return "%.2f MB" % (value / 1e6)


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
    print("\npackage: ours %s zipped (%s bootstrap); python handler + layer %s zipped, %s installed "
          "(%s python files of %s, %s native libraries: %s)"
          % (mb(ours_size["zip_bytes"]), mb(ours_size["bootstrap_bytes"]), mb(python_size["zip_bytes"]),
             mb(python_size["installed_bytes"]), mb(python_size["python_bytes"]), ", ".join(python_size["packages"]),
             mb(python_size["native_bytes"]), ", ".join(Path(p).name for p in python_size["native_libraries"])))
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
        bootstrap = args.bootstrap.resolve() if args.bootstrap else publish(work)
        model = train(work)
        s3rver, endpoint = start_s3rver(work, model)
        candidates = functions(bootstrap, endpoint, work / "scaler.joblib")
        events = {"1 customer": event(1, 1), "batch of 1,000 customers": event(1000, 2)}
        warm_results = warm(candidates, events, args.requests)
        cold_results = cold(candidates, events["1 customer"], args.cold_runs)
        figures = report([c.name for c in candidates], warm_results, cold_results, our_package_size(bootstrap),
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
