"""Publish against dynalite on loopback: customer items (with and without recommendations), the segments' popular
products, the run summary, the pointer switch seen by readers polling while a second run publishes, the previous run,
TTL, retries of unprocessed items, and the manifest."""
from __future__ import annotations

import datetime
import http.server
import json
import threading
import time
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import boto3
import numpy as np
import pandas as pd
import pytest

import pipeline_io
import publish
import ranking

TABLE = "recommendations-test"
NOW = datetime.datetime(2026, 2, 1, tzinfo=datetime.timezone.utc)
REPORT = {"customers": 30, "customers_covered": 28, "coverage": 28 / 30, "recommendations": 120,
          "customers_via_association": 20, "customers_via_fallback": 15, "customers_with_fewer_than_top_k": 9,
          "customers_with_top_k": 21, "parameters": {"TopK": 5}}
FEEDBACK_SUMMARY = {"overall": {"feedback": 4, "acceptance_rate": 0.5}, "by_segment": {},
                    "threshold_suggestions": {"MinConfidence": 0.05}}
# product, l2, l3, in stock
PRODUCTS = [("A", "Valves", "Ball"), ("B", "Valves", "Gate"), ("C", "Pipes", "Copper"), ("D", "Pipes", "Steel"),
            ("E", "Fittings", "Elbow")]
OUT_OF_STOCK = {"C"}


@pytest.fixture
def table(make_table, dynamodb) -> object:
    make_table(TABLE, "pk")
    return dynamodb


def final_csv(folder: Path, run: int, customers: Sequence[str], per_customer: int = 3) -> Path:
    """A final recommendations CSV as FeedbackCalibration writes it (sorted by customer, rank order)."""
    rows = []
    for customer in sorted(customers):
        for r in range(per_customer):
            fallback = r == per_customer - 1
            rows.append({"customer_id": customer, "recommended_product": "P%d-%d" % (run, r),
                         "cluster_id": "W_P_0", "segment": "W_P", "l2_category": "Valves", "l3_category": "Ball",
                         "trigger_product": "fallback" if fallback else "P0", "support": None if fallback else 0.1,
                         "confidence": None if fallback else 0.5, "lift": None if fallback else 2.5,
                         "weighted_support": None if fallback else 0.08, "score": 0.9 - 0.1 * r - 0.01 * run,
                         "recommended_qty": 2, "reason": "run %d" % run, "rank": r + 1, "feedback_weight": 1.0})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ("run%d.csv" % run)
    pd.DataFrame(rows, columns=ranking.OUTPUT_COLUMNS + ["feedback_weight"]).to_csv(path, index=False)
    return path


def ids(count: int) -> List[str]:
    return ["C%05d" % c for c in range(count)]


def run_inputs(folder: Path, final: Path, customers: Sequence[Tuple[str, str, str]],
               invoices: Sequence[Tuple[str, str, float]] = (), report: Optional[Dict[str, object]] = None,
               feedback: Optional[Dict[str, object]] = None) -> publish.RunInputs:
    """The other inputs as MarketBasket, Ranking and FeedbackCalibration write them: customers (id, region, end_use),
    order lines (customer, product, quantity; one per day, dates made up) sorted by customer."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"customer_id": [c for c, _, _ in customers], "region": [r for _, r, _ in customers],
                  "end_use": [e for _, _, e in customers],
                  "segment": ["%s_%s" % (r, e) for _, r, e in customers]}).to_csv(folder / "customers.csv",
                                                                                  index=False)
    pd.DataFrame({"product_id": [p for p, _, _ in PRODUCTS], "brand": "Acme",
                  "l2_category": [l2 for _, l2, _ in PRODUCTS], "l3_category": [l3 for _, _, l3 in PRODUCTS],
                  "functionality": "x", "in_stock": [p not in OUT_OF_STOCK for p, _, _ in PRODUCTS],
                  "price": 1.0}).to_csv(folder / "products.csv", index=False)
    lines = pd.DataFrame(list(invoices), columns=["customer_id", "product_id", "quantity"])
    lines["invoice_date"] = ["2025-01-%02d" % (1 + i % 28) for i in range(len(lines))]
    lines.sort_values("customer_id", kind="mergesort")[["customer_id", "product_id", "invoice_date", "quantity"]] \
        .to_csv(folder / "invoices.csv", index=False)
    (folder / "ranking_report.json").write_text(json.dumps(report or REPORT))
    summary = None
    if feedback is not None:
        summary = folder / "feedback_summary.json"
        summary.write_text(json.dumps(feedback))
    return publish.RunInputs(final, folder / "customers.csv", folder / "products.csv", folder / "invoices.csv",
                             folder / "ranking_report.json", summary)


def simple_run(folder: Path, run: int, customers: int, extra: int = 0) -> publish.RunInputs:
    """`customers` customers with three recommendations each and `extra` without, all in segment W_P."""
    every = ids(customers + extra)
    return run_inputs(folder / ("run%d" % run), final_csv(folder, run, every[:customers]),
                      [(c, "W", "P") for c in every], [(every[0], "A", 1.0)], feedback=FEEDBACK_SUMMARY)


def get(client, key: str, consistent: bool = False) -> Optional[Dict[str, object]]:
    return client.get_item(TableName=TABLE, Key={"pk": {"S": key}}, ConsistentRead=consistent).get("Item")


def read(client, customer: str) -> Tuple[str, Optional[Dict[str, object]]]:
    """What a serving reader does: the pointer, then its run's item of the customer."""
    run_id = get(client, publish.POINTER_KEY, consistent=True)["run_id"]["S"]
    return run_id, get(client, publish.run_key(run_id, customer))


def scan(client) -> List[Dict[str, object]]:
    found: List[Dict[str, object]] = []
    for page in client.get_paginator("scan").paginate(TableName=TABLE):
        found += page["Items"]
    return found


def test_publish_writesOneItemPerCustomerAndThePointer(table, tmp_path):
    record = publish.publish(simple_run(tmp_path, 1, 30), TABLE, "run-1", ttl_days=35, writers=4, now=NOW)
    # 30 customers, 1 segment, the summary: 32 items in 2 batches.
    assert record["customers"] == 30 and record["recommendations"] == 90 and record["batches"] == 2
    assert record["customer_items"] == 30 and record["customers_without_recommendations"] == 0
    assert record["previous_run_id"] is None
    run_id, item = read(table, "C00007")
    assert run_id == "run-1" and item["run_id"] == {"S": "run-1"} and item["customer_id"] == {"S": "C00007"}
    assert (item["segment"], item["region"], item["end_use"]) == ({"S": "W_P"}, {"S": "W"}, {"S": "P"})
    assert item["expires_at"] == {"N": str(int(NOW.timestamp()) + 35 * 86400)}
    recommendations = json.loads(item["recommendations"]["S"])
    assert [r["recommended_product"] for r in recommendations] == ["P1-0", "P1-1", "P1-2"]
    assert [r["rank"] for r in recommendations] == [1, 2, 3]
    assert recommendations[0] == {"rank": 1, "recommended_product": "P1-0", "score": 0.89, "reason": "run 1",
                                  "trigger_product": "P0", "confidence": 0.5, "lift": 2.5, "support": 0.1,
                                  "weighted_support": 0.08, "l2_category": "Valves", "l3_category": "Ball",
                                  "recommended_qty": 2, "cluster_id": "W_P_0", "segment": "W_P",
                                  "feedback_weight": 1.0}
    assert "lift" not in recommendations[2] and recommendations[2]["trigger_product"] == "fallback"
    pointer = get(table, publish.POINTER_KEY)
    assert pointer == {"pk": {"S": "pointer"}, "run_id": {"S": "run-1"}, "published_at": {"S": "2026-02-01T00:00:00Z"},
                       "customers": {"N": "30"}, "recommendations": {"N": "90"}}


def test_publish_customersWithoutRecommendations_getAnEmptyListWithTheirSegment(table, tmp_path):
    folder = tmp_path / "in"
    customers = [("C1", "W", "P"), ("C2", "E", "H"), ("C3", "E", "H"), ("C4", "N", "X")]
    inputs = run_inputs(folder, final_csv(tmp_path, 1, ["C1", "C3"], per_customer=2), customers,
                        [("C1", "A", 1.0)], feedback=FEEDBACK_SUMMARY)
    record = publish.publish(inputs, TABLE, "run-1", ttl_days=35, writers=2, now=NOW)
    assert (record["customers"], record["customer_items"], record["customers_without_recommendations"]) == (2, 4, 2)
    items = {i["pk"]["S"]: i for i in scan(table)}
    for customer, region, end_use in customers:
        item = items[publish.run_key("run-1", customer)]
        assert item["customer_id"] == {"S": customer} and item["run_id"] == {"S": "run-1"}
        assert (item["region"]["S"], item["end_use"]["S"], item["segment"]["S"]) == (
            region, end_use, "%s_%s" % (region, end_use))
        assert item["expires_at"] == {"N": str(int(NOW.timestamp()) + 35 * 86400)}
        expected = 2 if customer in ("C1", "C3") else 0
        assert len(json.loads(item["recommendations"]["S"])) == expected
    assert items[publish.run_key("run-1", "C2")]["recommendations"] == {"S": "[]"}
    # The pointer still counts the customers with recommendations.
    assert get(table, publish.POINTER_KEY)["customers"] == {"N": "2"}


# Segment W_P (c1..c5) and E_H (c6, c7); N_X (c8) bought nothing. In W_P: B has 4 buyers, A and E 3 each (A first by
# id), D 1 buyer with the most lines and units, C 5 buyers but out of stock.
SEGMENT_CUSTOMERS = [("c1", "W", "P"), ("c2", "W", "P"), ("c3", "W", "P"), ("c4", "W", "P"), ("c5", "W", "P"),
                     ("c6", "E", "H"), ("c7", "E", "H"), ("c8", "N", "X")]
SEGMENT_LINES = (
    [("c1", "A", 2.0), ("c1", "A", 4.0), ("c1", "A", 4.0), ("c2", "A", 1.0), ("c3", "A", 3.0)]  # median 3
    + [("c1", "B", 1.0), ("c2", "B", 2.0), ("c3", "B", 3.0), ("c4", "B", 4.0)]  # median 2.5: 3 half-up
    + [(c, "C", 1.0) for c in ("c1", "c2", "c3", "c4", "c5")]
    + [("c5", "D", 50.0)] * 10
    + [("c3", "E", 0.4), ("c4", "E", 0.4), ("c5", "E", 0.4)]  # median 0.4: at least 1
    + [("c6", "A", 7.0), ("c7", "A", 8.0), ("c7", "D", 1.0)])  # A 7.5: 8; D 1


def test_publish_segmentItems_popularInStockProductsByDistinctBuyers(table, tmp_path):
    inputs = run_inputs(tmp_path / "in", final_csv(tmp_path, 1, ["c1"]), SEGMENT_CUSTOMERS, SEGMENT_LINES,
                        feedback=FEEDBACK_SUMMARY)
    record = publish.publish(inputs, TABLE, "run-1", ttl_days=10, writers=2, now=NOW)
    assert (record["segments"], record["segments_with_popular_products"]) == (3, 2)
    wp = get(table, publish.segment_key("run-1", "W_P"))
    assert {k: v for k, v in wp.items() if k != "popular"} == {
        "pk": {"S": "run#run-1#segment#W_P"}, "run_id": {"S": "run-1"}, "segment": {"S": "W_P"},
        "region": {"S": "W"}, "end_use": {"S": "P"}, "customers": {"N": "5"},
        "expires_at": {"N": str(int(NOW.timestamp()) + 10 * 86400)}}
    assert json.loads(wp["popular"]["S"]) == [
        {"product_id": "B", "l2_category": "Valves", "l3_category": "Gate", "buyers": 4, "share": 0.8,
         "recommended_qty": 3},
        {"product_id": "A", "l2_category": "Valves", "l3_category": "Ball", "buyers": 3, "share": 0.6,
         "recommended_qty": 3},
        {"product_id": "E", "l2_category": "Fittings", "l3_category": "Elbow", "buyers": 3, "share": 0.6,
         "recommended_qty": 1},
        {"product_id": "D", "l2_category": "Pipes", "l3_category": "Steel", "buyers": 1, "share": 0.2,
         "recommended_qty": 50}]
    eh = json.loads(get(table, publish.segment_key("run-1", "E_H"))["popular"]["S"])
    assert [(p["product_id"], p["buyers"], p["share"], p["recommended_qty"]) for p in eh] == [
        ("A", 2, 1.0, 8), ("D", 1, 0.5, 1)]
    nx = get(table, publish.segment_key("run-1", "N_X"))
    assert (nx["customers"], nx["popular"], nx["region"], nx["end_use"]) == (
        {"N": "1"}, {"S": "[]"}, {"S": "N"}, {"S": "X"})


def test_segment_popularity_atMostTwentyProducts(tmp_path):
    # Product Pk is bought by customers 0..k: 25 products, the 20 with the most buyers are P24 down to P05.
    customers = [("c%02d" % i, "W", "P") for i in range(25)]
    lines = [("c%02d" % i, "P%02d" % k, 1.0) for k in range(25) for i in range(k + 1)]
    inputs = run_inputs(tmp_path, tmp_path / "unused.csv", customers, lines)
    products = pd.DataFrame({"product_id": ["P%02d" % k for k in range(25)], "l2_category": "x", "l3_category": "y"})
    popular = publish.segment_popularity(inputs.invoices, products, publish.Customers.read(inputs.customers))
    assert [p["product_id"] for p in popular[0]] == ["P%02d" % k for k in range(24, 4, -1)]
    assert [p["buyers"] for p in popular[0]] == list(range(25, 5, -1))
    assert popular[0][0]["share"] == 1.0


def test_segment_popularity_customersAcrossChunkBoundaries_countOnce(tmp_path):
    inputs = run_inputs(tmp_path, tmp_path / "unused.csv", SEGMENT_CUSTOMERS, SEGMENT_LINES)
    customers = publish.Customers.read(inputs.customers, chunk_rows=3)
    products = publish.in_stock_products(inputs.products)
    whole = publish.segment_popularity(inputs.invoices, products, customers)
    # Chunks of 4 lines split c1's and c5's lines.
    assert publish.segment_popularity(inputs.invoices, products, customers, chunk_rows=4) == whole
    assert [p["buyers"] for p in whole[customers.segments.index(("W_P", "W", "P"))]] == [4, 3, 3, 1]


def test_segment_popularity_invoicesOfAnUnknownCustomer_fail(tmp_path):
    inputs = run_inputs(tmp_path, tmp_path / "unused.csv", SEGMENT_CUSTOMERS, [("c1", "A", 1.0), ("zz", "A", 1.0)])
    with pytest.raises(pipeline_io.StepError) as error:
        publish.segment_popularity(inputs.invoices, publish.in_stock_products(inputs.products),
                                   publish.Customers.read(inputs.customers))
    assert str(error.value) == ("customer 'zz' of %s is not in customers.csv; both must come from the same run"
                                % inputs.invoices)


def test_segment_popularity_unsortedInvoices_fail(tmp_path):
    inputs = run_inputs(tmp_path, tmp_path / "unused.csv", SEGMENT_CUSTOMERS, SEGMENT_LINES)
    frame = pd.read_csv(inputs.invoices)
    frame.iloc[::-1].to_csv(inputs.invoices, index=False)
    with pytest.raises(pipeline_io.StepError) as error:
        publish.segment_popularity(inputs.invoices, publish.in_stock_products(inputs.products),
                                   publish.Customers.read(inputs.customers))
    assert str(error.value) == ("%s is not sorted by customer_id; it must be MarketBasket's invoices output"
                                % inputs.invoices)


@pytest.mark.parametrize("values,counts,median", [
    ([5.0], [1], 5.0),
    ([1.0, 5.0], [2, 1], 1.0),
    ([1.0, 3.0], [1, 1], 2.0),
    ([1.0, 2.0, 9.0], [1, 2, 1], 2.0),
    ([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1], 2.5),
    ([1.0, 2.0], [1_000_000, 1_000_001], 2.0),
])
def test_histogram_median_equalsTheMedianOfTheRepeatedValues(values, counts, median):
    assert publish.histogram_median(np.array(values), np.array(counts)) == median
    if sum(counts) < 100:
        assert np.median(np.repeat(values, counts)) == median


def test_publish_summaryItem_coverageOfTheRankingReportAndTheFeedbackSummary(table, tmp_path):
    publish.publish(simple_run(tmp_path, 1, 3), TABLE, "run-1", ttl_days=35, writers=1, now=NOW)
    item = get(table, publish.summary_key("run-1"))
    assert set(item) == {"pk", "run_id", "summary", "expires_at"}
    assert item["run_id"] == {"S": "run-1"} and item["expires_at"] == {"N": str(int(NOW.timestamp()) + 35 * 86400)}
    assert json.loads(item["summary"]["S"]) == {
        "run_id": "run-1", "published_at": "2026-02-01T00:00:00Z",
        "coverage": {"customers": 30, "customers_covered": 28, "coverage": 28 / 30, "recommendations": 120,
                     "customers_via_association": 20, "customers_via_fallback": 15,
                     "customers_with_fewer_than_top_k": 9},
        "feedback_summary": FEEDBACK_SUMMARY}


def test_publish_withoutFeedbackSummary_publishesNull(table, tmp_path):
    inputs = run_inputs(tmp_path / "in", final_csv(tmp_path, 1, ["c1"]), [("c1", "W", "P")], feedback=None)
    publish.publish(inputs, TABLE, "run-1", ttl_days=35, writers=1)
    assert json.loads(get(table, publish.summary_key("run-1"))["summary"]["S"])["feedback_summary"] is None


def test_run_summary_rankingReportWithoutCoverageFigures_failsNamingThem(tmp_path):
    report = {k: v for k, v in REPORT.items() if k not in ("coverage", "customers_via_fallback")}
    inputs = run_inputs(tmp_path, tmp_path / "f.csv", [("c1", "W", "P")], report=report)
    with pytest.raises(pipeline_io.StepError) as error:
        publish.run_summary(inputs, "r", "now")
    assert str(error.value) == ("%s lacks coverage, customers_via_fallback; it must be Ranking's ranking_report.json"
                                % inputs.ranking_report)


def test_run_summary_feedbackSummaryNotAnObject_fails(tmp_path):
    inputs = run_inputs(tmp_path, tmp_path / "f.csv", [("c1", "W", "P")], feedback={})
    inputs.feedback_summary.write_text("[1, 2]")
    with pytest.raises(pipeline_io.StepError) as error:
        publish.run_summary(inputs, "r", "now")
    assert str(error.value) == ("%s is not a JSON object; it must be FeedbackCalibration's feedback_summary.json"
                                % inputs.feedback_summary)


def test_publish_pointer_namesThePreviousRunFromTheSecondPublishOn(table, tmp_path):
    first = publish.publish(simple_run(tmp_path, 1, 2), TABLE, "run-1", ttl_days=35, writers=1)
    second = publish.publish(simple_run(tmp_path, 2, 2), TABLE, "run-2", ttl_days=35, writers=1)
    pointer = get(table, publish.POINTER_KEY, consistent=True)
    assert first["previous_run_id"] is None and second["previous_run_id"] == "run-1"
    assert pointer["run_id"] == {"S": "run-2"} and pointer["previous_run_id"] == {"S": "run-1"}
    # Publishing run-2 again keeps run-1 as the run it replaced, not itself.
    again = publish.publish(simple_run(tmp_path, 2, 2), TABLE, "run-2", ttl_days=35, writers=1)
    assert again["previous_run_id"] == "run-1"
    assert get(table, publish.POINTER_KEY, consistent=True)["previous_run_id"] == {"S": "run-1"}


def test_publish_readersPollingDuringASecondRun_seeOneRunOrTheOtherNeverAMix(table, tmp_path):
    first, second = simple_run(tmp_path, 1, 400, extra=20), simple_run(tmp_path, 2, 400, extra=20)
    publish.publish(first, TABLE, "run-1", ttl_days=35, writers=2)
    expected = {"run-1": ["P1-0", "P1-1", "P1-2"], "run-2": ["P2-0", "P2-1", "P2-2"]}
    seen: Dict[int, List[Tuple[str, int, List[str]]]] = {i: [] for i in range(3)}
    stop = threading.Event()
    errors: List[BaseException] = []

    def poll(reader_number: int) -> None:
        reader = boto3.client("dynamodb", endpoint_url=table.meta.endpoint_url)
        number = reader_number
        try:
            while not stop.is_set():
                customer = number % 420
                run_id, item = read(reader, "C%05d" % customer)
                products = [r["recommended_product"] for r in json.loads(item["recommendations"]["S"])]
                # Every item of the run the pointer names is there: the customer's, its segment's, the summary.
                found = [get(reader, key) is not None for key in (publish.segment_key(run_id, "W_P"),
                                                                  publish.summary_key(run_id))]
                seen[reader_number].append((run_id, customer, products if all(found) else ["missing"]))
                number += 37
        except BaseException as error:  # noqa: B902 (reported to the test thread)
            errors.append(error)

    readers = [threading.Thread(target=poll, args=(i,)) for i in seen]
    for reader in readers:
        reader.start()
    time.sleep(0.3)
    record = publish.publish(second, TABLE, "run-2", ttl_days=35, writers=2)
    time.sleep(0.3)
    stop.set()
    for reader in readers:
        reader.join()
    assert not errors, errors
    assert record["previous_run_id"] == "run-1"
    for observations in seen.values():
        runs = [run_id for run_id, _, _ in observations]
        # Each read is wholly one run's: the complete list of that run's recommendations, or the empty list of a
        # customer without any.
        assert all(products == (expected[run_id] if customer < 400 else [])
                   for run_id, customer, products in observations)
        assert any(customer >= 400 for _, customer, _ in observations)
        # The reader saw the old run, then the new one, and never went back: the pointer moves once, after every
        # item of the new run is written.
        assert runs[0] == "run-1" and runs[-1] == "run-2", "the readers must overlap the switch"
        switch = runs.index("run-2")
        assert set(runs[:switch]) == {"run-1"} and set(runs[switch:]) == {"run-2"}


def test_publish_customersOfTheNewRunOnly_oldRunItemsStayUntilTtl(table, tmp_path):
    publish.publish(simple_run(tmp_path, 1, 5), TABLE, "run-1", ttl_days=35, writers=1)
    publish.publish(simple_run(tmp_path, 2, 3), TABLE, "run-2", ttl_days=35, writers=1)
    assert read(table, "C00004") == ("run-2", None)  # not in the new run's customers: never seen by it
    old = get(table, publish.run_key("run-1", "C00004"))
    assert int(old["expires_at"]["N"]) > time.time()


def test_publish_finalCustomerMissingFromCustomers_failsBeforeThePointerMoves(table, tmp_path):
    inputs = run_inputs(tmp_path / "in", final_csv(tmp_path, 1, ["c1", "c2"]), [("c1", "W", "P")])
    with pytest.raises(pipeline_io.StepError) as error:
        publish.publish(inputs, TABLE, "run-1", ttl_days=35, writers=1)
    assert str(error.value) == ("customer 'c2' of %s is not in customers.csv; both must come from the same run"
                                % inputs.final)
    assert get(table, publish.POINTER_KEY) is None


class Flaky:
    """A DynamoDB client double that leaves the first request's items unprocessed."""

    def __init__(self) -> None:
        self.calls: List[int] = []

    def batch_write_item(self, RequestItems):  # noqa: N803 (boto3's name)
        pending = RequestItems[TABLE]
        self.calls.append(len(pending))
        return {"UnprocessedItems": {TABLE: pending[:2]} if len(self.calls) == 1 else {}}


def test_write_batch_unprocessedItems_areRetried():
    client = Flaky()
    assert publish.write_batch(client, TABLE, [{"pk": {"S": str(i)}} for i in range(5)]) == 1
    assert client.calls == [5, 2]


@pytest.mark.parametrize("arguments,message", [
    (["--run-id", "a#b"], "--run-id 'a#b' must be non-empty and without '#'"),
    (["--run-id", "r", "--ttl-days", "0"], "--ttl-days 0 must be from 1 to 3650"),
    (["--run-id", "r", "--manifest-uri", "latest.json"], "--manifest-uri 'latest.json' must be an s3:// URI or empty"),
])
def test_main_badArguments_exit2(tmp_path, arguments, message):
    failure = tmp_path / "failure"
    assert publish.main(["--table-name", TABLE, *arguments, "--failure-file", str(failure)]) == 2
    assert failure.read_text() == "Publish failed: " + message


class CapturePut(http.server.BaseHTTPRequestHandler):
    bodies: Dict[str, bytes] = {}

    def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
        CapturePut.bodies[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("ETag", '"1"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def arguments(inputs: publish.RunInputs) -> List[str]:
    return ["--final", str(inputs.final), "--reference", str(inputs.customers.parent), "--invoices",
            str(inputs.invoices), "--ranking-report", str(inputs.ranking_report), "--feedback-summary",
            str(inputs.feedback_summary or "")]


def test_run_writesManifestAfterPublishing(table, tmp_path, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CapturePut)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:%d" % server.server_address[1])
    inputs = simple_run(tmp_path, 1, 4, extra=1)
    try:
        assert publish.main(["--table-name", TABLE, "--run-id", "exec-1", *arguments(inputs),
                             "--manifest-uri", "s3://data/recommendations/latest.json",
                             "--final-uri", "s3://data/recommendations/runs/exec-1/final/recommendations.csv",
                             "--failure-file", str(tmp_path / "failure")]) == 0
    finally:
        server.shutdown()
        server.server_close()
    manifest = json.loads(CapturePut.bodies["/data/recommendations/latest.json"])
    assert manifest["run_id"] == "exec-1" and manifest["customers"] == 4 and manifest["table"] == TABLE
    assert (manifest["customer_items"], manifest["customers_without_recommendations"], manifest["segments"]) == (
        5, 1, 1)
    assert manifest["final_recommendations"] == "s3://data/recommendations/runs/exec-1/final/recommendations.csv"
    assert read(table, "C00001")[0] == "exec-1"


@pytest.mark.parametrize("missing,what", [
    ("final", "FeedbackCalibration's final output"),
    ("customers", "MarketBasket's reference output"),
    ("products", "MarketBasket's reference output"),
    ("invoices", "MarketBasket's invoices output"),
    ("ranking_report", "Ranking's report"),
    ("feedback_summary", "FeedbackCalibration's feedback summary"),
])
def test_run_missingInput_failsNamingItAndItsStep(tmp_path, missing, what):
    inputs = simple_run(tmp_path, 1, 2)
    path = getattr(inputs, missing)
    path.unlink()
    failure = tmp_path / "failure"
    assert publish.main(["--table-name", TABLE, "--run-id", "r", *arguments(inputs),
                         "--failure-file", str(failure)]) == 2
    assert failure.read_text() == "Publish failed: %s not found: %s must be mapped here" % (path, what)


def test_parse_args_defaults_areTheProcessingChannels():
    args = publish.parse_args(["--table-name", TABLE, "--run-id", "r"])
    inputs = publish.RunInputs.from_arguments(args)
    root = Path("/opt/ml/processing/input")
    assert inputs == publish.RunInputs(root / "final" / "recommendations.csv", root / "reference" / "customers.csv",
                                       root / "reference" / "products.csv", root / "invoices" / "invoices.csv",
                                       root / "ranking" / "ranking_report.json",
                                       root / "feedback" / "feedback_summary.json")
    no_summary = publish.parse_args(["--table-name", TABLE, "--run-id", "r", "--feedback-summary", ""])
    assert publish.RunInputs.from_arguments(no_summary).feedback_summary is None


def test_customer_items_customerAcrossChunkBoundaries_isOneItem(tmp_path):
    path = final_csv(tmp_path, 1, ids(7), per_customer=3)  # 21 rows; chunks of 4 split most customers
    customers = publish.Customers.read(run_inputs(tmp_path, path, [(c, "W", "P") for c in ids(8)]).customers)
    covered = np.zeros(len(customers), dtype=bool)
    found = list(publish.customer_items(path, "r", 0, customers, covered, chunk_rows=4))
    assert [item["customer_id"]["S"] for item, _ in found] == ids(7)
    assert all(count == 3 == len(json.loads(item["recommendations"]["S"])) for item, count in found)
    assert covered.tolist() == [True] * 7 + [False]


def test_customer_items_unsortedRows_fail(tmp_path):
    path = final_csv(tmp_path, 1, ids(3))
    customers = publish.Customers.read(run_inputs(tmp_path, path, [(c, "W", "P") for c in ids(3)]).customers)
    frame = pd.read_csv(path)
    frame.iloc[::-1].to_csv(path, index=False)
    with pytest.raises(pipeline_io.StepError) as error:
        list(publish.customer_items(path, "r", 0, customers, np.zeros(3, dtype=bool), chunk_rows=2))
    assert str(error.value) == "%s is not sorted by customer_id; it must be FeedbackCalibration's output" % path


def test_customers_read_nonAsciiIdsInAnyOrder_areFoundAcrossChunks(tmp_path):
    customers = [("Z-9", "W", "P"), ("Ünal", "E", "H"), ("a", "W", "P"), ("Ärger GmbH", "E", "H")]
    index = publish.Customers.read(run_inputs(tmp_path, tmp_path / "f.csv", customers).customers, chunk_rows=1)
    positions = index.positions(pd.Series(["Ärger GmbH", "a", "Z-9", "Ünal"]), tmp_path)
    assert [index.attributes(p)["segment"]["S"] for p in positions] == ["E_H", "W_P", "W_P", "E_H"]
    assert index.segment_sizes().tolist() == [2, 2]


@pytest.mark.parametrize("customers,message", [
    ([("c1", "W", "P"), ("c1", "E", "H")], "lists customer 'c1' more than once"),
    ([], "has no customers"),
])
def test_customers_read_notMarketBasketsOutput_fails(tmp_path, customers, message):
    path = run_inputs(tmp_path, tmp_path / "f.csv", customers).customers
    with pytest.raises(pipeline_io.StepError) as error:
        publish.Customers.read(path)
    assert str(error.value) == "%s %s; it must be MarketBasket's reference output" % (path, message)


def test_customers_read_withoutSegmentColumn_failsNamingIt(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,region,end_use\nc1,W,P\n")
    with pytest.raises(pipeline_io.StepError) as error:
        publish.Customers.read(path)
    assert str(error.value) == "%s lacks column(s) segment; it must be MarketBasket's reference output" % path


def test_chain_outputs_publishEveryCustomerEverySegmentAndTheSummary(table, chain):
    basket_out, final_path = chain["basket_out"], chain["feedback_out"] / "final" / "recommendations.csv"
    inputs = publish.RunInputs(final_path, basket_out / "reference" / "customers.csv",
                               basket_out / "reference" / "products.csv", basket_out / "invoices" / "invoices.csv",
                               chain["ranking_out"] / "ranking_report.json",
                               chain["feedback_out"] / "feedback" / "feedback_summary.json")
    final = pd.read_csv(final_path, dtype={"customer_id": str})
    customers = pd.read_csv(inputs.customers, dtype=str, keep_default_na=False)
    record = publish.publish(inputs, TABLE, "chain-run", ttl_days=7, writers=4)
    assert record["customers"] == final["customer_id"].nunique()
    assert record["recommendations"] == len(final)
    assert record["customer_items"] == len(customers)
    items = {i["pk"]["S"]: i for i in scan(table)}
    for customer, segment in zip(customers["customer_id"], customers["segment"]):
        item = items[publish.run_key("chain-run", customer)]
        assert item["segment"]["S"] == segment
        assert len(json.loads(item["recommendations"]["S"])) == (final["customer_id"] == customer).sum()
    products = pd.read_csv(inputs.products, dtype={"product_id": str})
    in_stock = set(products.loc[products["in_stock"].astype(str) == "True", "product_id"])
    assert set(products["product_id"]) > in_stock
    basket = chain["basket"]
    for segment, size in customers.groupby("segment").size().items():
        popular = json.loads(items[publish.segment_key("chain-run", segment)]["popular"]["S"])
        assert 0 < len(popular) <= 20 and {p["product_id"] for p in popular} <= in_stock
        buyers = basket[basket["segment"] == segment].groupby("product_id")["customer_id"].nunique()
        assert [p["buyers"] for p in popular] == [buyers[p["product_id"]] for p in popular]
        assert [p["buyers"] for p in popular] == sorted((p["buyers"] for p in popular), reverse=True)
        assert popular[0]["buyers"] == buyers[buyers.index.isin(in_stock)].max()
        assert all(p["share"] == p["buyers"] / size and p["recommended_qty"] >= 1 for p in popular)
    summary = json.loads(items[publish.summary_key("chain-run")]["summary"]["S"])
    assert summary["coverage"]["coverage"] == chain["ranking_report"]["coverage"]
    assert summary["feedback_summary"] == chain["summary"]
