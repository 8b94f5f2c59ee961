"""Sends the README run command's example requests to the recommendations routes of a running API and prints the answers.

Usage: example_recommendations.py --api URL [--key KEY] --customers customers.csv

GET /recommendations/summary (the published run and its coverage), GET /recommendations/<customer> for the first
customer of the CSV that has recommendations, a cold-start answer for a customer the pipeline has never seen, and the
same POST /feedback twice (stored once). Exits 1 when an answer is not what the API contract says, so the run command
fails loudly.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote, urlencode

from example_requests import call, format_table

# Customers of the CSV tried, in file order, before giving up on finding one with recommendations.
MAX_TRIES = 50
NEW_CUSTOMER = "NEW-CUSTOMER-0001"


def read_customers(path: Path) -> List[Dict[str, str]]:
    """The rows of a customers CSV (customer_id, region, end_use)."""
    with path.open(newline="") as source:
        return [row for row in csv.DictReader(source) if row.get("customer_id")]


def recommendation_rows(answer: Dict[str, Any]) -> List[List[object]]:
    """One row per recommendation of a GET /recommendations/{customerId} answer. Raises ValueError on a bad answer."""
    recommendations = answer.get("recommendations")
    if not isinstance(recommendations, list):
        raise ValueError("the answer has no recommendations list: %s" % json.dumps(answer))
    rows: List[List[object]] = []
    for item in recommendations:
        rows.append([int(item["rank"]), str(item["product_id"]), float(item["score"]),
                     "" if item.get("confidence") is None else float(item["confidence"]),
                     "" if item.get("lift") is None else float(item["lift"]),
                     item.get("trigger_product") or "", int(item["recommended_qty"]), str(item["reason"])])
    if [row[0] for row in rows] != list(range(1, len(rows) + 1)):
        raise ValueError("ranks are not 1..%d in order: %s" % (len(rows), [row[0] for row in rows]))
    return rows


def summary_line(summary: Dict[str, Any]) -> str:
    """The published run, its coverage and, when feedback was given, the acceptance rate."""
    coverage = summary.get("coverage") or {}
    line = "run %s published %s: %s of %s customers covered (%.1f%%), %s recommendations" % (
        summary.get("run_id"), summary.get("published_at"), coverage.get("customers_covered"), coverage.get("customers"),
        100.0 * float(coverage.get("coverage", 0.0)), coverage.get("recommendations"))
    feedback = summary.get("feedback_summary")
    rate = (feedback or {}).get("overall", {}).get("acceptance_rate")
    return line + ("; feedback acceptance rate %.1f%%" % (100.0 * float(rate)) if rate is not None else "; no feedback summary")


def find_recommended(base: str, key: Optional[str], customers: List[Dict[str, str]]) -> Tuple[Dict[str, str], Dict[str, Any]]:
    """The first customer (of the first MAX_TRIES) whose answer has recommendations, with that answer."""
    for customer in customers[:MAX_TRIES]:
        status, answer = call(base + "recommendations/" + quote(customer["customer_id"], safe=""), key)
        if status != 200:
            raise ValueError("GET /recommendations/%s answered %d: %s" % (customer["customer_id"], status, json.dumps(answer)))
        if answer.get("recommendations"):
            return customer, answer
    raise ValueError("none of the first %d customers has a recommendation" % min(MAX_TRIES, len(customers)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", required=True, help="the stage URL, e.g. http://127.0.0.1:8080/prod/")
    parser.add_argument("--key", default=None, help="the API key (x-api-key)")
    parser.add_argument("--customers", required=True, type=Path, help="the customers CSV the pipeline ran on")
    args = parser.parse_args(argv)
    base = args.api if args.api.endswith("/") else args.api + "/"

    try:
        status, summary = call(base + "recommendations/summary", args.key)
        if status != 200:
            raise ValueError("GET /recommendations/summary answered %d: %s" % (status, json.dumps(summary)))
        print("GET /recommendations/summary: " + summary_line(summary))

        customer, answer = find_recommended(base, args.key, read_customers(args.customers))
        print("\nGET /recommendations/%s (segment %s, run %s)" % (customer["customer_id"], answer.get("segment"), answer.get("run_id")))
        print(format_table(["rank", "product", "score", "confidence", "lift", "trigger", "qty", "reason"], recommendation_rows(answer)))

        query = urlencode({"region": customer["region"], "end_use": customer["end_use"]})
        status, cold = call(base + "recommendations/" + NEW_CUSTOMER + "?" + query, args.key)
        if status != 200 or cold.get("cold_start") is not True:
            raise ValueError("GET /recommendations/%s?%s answered %d: %s" % (NEW_CUSTOMER, query, status, json.dumps(cold)))
        print("\nGET /recommendations/%s?%s (never seen: cold start, popular in segment %s)" % (NEW_CUSTOMER, query, cold.get("segment")))
        print(format_table(["rank", "product", "score", "confidence", "lift", "trigger", "qty", "reason"], recommendation_rows(cold)))

        status, unknown = call(base + "recommendations/" + NEW_CUSTOMER, args.key)
        print("\nGET /recommendations/%s without region and end_use answered %d: %s" % (NEW_CUSTOMER, status, json.dumps(unknown)))
        if status != 404 or unknown.get("field") != "customerId":
            raise ValueError("expected 404 naming customerId")

        rating = {"customer_id": customer["customer_id"], "product_id": answer["recommendations"][0]["product_id"], "rating": "High"}
        first, stored = call(base + "feedback", args.key, rating)
        again, replayed = call(base + "feedback", args.key, rating)
        print("\nPOST /feedback %s answered %d (stored %s), the same again %d (stored %s): key %s" % (
            json.dumps(rating), first, stored.get("stored"), again, replayed.get("stored"), stored.get("idempotency_key")))
        if (first, stored.get("stored"), again, replayed.get("stored")) != (201, True, 200, False):
            raise ValueError("expected 201 stored, then 200 not stored again: %s / %s" % (json.dumps(stored), json.dumps(replayed)))
    except (ValueError, KeyError, TypeError) as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
