"""Publish step (SageMaker Processing): loads the run's recommendations, the segments' popular products and the run's
summary into the serving table so that a reader never sees a mix of two runs, then names the run in the manifest.

    publish.py --table-name <table> --run-id <pipeline execution id> [--ttl-days 35] \
        [--manifest-uri s3://<data-bucket>/recommendations/latest.json] [--final-uri s3://...] [--summary-uri s3://...]

Inputs (under <processing>/input/): final/recommendations.csv (FeedbackCalibration's), reference/customers.csv and
reference/products.csv (MarketBasket's usable master rows), invoices/invoices.csv (MarketBasket's order lines),
ranking/ranking_report.json (Ranking's) and feedback/feedback_summary.json (FeedbackCalibration's;
`--feedback-summary ""` publishes none). The table (DynamoDB; locally dynalite) has the string partition key `pk`, no
sort key, and TTL on `expires_at`; every item of a run carries run_id and expires_at (epoch seconds: publish time +
ttl-days):

    pk = "run#<run>#customer#<customer id>"  one per customer of customers.csv: customer_id, segment, region,
                                              end_use, recommendations (a JSON array in rank order of {rank,
                                              recommended_product, score, reason, ...}; "[]" for a customer without
                                              any, so a reader can tell "known, nothing to recommend" from "never
                                              seen")
    pk = "run#<run>#segment#<segment>"       one per segment (<region>_<end_use>) of customers.csv: segment, region,
                                              end_use, customers (the segment's customers), popular (a JSON array of
                                              up to 20 in-stock products by distinct buyers in the segment, most
                                              first, then by product id: {product_id, l2_category, l3_category,
                                              buyers, share = buyers / customers, recommended_qty = the median
                                              quantity of the product's order lines in the segment, half-up, >= 1})
    pk = "run#<run>#summary"                 summary (JSON: run_id, published_at, coverage = the ranking report's
                                              coverage figures, feedback_summary = feedback_summary.json or null)
    pk = "pointer"                           run_id, published_at, customers (with recommendations),
                                              recommendations, previous_run_id (the run it replaced; absent on the
                                              first publish); no expiry

A reader gets the pointer (consistent read), then the items of its run. All of a customer's recommendations are one
item, and the pointer moves to the new run only after every item of that run is written, so a reader sees the old
run or the new one, never a mix; superseded runs expire by TTL. The list is one JSON attribute rather than a list of
maps: readers always take a customer's whole list, and dynalite stores it about three times faster (2,465 against 778
items/s measured). The CSVs are read in chunks and the items are written with BatchWriteItem, 25 per request, from
--writers threads with a bounded number of requests in flight, retrying unprocessed items with backoff. What stays in
memory is a compact index of customers.csv (each id as UTF-8 bytes of the longest id's width plus a 4-byte segment
code, about 15 MB for a million 10-character ids), one chunk of a CSV, and the per-segment product counts; nothing
grows with the number of recommendations or order lines. The manifest (optional) is written last: the latest
published run, when, and where its files are.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np
import pandas as pd

import pipeline_io as io_
from ranking import rounded_quantity

STEP = "Publish"
POINTER_KEY = "pointer"
BATCH_SIZE = 25  # BatchWriteItem's limit
MAX_ATTEMPTS = 8
CHUNK_ROWS = 100_000
POPULAR_PRODUCTS = 20
FIELDS = ("rank", "recommended_product", "score", "reason", "trigger_product", "confidence", "lift", "support",
          "weighted_support", "l2_category", "l3_category", "recommended_qty", "cluster_id", "segment",
          "feedback_weight")
COVERAGE_FIELDS = ("customers", "customers_covered", "coverage", "recommendations", "customers_via_association",
                   "customers_via_fallback", "customers_with_fewer_than_top_k")
COMPACT = (",", ":")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = io_.processing_root(Path(__file__))
    inputs = root / "input"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table-name", required=True)
    parser.add_argument("--run-id", required=True, help="the pipeline execution id")
    parser.add_argument("--ttl-days", type=int, default=35)
    parser.add_argument("--writers", type=int, default=8, help="threads sending BatchWriteItem requests")
    parser.add_argument("--manifest-uri", default="", help="s3:// URI of the latest-run manifest; empty = none")
    parser.add_argument("--final-uri", default="", help="where this run's final recommendations are (manifest)")
    parser.add_argument("--summary-uri", default="", help="where this run's feedback summary is (manifest)")
    parser.add_argument("--final", type=Path, default=inputs / "final" / "recommendations.csv")
    parser.add_argument("--reference", type=Path, default=inputs / "reference",
                        help="folder with MarketBasket's customers.csv and products.csv")
    parser.add_argument("--invoices", type=Path, default=inputs / "invoices" / "invoices.csv")
    parser.add_argument("--ranking-report", type=Path, default=inputs / "ranking" / "ranking_report.json")
    parser.add_argument("--feedback-summary", default=str(inputs / "feedback" / "feedback_summary.json"),
                        help="FeedbackCalibration's feedback_summary.json; empty = publish none (null)")
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


@dataclass
class RunInputs:
    """The files one run is published from."""
    final: Path
    customers: Path
    products: Path
    invoices: Path
    ranking_report: Path
    feedback_summary: Optional[Path]

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> "RunInputs":
        return cls(args.final, args.reference / "customers.csv", args.reference / "products.csv", args.invoices,
                   args.ranking_report, Path(args.feedback_summary) if args.feedback_summary else None)

    def check(self) -> None:
        expected = [(self.final, "FeedbackCalibration's final output"),
                    (self.customers, "MarketBasket's reference output"),
                    (self.products, "MarketBasket's reference output"),
                    (self.invoices, "MarketBasket's invoices output"),
                    (self.ranking_report, "Ranking's report")]
        if self.feedback_summary is not None:
            expected.append((self.feedback_summary, "FeedbackCalibration's feedback summary"))
        for path, what in expected:
            if not path.is_file():
                raise io_.StepError("%s not found: %s must be mapped here" % (path, what))


def run_key(run_id: str, customer_id: str) -> str:
    return "run#%s#customer#%s" % (run_id, customer_id)


def segment_key(run_id: str, segment: str) -> str:
    return "run#%s#segment#%s" % (run_id, segment)


def summary_key(run_id: str) -> str:
    return "run#%s#summary" % run_id


def client(service: str):
    import boto3

    # The boto3 of Debian and of the container predates the SDK's own AWS_ENDPOINT_URL support.
    endpoint = os.environ.get("AWS_ENDPOINT_URL_%s" % service.upper()) or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.client(service, endpoint_url=endpoint or None)


def _utf8(ids: pd.Series) -> np.ndarray:
    return np.array([text.encode("utf-8") for text in ids.tolist()], dtype=bytes)


class Customers:
    """customers.csv as a sorted array of ids (fixed-width UTF-8 bytes) with each one's segment code: what every item
    needs from it, at a few bytes per customer."""

    def __init__(self, ids: np.ndarray, codes: np.ndarray, segments: List[Tuple[str, str, str]]) -> None:
        self.ids = ids
        self.codes = codes
        self.segments = segments  # (segment, region, end_use) of each code

    @classmethod
    def read(cls, path: Path, chunk_rows: int = CHUNK_ROWS) -> "Customers":
        id_parts: List[np.ndarray] = []
        code_parts: List[np.ndarray] = []
        codes: Dict[Tuple[str, str, str], int] = {}
        columns = ["customer_id", "region", "end_use", "segment"]
        for chunk in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=chunk_rows):
            missing = [c for c in columns if c not in chunk.columns]
            if missing:
                raise io_.StepError("%s lacks column(s) %s; it must be MarketBasket's reference output"
                                    % (path, ", ".join(missing)))
            for triple in zip(chunk["segment"], chunk["region"], chunk["end_use"]):
                codes.setdefault(triple, len(codes))
            code_parts.append(np.array([codes[t] for t in zip(chunk["segment"], chunk["region"], chunk["end_use"])],
                                       dtype=np.int32))
            id_parts.append(_utf8(chunk["customer_id"]))
        ids = np.concatenate(id_parts) if id_parts else np.array([], dtype=bytes)
        if not len(ids):
            raise io_.StepError("%s has no customers; it must be MarketBasket's reference output" % path)
        order = np.argsort(ids, kind="stable")
        ids = ids[order]
        repeated = np.flatnonzero(ids[1:] == ids[:-1])
        if len(repeated):
            raise io_.StepError("%s lists customer %r more than once; it must be MarketBasket's reference output"
                                % (path, ids[repeated[0]].decode("utf-8")))
        names = [n for n, _, _ in codes]
        if len(set(names)) != len(names):
            raise io_.StepError("%s gives one segment name to different (region, end_use) pairs" % path)
        return cls(ids, np.concatenate(code_parts)[order], sorted(codes, key=codes.get))

    def __len__(self) -> int:
        return len(self.ids)

    def positions(self, customer_ids: pd.Series, source: Path) -> np.ndarray:
        """The index of each customer id; an id that customers.csv lacks fails the step."""
        keys = _utf8(customer_ids)
        found = np.searchsorted(self.ids, keys)
        clipped = np.minimum(found, len(self.ids) - 1)
        unknown = np.flatnonzero((found >= len(self.ids)) | (self.ids[clipped] != keys))
        if len(unknown):
            raise io_.StepError("customer %r of %s is not in customers.csv; both must come from the same run"
                                % (customer_ids.iat[unknown[0]], source))
        return found

    def attributes(self, position: int) -> Dict[str, Dict[str, str]]:
        segment, region, end_use = self.segments[self.codes[position]]
        return {"segment": {"S": segment}, "region": {"S": region}, "end_use": {"S": end_use}}

    def segment_sizes(self) -> np.ndarray:
        return np.bincount(self.codes, minlength=len(self.segments))


def customer_chunks(path: Path, dtypes: Dict[str, object], what: str, chunk_rows: int = CHUNK_ROWS
                    ) -> Iterator[pd.DataFrame]:
    """A CSV sorted by customer_id, in chunks that each hold every row of their customers, so that memory does not
    grow with the customers: a customer split by a chunk boundary is completed with the next chunk. Rows out of
    customer order fail the step."""
    carry: Optional[pd.DataFrame] = None
    previous = None
    for chunk in pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""], chunksize=chunk_rows):
        if carry is not None:
            chunk = pd.concat([carry, chunk], ignore_index=True)
        if chunk.empty:
            continue
        ids = chunk["customer_id"]
        if not ids.is_monotonic_increasing or (previous is not None and ids.iat[0] < previous):
            raise io_.StepError("%s is not sorted by customer_id; it must be %s" % (path, what))
        previous = ids.iat[-1]
        last = (ids == previous).to_numpy()
        carry = chunk[last]
        if not last.all():
            yield chunk[~last]
    if carry is not None and len(carry):
        yield carry


def customer_item(run_id: str, customer_id: str, recommendations: str, expires_at: int,
                  attributes: Dict[str, Dict[str, str]]) -> Dict[str, object]:
    item: Dict[str, object] = {"pk": {"S": run_key(run_id, customer_id)}, "run_id": {"S": run_id},
                               "customer_id": {"S": customer_id}, "recommendations": {"S": recommendations},
                               "expires_at": {"N": str(expires_at)}}
    item.update(attributes)
    return item


def items(final: pd.DataFrame, run_id: str, expires_at: int, customers: Customers, source: Path,
          covered: np.ndarray) -> Iterator[Tuple[Dict[str, object], int]]:
    """One DynamoDB item (attribute-value form) per customer of `final`, with its number of recommendations: the
    recommendations as one JSON array in rank order (fields without a value, such as a fallback's lift, left out).
    Marks each customer in `covered`."""
    final = final.sort_values(["customer_id", "rank"], kind="mergesort")
    fields = [f for f in FIELDS if f in final.columns]
    records = final[fields].to_dict("records")
    ids = final["customer_id"].tolist()
    starts = np.flatnonzero(np.r_[True, final["customer_id"].to_numpy()[1:] != final["customer_id"].to_numpy()[:-1]])
    positions = customers.positions(final["customer_id"].iloc[starts], source)
    covered[positions] = True
    ends = np.r_[starts[1:], len(ids)]
    for start, end, position in zip(starts, ends, positions):
        recommendations = [{k: v for k, v in record.items() if not (isinstance(v, float) and math.isnan(v))}
                           for record in records[start:end]]
        yield customer_item(run_id, ids[start], json.dumps(recommendations, separators=COMPACT), expires_at,
                            customers.attributes(position)), int(end - start)


def customer_items(path: Path, run_id: str, expires_at: int, customers: Customers, covered: np.ndarray,
                   chunk_rows: int = CHUNK_ROWS) -> Iterator[Tuple[Dict[str, object], int]]:
    """The items of a final recommendations CSV (FeedbackCalibration writes its rows sorted by customer)."""
    dtypes = {"customer_id": str, "recommended_product": str, "trigger_product": str, "cluster_id": str,
              "segment": str, "l2_category": str, "l3_category": str, "reason": str}
    for chunk in customer_chunks(path, dtypes, "FeedbackCalibration's output", chunk_rows):
        yield from items(chunk, run_id, expires_at, customers, path, covered)


def empty_items(customers: Customers, covered: np.ndarray, run_id: str, expires_at: int
                ) -> Iterator[Dict[str, object]]:
    """An item with an empty list for each customer `covered` does not mark."""
    for position in np.flatnonzero(~covered):
        yield customer_item(run_id, customers.ids[position].decode("utf-8"), "[]", expires_at,
                            customers.attributes(position))


def histogram_median(values: np.ndarray, counts: np.ndarray) -> float:
    """The median of `values` (ascending) each repeated `counts` times, without repeating them."""
    cumulative = np.cumsum(counts)
    total = int(cumulative[-1])
    low = values[np.searchsorted(cumulative, (total - 1) // 2, side="right")]
    high = values[np.searchsorted(cumulative, total // 2, side="right")]
    return float((low + high) / 2.0)


def in_stock_products(path: Path) -> pd.DataFrame:
    products = io_.read_csv_output(path, {"product_id": str, "l2_category": str, "l3_category": str,
                                          "in_stock": str})
    stocked = products["in_stock"].astype(str).str.strip().str.lower().isin(io_.TRUE_TEXTS)
    return products.loc[stocked, ["product_id", "l2_category", "l3_category"]]


def segment_popularity(invoices: Path, products: pd.DataFrame, customers: Customers, chunk_rows: int = CHUNK_ROWS,
                       limit: int = POPULAR_PRODUCTS) -> Dict[int, List[Dict[str, object]]]:
    """Per segment code, up to `limit` in-stock products by distinct buyers in the segment (most first, then by
    product id) with their share of the segment's customers and the median quantity of their order lines. Streams
    the order lines; what it keeps is one count per segment and product and one per segment, product and quantity."""
    buyers: Optional[pd.Series] = None
    quantities: Optional[pd.Series] = None
    for chunk in customer_chunks(invoices, {"customer_id": str, "product_id": str}, "MarketBasket's invoices output",
                                 chunk_rows):
        lines = pd.DataFrame({
            "segment": customers.codes[customers.positions(chunk["customer_id"], invoices)],
            "customer_id": chunk["customer_id"].to_numpy(), "product_id": chunk["product_id"].to_numpy(),
            "quantity": chunk["quantity"].to_numpy(dtype=float)})
        # Every line of a customer is in this chunk, so its (customer, product) pairs are counted once.
        part = lines.drop_duplicates(["customer_id", "product_id"]).groupby(["segment", "product_id"]).size()
        buyers = part if buyers is None else buyers.add(part, fill_value=0)
        part = lines.groupby(["segment", "product_id", "quantity"]).size()
        quantities = part if quantities is None else quantities.add(part, fill_value=0)
    if buyers is None or quantities is None:
        return {}
    table = buyers.rename("buyers").reset_index().merge(products, on="product_id")
    table = table.sort_values(["segment", "buyers", "product_id"], ascending=[True, False, True])
    top = table[table.groupby("segment").cumcount() < limit]
    lines = quantities.rename("lines").reset_index().sort_values(["segment", "product_id", "quantity"])
    medians = {key: histogram_median(group["quantity"].to_numpy(), group["lines"].to_numpy())
               for key, group in lines.merge(top[["segment", "product_id"]]).groupby(["segment", "product_id"])}
    quantity = rounded_quantity(pd.Series([medians[key] for key in zip(top["segment"], top["product_id"])]))
    sizes = customers.segment_sizes()
    popular: Dict[int, List[Dict[str, object]]] = {}
    for row, qty in zip(top.itertuples(index=False), quantity):
        popular.setdefault(int(row.segment), []).append({
            "product_id": row.product_id, "l2_category": row.l2_category, "l3_category": row.l3_category,
            "buyers": int(row.buyers), "share": int(row.buyers) / int(sizes[row.segment]),
            "recommended_qty": int(qty)})
    return popular


def segment_items(customers: Customers, popular: Dict[int, List[Dict[str, object]]], run_id: str,
                  expires_at: int) -> Iterator[Dict[str, object]]:
    """One item per segment of customers.csv, with its popular products (an empty list when nobody in it bought an
    in-stock product)."""
    sizes = customers.segment_sizes()
    for code, (segment, region, end_use) in enumerate(customers.segments):
        yield {"pk": {"S": segment_key(run_id, segment)}, "run_id": {"S": run_id}, "segment": {"S": segment},
               "region": {"S": region}, "end_use": {"S": end_use}, "customers": {"N": str(int(sizes[code]))},
               "popular": {"S": json.dumps(popular.get(code, []), separators=COMPACT, allow_nan=False)},
               "expires_at": {"N": str(expires_at)}}


def run_summary(inputs: RunInputs, run_id: str, published_at: str) -> Dict[str, object]:
    report = json.loads(inputs.ranking_report.read_text(encoding="utf-8"))
    missing = [name for name in COVERAGE_FIELDS if name not in report]
    if missing:
        raise io_.StepError("%s lacks %s; it must be Ranking's ranking_report.json"
                            % (inputs.ranking_report, ", ".join(missing)))
    feedback = None
    if inputs.feedback_summary is not None:
        feedback = json.loads(inputs.feedback_summary.read_text(encoding="utf-8"))
        if not isinstance(feedback, dict):
            raise io_.StepError("%s is not a JSON object; it must be FeedbackCalibration's feedback_summary.json"
                                % inputs.feedback_summary)
    return {"run_id": run_id, "published_at": published_at,
            "coverage": {name: report[name] for name in COVERAGE_FIELDS}, "feedback_summary": feedback}


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


def write_items(dynamodb, table: str, run_items: Iterable[Dict[str, object]], writers: int) -> Tuple[int, int]:
    """Writes every item, 25 per request from `writers` threads; at most 4 batches per writer are in flight, so
    memory stays flat. Returns the number of batches and of retries."""
    batches = retries = 0
    in_flight: List[Future] = []
    with ThreadPoolExecutor(max_workers=writers) as pool:
        batch: List[Dict[str, object]] = []
        for item in run_items:
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
    return batches, int(retries)


def publish(inputs: RunInputs, table: str, run_id: str, ttl_days: int, writers: int,
            now: Optional[datetime.datetime] = None, chunk_rows: int = CHUNK_ROWS) -> Dict[str, object]:
    """Writes every item of the run (customers, segments, summary), then switches the pointer to the run."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    expires_at = int(now.timestamp()) + ttl_days * 86400
    published_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    customers = Customers.read(inputs.customers, chunk_rows)
    summary = run_summary(inputs, run_id, published_at)
    popular = segment_popularity(inputs.invoices, in_stock_products(inputs.products), customers, chunk_rows)
    covered = np.zeros(len(customers), dtype=bool)
    counts = {"customers": 0, "recommendations": 0}

    def run_items() -> Iterator[Dict[str, object]]:
        for item, count in customer_items(inputs.final, run_id, expires_at, customers, covered, chunk_rows):
            counts["customers"] += 1
            counts["recommendations"] += count
            yield item
        yield from empty_items(customers, covered, run_id, expires_at)
        yield from segment_items(customers, popular, run_id, expires_at)
        yield {"pk": {"S": summary_key(run_id)}, "run_id": {"S": run_id},
               "summary": {"S": json.dumps(summary, separators=COMPACT, allow_nan=False)},
               "expires_at": {"N": str(expires_at)}}

    dynamodb = client("dynamodb")
    started = time.perf_counter()
    batches, retries = write_items(dynamodb, table, run_items(), writers)
    seconds = time.perf_counter() - started
    previous = dynamodb.get_item(TableName=table, Key={"pk": {"S": POINTER_KEY}}, ConsistentRead=True).get("Item")
    previous_run_id = previous["run_id"]["S"] if previous else None
    if previous_run_id == run_id:
        # Publishing a run again keeps the run it replaced the first time.
        previous_run_id = previous.get("previous_run_id", {}).get("S")
    pointer = {"pk": {"S": POINTER_KEY}, "run_id": {"S": run_id}, "published_at": {"S": published_at},
               "customers": {"N": str(counts["customers"])}, "recommendations": {"N": str(counts["recommendations"])}}
    if previous_run_id:
        pointer["previous_run_id"] = {"S": previous_run_id}
    dynamodb.put_item(TableName=table, Item=pointer)
    return {"run_id": run_id, "published_at": published_at, "table": table, "customers": counts["customers"],
            "recommendations": counts["recommendations"], "customer_items": len(customers),
            "customers_without_recommendations": int((~covered).sum()), "segments": len(customers.segments),
            "segments_with_popular_products": len(popular), "expires_at": expires_at, "write_seconds": seconds,
            "batches": batches, "batch_retries": retries, "previous_run_id": previous_run_id}


def write_manifest(uri: str, record: Dict[str, object]) -> None:
    bucket, _, key = uri[len("s3://"):].partition("/")
    client("s3").put_object(Bucket=bucket, Key=key, Body=(json.dumps(record, indent=2) + "\n").encode("utf-8"),
                            ContentType="application/json")


def run(args: argparse.Namespace) -> Dict[str, object]:
    validate(args)
    inputs = RunInputs.from_arguments(args)
    inputs.check()
    record = publish(inputs, args.table_name, args.run_id, args.ttl_days, args.writers)
    record.update({"final_recommendations": args.final_uri or None, "feedback_summary": args.summary_uri or None})
    if args.manifest_uri:
        write_manifest(args.manifest_uri, record)
    io_.log("published run %s: %d customer items (%d with %d recommendations, %d without), %d segment items, the "
            "summary, to %s in %.1f s (%d batches, %d retries); previous run %s" % (
                args.run_id, record["customer_items"], record["customers"], record["recommendations"],
                record["customers_without_recommendations"], record["segments"], args.table_name,
                record["write_seconds"], record["batches"], record["batch_retries"], record["previous_run_id"]))
    io_.metric(STEP, "PublishedCustomers", record["customers"])
    return record


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return io_.run_step(STEP, lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
