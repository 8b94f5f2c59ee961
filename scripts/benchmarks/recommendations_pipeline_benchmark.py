"""Benchmark of the recommendations pipeline end to end THROUGH THE LOCAL RUNNER: the synthesized pipeline definition
executed as it is in local mode (s3rver for S3, dynalite for the serving table, every step a process with the
SageMaker path contract), on generated B2B data at several sizes.

    /usr/bin/python3 scripts/benchmarks/recommendations_pipeline_benchmark.py \
        [--sizes 50000:5000:2000 500000:50000:2000] [--seed 11] [--keep DIR]

Per size (invoice rows:customers:products): the data from sample_data.b2b, then one runner process with the data
uploaded to its local S3 and the Input* parameters pointing at it. Reported per step: the runner's duration (the
step's process plus the runner's S3 transfers around it) and the step's peak resident memory (the PeakMemoryMB metric
line every step prints last, from getrusage); end to end is the runner process's wall time from start to exit,
including its start-up, s3rver and dynalite. Growth is the ratio of the largest size to the smallest.
Targets of issue 8: the largest size end to end <= 120 s and every step <= 2048 MB on this 2-core machine.
The app is synthesized as the run command does it (.work/cdk.out.local, functions bundled for this CPU).

In the same run, on the inputs the runner gave each size's Associations step, association mining by sparse matrix
products (the step's) against a straightforward pandas self-join of baskets (the IPRE seed's approach), `--repeats`
times each, medians: "mining" is from basket sessions to filtered rules (frequency floor, counting, metrics, MinLift),
where the two approaches differ; "with sessionisation" adds the shared sessionising. Both must produce the same rules
(to 1e-9). The self-join counts every pair of every basket and applies the frequency floor to the counted pairs, as
the seed describes its filters; the sparse version prunes infrequent products first (a pair is never more frequent
than either product, so the result is the same). Target: mining >= 10x faster.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "scripts" / "recommendations"
sys.path[:0] = [str(CODE), str(ROOT / "scripts")]

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import associations  # noqa: E402  (needs the path above)
import pipeline_io  # noqa: E402
import pipeline_parameters as params  # noqa: E402

RUNNER = ROOT / "infra" / "LocalPipelineRunner" / "bin" / "Release" / "net10.0" / "LocalPipelineRunner.dll"
INPUTS = ("customers", "products", "invoices", "feedback")
BUCKET = "benchmark-input"
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


def compare(step_input: Path, repeats: int) -> Dict[str, float]:
    """Both approaches on the inputs the runner gave the Associations step (its <processing>/input folder)."""
    lines = associations.read_lines(step_input / "invoices" / "invoices.csv")
    clusters = pipeline_io.read_customer_clusters(step_input / "model")
    reference = associations.read_reference_date(step_input / "reference" / "basket_report.json")
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


def synthesize(out: Path) -> None:
    """The run command's synthesis (functions bundled for this CPU), into its folder, so the native builds it holds are
    reused: the runner uploads every asset of the stack, and an unbundled function asset is its whole project folder."""
    architecture = {"x86_64": "x86_64", "aarch64": "arm64"}[platform.machine()]
    command = "source scripts/env.sh && npx --no-install cdk synth --quiet --no-version-reporting --output %s -c %s" % (
        shlex.quote(str(out)), shlex.quote("deployment:lambdaArchitecture=" + architecture))
    subprocess.run(["bash", "-c", command], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def recommendations_pipeline(cdk_out: Path) -> str:
    for template in cdk_out.glob("*.template.json"):
        resources = json.loads(template.read_text(encoding="utf-8"))["Resources"]
        for logical_id, resource in resources.items():
            if resource["Type"] == "AWS::SageMaker::Pipeline" and logical_id.startswith("Recommendations"):
                return logical_id
    raise SystemExit("no recommendations pipeline in %s" % cdk_out)


def generate(size: Tuple[int, int, int], seed: int, out: Path) -> None:
    invoices, customers, products = size
    # Feedback on half the customers' products, so the feedback step has real work (uploaded with the inputs).
    subprocess.run([sys.executable, "-m", "sample_data.b2b", "--invoices", str(invoices), "--customers",
                    str(customers), "--products", str(products), "--seed", str(seed), "--out", str(out),
                    "--feedback-rows", str(customers // 2)],
                   cwd=ROOT / "scripts", check=True, stdout=subprocess.DEVNULL)


def run_pipeline(cdk_out: Path, pipeline: str, data: Path, work: Path) -> Tuple[float, Path]:
    command = ["dotnet", str(RUNNER), "--cdk-out", str(cdk_out), "--pipeline", pipeline, "--work-dir", str(work),
               "--param", "ModelApprovalStatus=Approved"]
    for name in INPUTS:
        uri = "s3://%s/%s/%s.csv" % (BUCKET, name, name)
        command += ["--upload", "%s=%s" % (data / name / ("%s.csv" % name), uri),
                    "--param", "Input%s=s3://%s/%s/" % (name.capitalize(), BUCKET, name)]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit("the runner failed (exit %d):\n%s" % (result.returncode, result.stdout[-4000:]))
    records = sorted(work.glob("*/execution.json"), key=lambda p: p.stat().st_mtime)
    return wall, records[-1]


def steps(record: Path) -> List[Dict[str, object]]:
    execution = json.loads(record.read_text(encoding="utf-8"))
    rows = []
    for step in execution["Steps"]:
        if step["StepStatus"] == "NotExecuted":
            continue
        stdout = record.parent / step["StepName"] / "stdout.log"
        peaks = [json.loads(line)["value"] for line in stdout.read_text(encoding="utf-8").splitlines()
                 if line.startswith('{"metric": "PeakMemoryMB"')] if stdout.is_file() else []
        rows.append({"step": step["StepName"], "seconds": float(step["DurationSeconds"]),
                     "peak_mb": peaks[-1] if peaks else None})
    return rows


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["50000:5000:2000", "500000:50000:2000"],
                        help="invoice rows:customers:products per run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path, help="keep data and step folders here instead of a temporary folder")
    args = parser.parse_args(argv)
    sizes = [tuple(int(part) for part in size.split(":")) for size in args.sizes]
    print("host: %d CPUs, load average %.1f; python %s; numpy %s, pandas %s, scipy %s"
          % (os.cpu_count(), os.getloadavg()[0], sys.version.split()[0], np.__version__, pd.__version__,
             __import__("scipy").__version__), flush=True)
    subprocess.run(["dotnet", "build", str(ROOT / "infra" / "LocalPipelineRunner"), "-c", "Release", "--nologo",
                    "--verbosity", "quiet"], check=True, stdout=subprocess.DEVNULL)
    cdk_out = ROOT / ".work" / "cdk.out.local"
    synthesize(cdk_out)
    pipeline = recommendations_pipeline(cdk_out)
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        base = args.keep or Path(scratch)
        for size in sizes:
            data, work = base / ("data-%d" % size[0]), base / ("work-%d" % size[0])
            generate(size, args.seed, data)
            wall, record = run_pipeline(cdk_out, pipeline, data, work)
            comparison = compare(record.parent / "Associations" / "opt" / "ml" / "processing" / "input", args.repeats)
            results.append((size, wall, steps(record), comparison))
    for (invoices, customers, products), wall, rows, comparison in results:
        print("\n%s invoice rows, %s customers, %s products: end to end %.2f s through the runner"
              % (f"{invoices:,}", f"{customers:,}", f"{products:,}", wall))
        for row in rows:
            peak = "%8.0f MB" % row["peak_mb"] if row["peak_mb"] is not None else "   (no process)"
            print("  %-20s %7.2f s %s" % (row["step"], row["seconds"], peak))
        print("  association mining, median of %d (self-join %d), same %d rules to 1e-9:"
              % (args.repeats, max(1, args.repeats // 2), comparison["rules"]))
        print("    sparse matrix products %8.3f s   pandas self-join %8.3f s   ratio %.1fx  (%d basket-product rows, "
              "%d self-join pair rows)" % (comparison["sparse"], comparison["self_join"],
                                           comparison["self_join"] / comparison["sparse"],
                                           comparison["presence_rows"], comparison["self_join_rows"]))
        print("    with the shared sessionisation (%.3f s): %.3f s vs %.3f s, ratio %.1fx"
              % (comparison["sessions"], comparison["sessions"] + comparison["sparse"],
                 comparison["sessions"] + comparison["self_join"],
                 (comparison["sessions"] + comparison["self_join"]) / (comparison["sessions"] + comparison["sparse"])))
    if len(results) > 1:
        (small_size, small_wall, small, _), (large_size, large_wall, large, _) = results[0], results[-1]
        print("\ngrowth %d -> %d invoice rows (x%.0f): end to end x%.1f"
              % (small_size[0], large_size[0], large_size[0] / small_size[0], large_wall / small_wall))
        for before, after in zip(small, large):
            if before["peak_mb"]:
                print("  %-20s time x%5.1f  memory x%.1f" % (before["step"], after["seconds"] / before["seconds"],
                                                             after["peak_mb"] / before["peak_mb"]))
    size, wall, rows, _ = results[-1]
    peak = max(row["peak_mb"] or 0 for row in rows)
    met_time = wall <= TARGET_SECONDS and peak <= TARGET_MB
    ratios = [comparison["self_join"] / comparison["sparse"] for _, _, _, comparison in results]
    met_ratio = all(ratio >= TARGET_SPEEDUP for ratio in ratios)
    print("\ntarget %d invoice rows end to end <= %.0f s and every step <= %.0f MB: %s (%.1f s, %.0f MB)"
          % (size[0], TARGET_SECONDS, TARGET_MB, "met" if met_time else "MISSED", wall, peak))
    print("target association mining >= %.0fx faster than the self-join: %s (%s)"
          % (TARGET_SPEEDUP, "met" if met_ratio else "MISSED", ", ".join("%.1fx" % ratio for ratio in ratios)))
    return 0 if met_time and met_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
