"""Benchmark of the recommendations steps: association mining by sparse matrix products against a straightforward pandas
self-join of baskets (the IPRE seed's approach) on the same data, and every step's wall time and peak memory.

    /usr/bin/python3 scripts/benchmarks/associations_benchmark.py [--sizes 50000:5000:2000 500000:50000:2000] \
        [--repeats 5] [--seed 11]

Per size (invoice rows:customers:products) the data comes from sample_data.b2b in a child process, then each step
runs as its own child process with the specification's default parameters, exactly the command the pipeline runs
(MarketBasket, TrainClustering, model.tar.gz packing, Associations, Ranking, FeedbackCalibration, and Publish into
dynalite started from node_modules, much slower than DynamoDB); its peak resident memory is that child's ru_maxrss
from os.wait4. End to end is the sum of the steps (the local runner's S3 transfers around them are not included).

The comparison runs in this process on the step's own sessions (the shared basket_presence), `--repeats` times each,
and reports medians: "mining" is from basket sessions to filtered rules (frequency floor, counting, metrics, MinLift),
where the two approaches differ; "step" adds the shared sessionisation. Both must produce the same rules (to 1e-9).
The self-join counts every pair of every basket and applies the frequency floor to the counted pairs, as the seed
describes its filters; the sparse version prunes infrequent products first (a pair is never more frequent than
either product, so the result is the same). Targets: mining >= 10x faster; the largest size end to end <= 120 s and
<= 2048 MB per step.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "scripts" / "recommendations"
sys.path[:0] = [str(CODE), str(ROOT / "scripts")]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import associations  # noqa: E402  (needs the path above)
import pipeline_io  # noqa: E402
import pipeline_parameters as params  # noqa: E402

TARGET_SECONDS = 120.0
TARGET_MB = 2048.0
TARGET_SPEEDUP = 10.0
ASSOCIATION_DEFAULTS = params.validate({p.name: p.default for p in params.consumed_by("Associations")})


def self_join_rules(presence: pd.DataFrame, values: Dict[str, object]) -> pd.DataFrame:
    """The seed's approach: every pair of products of every basket by a pandas self-join, counted with groupby; then
    the frequency floor and the same metrics and MinLift as the step."""
    pairs = presence[["basket", "cluster_id", "segment", "product_id", "weight"]].merge(
        presence[["basket", "product_id"]], on="basket", suffixes=("_a", "_b"))
    pairs = pairs[pairs["product_id_a"] != pairs["product_id_b"]]
    counts = pairs.groupby(["cluster_id", "segment", "product_id_a", "product_id_b"], sort=False).agg(
        pair_freq=("basket", "size"), weighted_pair_freq=("weight", "sum")).reset_index()
    freq = presence.groupby(["cluster_id", "product_id"]).size()
    baskets = presence.groupby("cluster_id")["basket"].nunique()
    counts["product_a_freq"] = freq.reindex(pd.MultiIndex.from_frame(
        counts[["cluster_id", "product_id_a"]])).to_numpy()
    counts["product_b_freq"] = freq.reindex(pd.MultiIndex.from_frame(
        counts[["cluster_id", "product_id_b"]])).to_numpy()
    floor = np.maximum(values["MinAbsFreq"], values["MinFreqRatio"] * baskets.reindex(counts["cluster_id"]).to_numpy())
    counts = counts[(counts["product_a_freq"] >= floor) & (counts["product_b_freq"] >= floor)]
    counts = counts.rename(columns={"product_id_a": "product_a", "product_id_b": "product_b"})
    return associations.rule_metrics(counts, baskets, values["MinLift"])


def sparse_rules(presence: pd.DataFrame, values: Dict[str, object]) -> pd.DataFrame:
    frequent, baskets = associations.frequent_items(presence, values["MinAbsFreq"], values["MinFreqRatio"])
    return associations.rule_metrics(associations.count_pairs(frequent), baskets, values["MinLift"])


def timed(action: Callable[[], object], repeats: int) -> Tuple[float, object]:
    seconds = []
    result = None
    for _ in range(repeats):
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def compare(work: Path, repeats: int) -> Dict[str, float]:
    lines = associations.read_lines(work / "basket" / "invoices" / "invoices.csv")
    clusters = pipeline_io.read_customer_clusters(work / "packed")
    reference = associations.read_reference_date(work / "basket" / "reference" / "basket_report.json")
    values = ASSOCIATION_DEFAULTS

    def presence() -> pd.DataFrame:
        return associations.basket_presence(lines, clusters, values["WindowDays"], reference,
                                            values["DecayLambda"])[0]

    session_seconds, baskets = timed(presence, repeats)
    sparse_seconds, sparse = timed(lambda: sparse_rules(baskets, values), repeats)
    join_seconds, joined = timed(lambda: self_join_rules(baskets, values), max(1, repeats // 2))
    key = ["cluster_id", "product_a", "product_b"]
    left, right = sparse.sort_values(key, ignore_index=True), joined.sort_values(key, ignore_index=True)
    if not left[key].equals(right[key]):
        raise AssertionError("the two approaches found different rules: %d vs %d" % (len(left), len(right)))
    for column in ("support", "weighted_support", "confidence", "lift"):
        np.testing.assert_allclose(left[column], right[column], rtol=0, atol=1e-9, err_msg=column)
    pair_rows = int(baskets.groupby("basket").size().pow(2).sum() - len(baskets))
    return {"sessions": session_seconds, "sparse": sparse_seconds, "self_join": join_seconds, "rules": len(sparse),
            "presence_rows": len(baskets), "self_join_rows": pair_rows}


def run_child(command: List[str], cwd: Path, env: Dict[str, str] = None) -> Tuple[float, float]:
    """Wall seconds and peak resident MB of one child process; fails on a non-zero exit."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=str(cwd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed:\n%s" % (" ".join(command), output))
    return seconds, usage.ru_maxrss / 1024.0


def pack(model_dir: Path, archive: Path) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.iterdir()):
            tar.add(path, arcname=path.name)


@contextlib.contextmanager
def dynalite_table(name: str) -> Iterator[Dict[str, str]]:
    """dynalite (the repository's npm copy) on a free loopback port with the serving table's layout; yields the
    environment that points the AWS SDK at it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["node", str(ROOT / "node_modules" / "dynalite" / "cli.js"), "--host", "127.0.0.1",
                               "--port", str(port), "--createTableMs", "0"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dynalite did not start (node and node_modules/dynalite are needed)")
                time.sleep(0.05)
        env = dict(os.environ, AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:%d" % port, AWS_ACCESS_KEY_ID="local",
                   AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1")
        import boto3

        boto3.client("dynamodb", endpoint_url=env["AWS_ENDPOINT_URL_DYNAMODB"], region_name="us-east-1",
                     aws_access_key_id="local", aws_secret_access_key="local").create_table(
            TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        yield env
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_steps(data: Path, work: Path) -> Dict[str, Tuple[float, float]]:
    python = sys.executable
    steps: Dict[str, Tuple[float, float]] = {}
    steps["MarketBasket"] = run_child([python, str(CODE / "market_basket.py"), "--customers", str(data / "customers"),
                                       "--products", str(data / "products"), "--invoices", str(data / "invoices"),
                                       "--output-dir", str(work / "basket")], work)
    steps["TrainClustering"] = run_child(
        [python, str(CODE / "train_clustering.py")], work,
        dict(os.environ, SM_CHANNEL_BASKET=str(work / "basket" / "basket"), SM_MODEL_DIR=str(work / "model")))
    started = time.perf_counter()
    pack(work / "model", work / "packed" / "model.tar.gz")
    steps["pack model.tar.gz"] = (time.perf_counter() - started, 0.0)
    steps["Associations"] = run_child([python, str(CODE / "associations.py"), "--model-dir", str(work / "packed"),
                                       "--invoices", str(work / "basket" / "invoices" / "invoices.csv"),
                                       "--reference", str(work / "basket" / "reference" / "basket_report.json"),
                                       "--output-dir", str(work / "associations")], work)
    steps["Ranking"] = run_child([python, str(CODE / "ranking.py"),
                                  "--basket", str(work / "basket" / "basket" / "market_basket.csv"),
                                  "--model-dir", str(work / "packed"),
                                  "--associations", str(work / "associations" / "associations.csv"),
                                  "--output-dir", str(work / "ranking")], work)
    steps["FeedbackCalibration"] = run_child([python, str(CODE / "feedback_calibration.py"),
                                              "--feedback-uri", str(data / "feedback"),
                                              "--recommendations", str(work / "ranking"),
                                              "--reference", str(work / "basket" / "reference"),
                                              "--output-dir", str(work / "final")], work)
    with dynalite_table("recommendations") as env:
        steps["Publish (dynalite)"] = run_child([python, str(CODE / "publish.py"), "--table-name", "recommendations",
                                                 "--run-id", "benchmark", "--final",
                                                 str(work / "final" / "final" / "recommendations.csv")], work, env)
    return steps


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["50000:5000:2000", "500000:50000:2000"],
                        help="invoice rows:customers:products per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    print("host: %d CPUs, load average %.1f; python %s; numpy %s, pandas %s, scipy %s"
          % (os.cpu_count(), os.getloadavg()[0], sys.version.split()[0], np.__version__, pd.__version__,
             __import__("scipy").__version__), flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            invoices, customers, products = (int(part) for part in size.split(":"))
            data, work = Path(scratch) / ("data%d" % invoices), Path(scratch) / ("work%d" % invoices)
            work.mkdir()
            # Generated in a child: Linux carries a process's peak RSS across fork and exec, so data held here would
            # be counted in every step's ru_maxrss.
            subprocess.run([sys.executable, "-m", "sample_data.b2b", "--invoices", str(invoices), "--customers",
                            str(customers), "--products", str(products), "--seed", str(args.seed), "--out", str(data),
                            "--feedback-rows", str(customers // 2)],
                           cwd=str(ROOT / "scripts"), check=True, stdout=subprocess.DEVNULL)
            steps = run_steps(data, work)
            total = sum(seconds for seconds, _ in steps.values())
            peak = max(mb for _, mb in steps.values())
            print("\n%s invoice rows, %s customers, %s products:" % (f"{invoices:,}", f"{customers:,}",
                                                                     f"{products:,}"))
            for name, (seconds, mb) in steps.items():
                print("  %-20s %7.2f s  %8s" % (name, seconds, "%.0f MB" % mb if mb else "(in process)"))
            print("  %-20s %7.2f s  %5.0f MB peak step" % ("end to end", total, peak))
            comparison = compare(work, args.repeats)
            ratio = comparison["self_join"] / comparison["sparse"]
            step_ratio = (comparison["sessions"] + comparison["self_join"]) / (comparison["sessions"]
                                                                               + comparison["sparse"])
            print("  association mining, median of %d (self-join %d), same %d rules to 1e-9:"
                  % (args.repeats, max(1, args.repeats // 2), comparison["rules"]))
            print("    sparse matrix products %8.3f s   pandas self-join %8.3f s   ratio %.1fx  (%d basket-product "
                  "rows, %d self-join pair rows)" % (comparison["sparse"], comparison["self_join"], ratio,
                                                     comparison["presence_rows"], comparison["self_join_rows"]))
            print("    with the shared sessionisation (%.3f s): %.3f s vs %.3f s, ratio %.1fx"
                  % (comparison["sessions"], comparison["sessions"] + comparison["sparse"],
                     comparison["sessions"] + comparison["self_join"], step_ratio))
            results[invoices] = {"steps": steps, "total": total, "peak": peak, "ratio": ratio}
    sizes = sorted(results)
    if len(sizes) >= 2:
        small, large = results[sizes[0]], results[sizes[-1]]
        print("\ngrowth %d -> %d invoice rows (x%.0f):" % (sizes[0], sizes[-1], sizes[-1] / sizes[0]))
        for name in small["steps"]:
            (s0, m0), (s1, m1) = small["steps"][name], large["steps"][name]
            print("  %-20s time x%5.1f  memory %s" % (name, s1 / s0, "x%.1f" % (m1 / m0) if m0 else "-"))
        print("  %-20s time x%5.1f" % ("end to end", large["total"] / small["total"]))
    largest = results[sizes[-1]]
    met_time = largest["total"] <= TARGET_SECONDS and largest["peak"] <= TARGET_MB
    met_ratio = all(r["ratio"] >= TARGET_SPEEDUP for r in results.values())
    print("\ntarget %d invoice rows end to end <= %.0f s and <= %.0f MB: %s (%.1f s, %.0f MB)"
          % (sizes[-1], TARGET_SECONDS, TARGET_MB, "met" if met_time else "MISSED", largest["total"],
             largest["peak"]))
    print("target association mining >= %.0fx faster than the self-join: %s (%s)"
          % (TARGET_SPEEDUP, "met" if met_ratio else "MISSED",
             ", ".join("%.1fx" % results[s]["ratio"] for s in sizes)))
    return 0 if met_time and met_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
