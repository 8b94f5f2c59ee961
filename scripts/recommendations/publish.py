"""Publish step (SageMaker Processing): loads the run's final recommendations into the serving table so that a reader
never sees a mix of two runs, then names the run in the manifest.

    publish.py --table-name <table> --run-id <pipeline execution id> [--ttl-days 35] \
        [--manifest-uri s3://<data-bucket>/recommendations/latest.json] [--final-uri s3://...] [--summary-uri s3://...]

Input: <processing>/input/final/recommendations.csv (FeedbackCalibration's). The table (DynamoDB; locally dynalite)
has the string partition key `pk`, no sort key, and TTL on `expires_at`:

    pk = "run#<run id>#customer#<customer id>"  run_id, customer_id, expires_at (epoch seconds: publish time +
                                                 ttl-days), recommendations (a JSON array in rank order of
                                                 {rank, recommended_product, score, reason, ...})
    pk = "pointer"                               run_id, published_at, customers, recommendations (no expiry)

A reader gets the pointer (consistent read), then the item of its run and customer. All of a customer's
recommendations are one item, and the pointer moves to the new run only after every item of that run is written, so
a reader sees the old run or the new one, never a mix; superseded runs expire by TTL. A customer without
recommendations in a run has no item in it. The list is one JSON attribute rather than a list of maps: readers
always take a customer's whole list, and dynalite stores it about three times faster (2,465 against 778 items/s
measured). The CSV is read in chunks and the items are written with BatchWriteItem, 25 per request, from --writers
threads with a bounded number of requests in flight, retrying unprocessed items with backoff, so memory stays flat
however many customers there are. The manifest (optional) is written last: the latest published run, when, and
where its files are.

Trade-off: TTL is set when a run is written, so a run stays readable for ttl-days after it was published even when no
later run replaces it; the pipeline's weekly schedule must publish again within that time (35 days by default).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import random
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

import pandas as pd

import pipeline_io as io_

STEP = "Publish"
POINTER_KEY = "pointer"
BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_ATTEMPTS = 8
CHUNK_ROWS = 100_000
FIELDS = ("rank", "recommended_product", "score", "reason", "trigger_product", "confidence", "lift", "support",
          "weighted_support", "l2_category", "l3_category", "recommended_qty", "cluster_id", "segment",
          "feedback_weight")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = io_.processing_root(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table-name", required=True)
    parser.add_argument("--run-id", required=True, help="the pipeline execution id")
    parser.add_argument("--ttl-days", type=int, default=35)
    parser.add_argument("--writers", type=int, default=8, help="threads sending BatchWriteItem requests")
    parser.add_argument("--manifest-uri", default="", help="s3:// URI of the latest-run manifest; empty = none")
    parser.add_argument("--final-uri", default="", help="where this run's final recommendations are (manifest)")
    parser.add_argument("--summary-uri", default="", help="where this run's feedback summary is (manifest)")
    parser.add_argument("--final", type=Path, default=root / "input" / "final" / "recommendations.csv")
    parser.add_argument("--failure-file", type=Path, action="append",
                        help="where the failure reason goes (repeatable); default <ml>/output/message and "
                             "<ml>/output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = io_.default_failure_files(root)
    return args


def validate(args: argparse.Namespace) -> None:
    problems = []
    if not args.run_id.strip() or "#" in args.run_id:
        problems.append("--run-id %r must be non-empty and without '#'" % args.run_id)
    if not 1 <= args.ttl_days <= 3650:
        problems.append("--ttl-days %d must be from 1 to 3650" % args.ttl_days)
    if not 1 <= args.writers <= 64:
        problems.append("--writers %d must be from 1 to 64" % args.writers)
    if args.manifest_uri and not args.manifest_uri.startswith("s3://"):
        problems.append("--manifest-uri %r must be an s3:// URI or empty" % args.manifest_uri)
    if problems:
        raise io_.StepError("; ".join(problems))


def run_key(run_id: str, customer_id: str) -> str:
    return "run#%s#customer#%s" % (run_id, customer_id)


def client(service: str):
    import boto3

    # The boto3 of Debian and of the container predates the SDK's own AWS_ENDPOINT_URL support.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_%s" % service.upper()) or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client(service, endpoint_url=endpoint or None)


def items(final: pd.DataFrame, run_id: str, expires_at: int) -> Iterator[Tuple[Dict[str, object], int]]:
    """One DynamoDB item (attribute-value form) per customer of `final`, with its number of recommendations: the
    recommendations as one JSON array in rank order (fields without a value, such as a fallback's lift, left out)."""
    final = final.sort_values(["customer_id", "rank"], kind="mergesort")
    fields = [f for f in FIELDS if f in final.columns]
    records = final[fields].to_dict("records")
    customers = final["customer_id"].tolist()
    start = 0
    while start < len(customers):
        end = start
        while end < len(customers) and customers[end] == customers[start]:
            end += 1
        recommendations = [{k: v for k, v in record.items() if not (isinstance(v, float) and math.isnan(v))}
                           for record in records[start:end]]
        yield {"pk": {"S": run_key(run_id, customers[start])}, "run_id": {"S": run_id},
               "customer_id": {"S": customers[start]},
               "recommendations": {"S": json.dumps(recommendations, separators=(",", ":"))},
               "expires_at": {"N": str(expires_at)}}, end - start
        start = end


def customer_items(path: Path, run_id: str, expires_at: int, chunk_rows: int = CHUNK_ROWS
                   ) -> Iterator[Tuple[Dict[str, object], int]]:
    """The items of a final recommendations CSV, read in chunks so that memory does not grow with the customers.
    FeedbackCalibration writes the rows sorted by customer; a customer split by a chunk boundary is completed with
    the next chunk, and rows out of customer order fail the step."""
    carry: Optional[pd.DataFrame] = None
    previous = None
    dtypes = {"customer_id": str, "recommended_product": str, "trigger_product": str, "cluster_id": str,
              "segment": str, "l2_category": str, "l3_category": str, "reason": str}
    for chunk in pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""], chunksize=chunk_rows):
        if carry is not None:
            chunk = pd.concat([carry, chunk], ignore_index=True)
        ids = chunk["customer_id"]
        if not ids.is_monotonic_increasing or (previous is not None and ids.iat[0] < previous):
            raise io_.StepError("%s is not sorted by customer_id; it must be FeedbackCalibration's output" % path)
        previous = ids.iat[-1]
        last = ids == previous
        carry = chunk[last]
        yield from items(chunk[~last], run_id, expires_at)
    if carry is not None:
        yield from items(carry, run_id, expires_at)


def write_batch(dynamodb, table: str, batch: List[Dict[str, object]]) -> int:
    """Writes up to 25 items, retrying what DynamoDB leaves unprocessed; returns the number of retries."""
    pending = [{"PutRequest": {"Item": item}} for item in batch]
    for attempt in range(MAX_ATTEMPTS):
        unprocessed = dynamodb.batch_write_item(RequestItems={table: pending}).get("UnprocessedItems", {})
        pending = unprocessed.get(table, [])
        if not pending:
            return attempt
        time.sleep(min(2.0, 0.05 * 2 ** attempt) * random.uniform(0.5, 1.0))
    raise io_.StepError("%d items of table %s were still unprocessed after %d attempts" % (len(pending), table,
                                                                                           MAX_ATTEMPTS))


def publish(path: Path, table: str, run_id: str, ttl_days: int, writers: int,
            now: Optional[datetime.datetime] = None) -> Dict[str, object]:
    """Writes every customer item of the run from the final recommendations CSV at `path`, then switches the
    pointer to the run. At most 4 batches per writer are in flight, so memory stays flat."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    expires_at = int(now.timestamp()) + ttl_days * 86400
    dynamodb = client("dynamodb")
    customers = recommendations = batches = retries = 0
    in_flight: List[Future] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=writers) as pool:
        batch: List[Dict[str, object]] = []
        for item, count in customer_items(path, run_id, expires_at):
            customers += 1
            recommendations += count
            batch.append(item)
            if len(batch) == BATCH_SIZE:
                in_flight.append(pool.submit(write_batch, dynamodb, table, batch))
                batch, batches = [], batches + 1
                while len(in_flight) >= 4 * writers:
                    retries += in_flight.pop(0).result()
        if batch:
            in_flight.append(pool.submit(write_batch, dynamodb, table, batch))
            batches += 1
        retries += sum(future.result() for future in in_flight)
    seconds = time.perf_counter() - started
    previous = dynamodb.get_item(TableName=table, Key={"pk": {"S": POINTER_KEY}}, ConsistentRead=True).get("Item")
    published_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    dynamodb.put_item(TableName=table, Item={
        "pk": {"S": POINTER_KEY}, "run_id": {"S": run_id}, "published_at": {"S": published_at},
        "customers": {"N": str(customers)}, "recommendations": {"N": str(recommendations)}})
    return {"run_id": run_id, "published_at": published_at, "table": table, "customers": customers,
            "recommendations": recommendations, "expires_at": expires_at, "write_seconds": seconds,
            "batches": batches, "batch_retries": int(retries),
            "previous_run_id": previous["run_id"]["S"] if previous else None}


def write_manifest(uri: str, record: Dict[str, object]) -> None:
    bucket, _, key = uri[len("s3://"):].partition("/")
    client("s3").put_object(Bucket=bucket, Key=key, Body=(json.dumps(record, indent=2) + "\n").encode("utf-8"),
                            ContentType="application/json")


def run(args: argparse.Namespace) -> Dict[str, object]:
    validate(args)
    if not args.final.is_file():
        raise io_.StepError("%s not found: FeedbackCalibration's final output must be mapped here" % args.final)
    record = publish(args.final, args.table_name, args.run_id, args.ttl_days, args.writers)
    record.update({"final_recommendations": args.final_uri or None, "feedback_summary": args.summary_uri or None})
    if args.manifest_uri:
        write_manifest(args.manifest_uri, record)
    io_.log("published run %s: %d customers, %d recommendations to %s in %.1f s (%d batches, %d retries); "
            "previous run %s" % (args.run_id, record["customers"], record["recommendations"], args.table_name,
                                 record["write_seconds"], record["batches"], record["batch_retries"],
                                 record["previous_run_id"]))
    io_.metric(STEP, "PublishedCustomers", record["customers"])
    return record


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return io_.run_step(STEP, lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
