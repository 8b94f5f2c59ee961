"""RecommendationsApi (native AOT bootstrap reading the serving table) against the seed's serving design (a Python
process that loads the final recommendations CSV with pandas at start-up and filters it per request), side by side in
one run, on the same pipeline output, both behind a loopback Lambda Runtime API:

    /usr/bin/python3 scripts/benchmarks/recommendations_api_benchmark.py [--size 500000:50000:2000] [--seed 11] \
        [--requests 2000] [--cold-runs 20] [--bootstrap PATH] [--keep DIR | --pipeline-work DIR] [--json FILE]

  data                  sample_data.b2b at --size (invoice rows:customers:products) through the recommendations
                        pipeline in the local runner (recommendations_pipeline_benchmark.py's generate, synthesize,
                        run_pipeline). Both designs serve its Publish step's input: ours the serving table that the
                        real scripts/recommendations/publish.py loads into dynalite (loopback, tables as the stack
                        makes them) with the arguments the pipeline gave the step; the baseline
                        final/recommendations.csv.
  per-request overhead  GET /recommendations/{customerId} API Gateway proxy events for --requests random customers
                        with recommendations, each handed to both functions, served alternately, one request at a
                        time, after 30 warm-ups each. Ours: in-handler without the table read (its "Request served."
                        line's totalMs - tableMs), the table read (tableMs: one BatchGetItem to dynalite once the
                        current-run pointer is cached), in-handler with it (totalMs). The baseline: the filter
                        (filterMs: a boolean mask over every row, then the rows by rank) and its handler (filter +
                        answer, totalMs). Both: "function", the Runtime API handing the event out -> the response
                        arriving (what Lambda bills and the caller waits for). Medians and p99 (nearest rank). Each
                        pair of answers must name the same products, ranks and scores, or the run fails.
  cold start            process spawn -> first response posted (lambda_harness.cold), median of --cold-runs, the two
                        alternating run by run. Ours includes the pointer read and the customer's BatchGetItem; the
                        baseline importing pandas and loading the CSV (from local disk: the seed's endpoint read it
                        from S3, a transfer left out in the baseline's favour).
  memory                each process's peak resident memory after the warm requests (what Lambda's memory size must
                        hold).
  package size          our bootstrap zipped as Lambda receives it, against the handler plus pandas, numpy and what
                        they import as a layer, measured from Debian's installed packages
                        (lambda_harness.python_package_size).

Equal terms: ours answers more (run_id, published_at, segment, cold_start) and validates the customer id; the baseline
gets the CSV from disk and its Runtime API loop is the minimal one of python_scaler_lambda. POINTER_CACHE_SECONDS is
the function's default (30 s), so a warm answer is one table request, and now and then two when the pointer is read
again (the mean is printed). dynalite is a Node.js process on this host, not DynamoDB: the table-read figures are
loopback figures; the in-handler figures without it are the function's own. The machine may be shared with other
builds: the CPU count and load average are printed at the start, after the preparation and at the end.
Needs Debian's python3 (pandas, boto3), node with the repository's dynalite, and the .NET SDK (the runner; the
bootstrap unless --bootstrap names one). Exits 0 whenever the measurement itself succeeded (issue 9 sets no target).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import lambda_harness as harness  # noqa: E402
import recommendations_pipeline_benchmark as pipeline_benchmark  # noqa: E402
from lambda_harness import ROOT, Function, WarmRun, percentile, served, values_of  # noqa: E402

BASELINE = HERE / "python_recommendations_lambda"
PUBLISH = ROOT / "scripts" / "recommendations" / "publish.py"
SERVING_TABLE = "recommendations-serving"
FEEDBACK_TABLE = "recommendations-feedback"
REGION = "us-east-1"
CUSTOMER_ROUTE = "/recommendations/{customerId}"
FILTERED = "Customer filtered."
OURS, PYTHON = "RecommendationsApi (native AOT) + dynalite", "Python + pandas over the CSV"
# Debian packages behind `import pandas; pandas.read_csv(...)` (python3-pandas's dependencies that it imports; the
# recommended ones, scipy and the like, are optional): what a Lambda layer would have to carry.
LAYER_PACKAGES = ("python3-pandas", "python3-pandas-lib", "python3-numpy", "python3-dateutil", "python3-tz",
                  "python3-six")
# publish.py's input arguments, against the Publish step's input folders (the container's /opt/ml/processing/input).
PUBLISH_INPUTS = (("--final", "final/recommendations.csv"), ("--reference", "reference"),
                  ("--invoices", "invoices/invoices.csv"), ("--ranking-report", "ranking/ranking_report.json"),
                  ("--feedback-summary", "feedback/feedback_summary.json"))


# ---------------------------------------------------------------------------------------------------------------------
# The pipeline output, the serving table, the two functions
# ---------------------------------------------------------------------------------------------------------------------

def pipeline_output(size: Tuple[int, int, int], seed: int, base: Path) -> Path:
    """Data at `size` through the local runner, as recommendations_pipeline_benchmark.py runs it; the execution.json."""
    harness.run(["dotnet", "build", str(ROOT / "infra" / "LocalPipelineRunner"), "-c", "Release", "--nologo",
                 "--verbosity", "quiet"])
    cdk_out = ROOT / ".work" / "cdk.out.local"
    pipeline_benchmark.synthesize(cdk_out)
    data = base / "data"
    pipeline_benchmark.generate(size, seed, data)
    wall, record = pipeline_benchmark.run_pipeline(cdk_out, pipeline_benchmark.recommendations_pipeline(cdk_out), data,
                                                   base / "work")
    print("pipeline: %s invoice rows, %s customers, %s products through the local runner in %.1f s (%s)"
          % (f"{size[0]:,}", f"{size[1]:,}", f"{size[2]:,}", wall, record.parent.name), flush=True)
    return record


def latest_execution(work: Path) -> Path:
    records = sorted(work.glob("*/execution.json"), key=lambda path: path.stat().st_mtime)
    if not records:
        raise SystemExit("no */execution.json under %s: give --pipeline-work the work folder of a --keep run" % work)
    return records[-1]


def publish_step(record: Path) -> Tuple[Dict[str, object], Path]:
    """The Publish step of the execution (it must have succeeded) and its input folder."""
    execution = json.loads(record.read_text(encoding="utf-8"))
    step = next((s for s in execution["Steps"] if s["StepName"] == "Publish"), None)
    if step is None or step["StepStatus"] != "Succeeded":
        raise SystemExit("the Publish step of %s did not succeed: %s" % (record, step and step["StepStatus"]))
    return step, record.parent / "Publish" / "opt" / "ml" / "processing" / "input"


def publish_arguments(step: Dict[str, object], inputs: Path, failure: Path) -> List[str]:
    """The pipeline's arguments for publish.py with this benchmark's table, no manifest (there is no S3 here), and the
    inputs from the step's folder instead of /opt/ml/processing/input."""
    given = step["Metadata"]["AppSpecification"]["ContainerArguments"]
    arguments: List[str] = []
    for name, value in zip(given[::2], given[1::2]):
        if name == "--table-name":
            value = SERVING_TABLE
        if name != "--manifest-uri":
            arguments += [name, value]
    for name, relative in PUBLISH_INPUTS:
        arguments += [name, str(inputs / relative)]
    return arguments + ["--failure-file", str(failure)]


def local_aws(endpoint: str) -> Dict[str, str]:
    """The environment of a process that talks to dynalite: fake credentials, region, endpoint; no other AWS_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local", "AWS_ENDPOINT_URL_DYNAMODB": endpoint})
    return env


def start_dynalite() -> Tuple[subprocess.Popen, str]:
    """dynalite on loopback, in memory, with the serving table (pk S) and the feedback table (idempotency_key S) as
    the stack creates them (on demand; no TTL, which dynalite does not implement)."""
    port = harness.free_port()
    process = harness.start_server(["node", str(harness.node_entry("dynalite/cli.js")), "--host", "127.0.0.1", "--port",
                                    str(port), "--createTableMs", "0"], port)
    endpoint = "http://127.0.0.1:%d" % port
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="local",
                          aws_secret_access_key="local")
    for table, key in ((SERVING_TABLE, "pk"), (FEEDBACK_TABLE, "idempotency_key")):
        client.create_table(TableName=table, KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
                            AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
                            BillingMode="PAY_PER_REQUEST")
        while client.describe_table(TableName=table)["Table"]["TableStatus"] != "ACTIVE":
            time.sleep(0.05)
    return process, endpoint


def publish(step: Dict[str, object], inputs: Path, endpoint: str, work: Path) -> float:
    """The real publish.py into dynalite; its wall time."""
    started = time.perf_counter()
    harness.run([sys.executable, str(PUBLISH)] + publish_arguments(step, inputs, work / "publish-failure"),
                env=local_aws(endpoint))
    return time.perf_counter() - started


def event(customer_id: str) -> bytes:
    """GET /recommendations/{customerId} as API Gateway's REST proxy integration sends it."""
    return json.dumps({
        "resource": CUSTOMER_ROUTE, "path": "/recommendations/" + customer_id, "httpMethod": "GET",
        "headers": {"Accept": "application/json"}, "queryStringParameters": None,
        "pathParameters": {"customerId": customer_id},
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod", "httpMethod": "GET",
                           "resourcePath": CUSTOMER_ROUTE},
        "body": None, "isBase64Encoded": False}).encode("utf-8")


def functions(bootstrap: Path, endpoint: str, csv: Path) -> List[Function]:
    ours = dict(local_aws(endpoint), RECOMMENDATIONS_TABLE_NAME=SERVING_TABLE, FEEDBACK_TABLE_NAME=FEEDBACK_TABLE,
                LAMBDA_TASK_ROOT=str(bootstrap.parent))
    python = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    python.update({"AWS_REGION": REGION, "RECOMMENDATIONS_CSV": str(csv), "LAMBDA_TASK_ROOT": str(BASELINE),
                   "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"})
    return [Function(OURS, [str(bootstrap)], ours),
            Function(PYTHON, [sys.executable, str(harness.PYTHON_RUNTIME_LOOP), "handler.handler"], python)]


# ---------------------------------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------------------------------

def ranked(answer: bytes) -> List[Tuple[str, int, float]]:
    """(product, rank, score) of a 200 answer, in order."""
    body = json.loads(json.loads(answer)["body"])
    return [(item["product_id"], item["rank"], item["score"]) for item in body["recommendations"]]


def check_same_answers(customers: Sequence[str], ours: WarmRun, python: WarmRun) -> None:
    for index, (mine, theirs) in enumerate(zip(ours.answers, python.answers)):
        a, b = ranked(mine), ranked(theirs)
        if [x[:2] for x in a] != [x[:2] for x in b] or any(abs(x[2] - y[2]) > 1e-9 for x, y in zip(a, b)):
            raise RuntimeError("customer %s: ours answered %s, the baseline %s"
                               % (customers[index % len(customers)], a, b))


def summary(values: Sequence[float]) -> Dict[str, float]:
    return {"median_ms": statistics.median(values), "p99_ms": percentile(values, 0.99), "requests": len(values)}


def per_request(ours: WarmRun, python: WarmRun, requests: int) -> Dict[str, Dict[str, float]]:
    handled, python_handled = served(ours.logs), served(python.logs)
    filtered = served(python.logs, FILTERED)
    for name, documents in (("ours", handled), ("python", python_handled), ("python filter", filtered)):
        if len(documents) != requests:
            raise RuntimeError("%s: %d log lines for %d requests" % (name, len(documents), requests))
    if any(document.get("statusCode") != 200 for document in handled):
        raise RuntimeError("ours logged a status other than 200: %s" % handled[:3])
    total, table = values_of(handled, "totalMs"), values_of(handled, "tableMs")
    return {
        "ours_handler_without_table": summary([t - r for t, r in zip(total, table)]),
        "ours_table_read": dict(summary(table),
                                table_requests_mean=statistics.mean(values_of(handled, "tableRequests"))),
        "ours_handler": summary(total),
        "ours_function": summary(ours.function_ms),
        "python_filter": summary(values_of(filtered, "filterMs")),
        "python_handler": summary(values_of(python_handled, "totalMs")),
        "python_function": summary(python.function_ms),
    }


RATIO_PAIRS = {
    "python filter / ours in-handler, table read excluded": ("python_filter", "ours_handler_without_table"),
    "python filter / ours in-handler, table read included": ("python_filter", "ours_handler"),
    "python in-handler / ours in-handler, table read included": ("python_handler", "ours_handler"),
    "python function / ours function": ("python_function", "ours_function"),
}


def report(figures: Dict[str, object]) -> None:
    warm = figures["per_request"]
    data = figures["data"]
    print("\nper-request overhead: %s warm GET %s, random customers with recommendations, the two alternating (ms)"
          % (f"{warm['ours_function']['requests']:,}", CUSTOMER_ROUTE))
    print("%-70s %10s %10s" % ("", "median", "p99"))
    rows = (("ours_handler_without_table", "ours    in-handler, table read excluded (totalMs - tableMs)"),
            ("ours_table_read", "ours    table read (tableMs; %.3f table requests per answer)"
             % warm["ours_table_read"]["table_requests_mean"]),
            ("ours_handler", "ours    in-handler, table read included (totalMs)"),
            ("ours_function", "ours    function (Runtime API hand-out -> response)"),
            ("python_filter", "python  filter (filterMs: mask over %s rows, by rank)" % f"{data['csv_rows']:,}"),
            ("python_handler", "python  in-handler, filter + answer (totalMs)"),
            ("python_function", "python  function (Runtime API hand-out -> response)"))
    for key, label in rows:
        print("%-70s %10.3f %10.3f" % (label, warm[key]["median_ms"], warm[key]["p99_ms"]))
    print("ratios, python / ours (median; p99):")
    for label, (theirs, ours) in figures["ratio_pairs"].items():
        print("  %-68s %9.1fx %9.1fx" % (label, warm[theirs]["median_ms"] / warm[ours]["median_ms"],
                                         warm[theirs]["p99_ms"] / warm[ours]["p99_ms"]))

    cold = figures["cold"]
    a, b = cold[OURS], cold[PYTHON]
    print("\ncold start, spawn -> first response, median of %d (ms): ours %.1f (min %.1f, max %.1f), python %.1f "
          "(min %.1f, max %.1f): %.1fx" % (a["runs"], a["median_ms"], a["min_ms"], a["max_ms"], b["median_ms"],
                                           b["min_ms"], b["max_ms"], b["median_ms"] / a["median_ms"]))
    memory = figures["peak_rss_bytes"]
    print("peak resident memory after the warm requests: ours %s, python %s (%.1fx)"
          % (harness.mb(memory[OURS]), harness.mb(memory[PYTHON]), memory[PYTHON] / memory[OURS]))
    ours_size, python_size = figures["package"]["ours"], figures["package"]["python"]
    print("package: ours %s zipped (%s bootstrap); python handler + layer %s"
          % (harness.mb(ours_size["zip_bytes"]), harness.mb(ours_size["bootstrap_bytes"]),
             harness.python_package_line(python_size)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="500000:50000:2000", help="invoice rows:customers:products of the data")
    parser.add_argument("--seed", type=int, default=11, help="of the data and of the customers asked for")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=20)
    parser.add_argument("--bootstrap", type=Path, help="a published RecommendationsApi bootstrap; default: publish one")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--keep", type=Path, help="keep the data and the runner's folders here")
    where.add_argument("--pipeline-work", type=Path,
                       help="the runner work folder of an earlier --keep run (DIR/work): serve its latest execution "
                            "instead of generating data and running the pipeline")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    size = tuple(int(part) for part in args.size.split(":"))
    if len(size) != 3 or min(size) <= 0:
        parser.error("--size is %s; valid: three positive whole numbers, invoice rows:customers:products" % args.size)
    if args.requests < 100 or args.cold_runs < 5:
        parser.error("--requests must be >= 100 (a p99 of fewer is a maximum) and --cold-runs >= 5")

    print("command: %s" % harness.command_line())
    print("host at start: %s" % harness.conditions(), flush=True)
    work = Path(tempfile.mkdtemp(prefix="recommendations-api-benchmark-"))
    dynalite = None
    try:
        if args.pipeline_work:
            record = latest_execution(args.pipeline_work.resolve())
            print("pipeline: execution %s of %s (not run again)" % (record.parent.name, args.pipeline_work))
        else:
            record = pipeline_output(size, args.seed, (args.keep or work).resolve())
        step, inputs = publish_step(record)
        csv = inputs / "final" / "recommendations.csv"
        import pandas as pd

        customers = pd.read_csv(csv, usecols=["customer_id"], dtype=str)["customer_id"]
        data = {"execution": record.parent.name, "csv": str(csv), "csv_bytes": csv.stat().st_size,
                "csv_rows": len(customers), "customers_with_recommendations": int(customers.nunique()),
                "customers": sum(1 for _ in (inputs / "reference" / "customers.csv").open(encoding="utf-8")) - 1}
        bootstrap = args.bootstrap.resolve() if args.bootstrap else harness.publish_native(
            "lambdas/RecommendationsApi/RecommendationsApi.csproj", work)
        dynalite, endpoint = start_dynalite()
        publish_seconds = publish(step, inputs, endpoint, work)
        print("data: %s customers, %s with recommendations, %s rows in final/recommendations.csv (%s); publish.py "
              "loaded them into dynalite in %.1f s" % (f"{data['customers']:,}",
                                                      f"{data['customers_with_recommendations']:,}",
                                                      f"{data['csv_rows']:,}", harness.mb(data["csv_bytes"]),
                                                      publish_seconds))
        print("host after the preparation: %s" % harness.conditions(), flush=True)

        chosen = random.Random(args.seed)
        known = sorted(customers.unique())
        asked = [chosen.choice(known) for _ in range(args.requests)]
        candidates = functions(bootstrap, endpoint, csv)
        runs, memory = harness.warm(candidates, {"customers": [event(customer) for customer in asked]}, args.requests)
        ours, python = runs[OURS]["customers"], runs[PYTHON]["customers"]
        check_same_answers(asked, ours, python)
        figures = {
            "command": harness.command_line(), "data": data, "publish_seconds": publish_seconds,
            "per_request": per_request(ours, python, args.requests), "ratio_pairs": RATIO_PAIRS,
            "cold": harness.cold(candidates, event(chosen.choice(known)), args.cold_runs),
            "peak_rss_bytes": memory,
            "package": {"ours": harness.our_package_size(bootstrap),
                        "python": harness.python_package_size(LAYER_PACKAGES, [BASELINE / "handler.py"])},
        }
        report(figures)
        figures["host_at_end"] = harness.conditions()
        print("\nhost at end: %s" % figures["host_at_end"])
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        return 0
    finally:
        if dynalite is not None:
            dynalite.kill()
            dynalite.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
