"""Sends the README run command's example requests to a running segment API and prints the answers as tables.

Usage: example_requests.py --api URL [--key KEY]

GET /segments (the profiles), POST /segment with a few raw customers, and one request with a mistake to show the
API's 400. Exits 1 when the API does not answer as contract 6 says, so the run command fails loudly.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Sequence, Tuple

FIXED_CUSTOMERS: List[Dict[str, float]] = [
    {"age": 23, "income": 28000, "purchases": 4},
    {"age": 67, "income": 41000, "purchases": 18},
]
MISTAKE = {"customers": [{"age": 34, "income": -5, "purchases": 12}]}


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned text columns, numbers right-aligned, one header rule."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[i]) for row in cells]) for i, header in enumerate(headers)]
    numeric = [all(isinstance(row[i], (int, float)) for row in rows) and bool(rows) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.rjust(widths[i]) if numeric[i] else value.ljust(widths[i])
                         for i, value in enumerate(values)).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths])] + [line(row) for row in cells])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "%.3f" % value if abs(value) < 1000 else "{:,.0f}".format(value)
    return str(value)


def example_customers(profiles: Dict[str, Any]) -> List[Dict[str, float]]:
    """A customer at each segment's centroid (rounded as a person would type it), then two fixed ones."""
    customers: List[Dict[str, float]] = []
    for segment in profiles.get("segments", []):
        centroid = segment.get("centroid", {})
        if all(name in centroid for name in ("Age", "Income", "Purchases")):
            customers.append({"age": int(round(centroid["Age"])), "income": int(round(centroid["Income"], -2)),
                              "purchases": int(round(centroid["Purchases"]))})
    return customers + FIXED_CUSTOMERS


def prediction_rows(customers: Sequence[Dict[str, float]], answer: Dict[str, Any]) -> List[List[object]]:
    """One row per customer: its attributes and the segment the API gave it. Raises ValueError on a bad answer."""
    predictions = answer.get("predictions")
    if not isinstance(predictions, list) or len(predictions) != len(customers):
        raise ValueError("POST /segment answered %d predictions for %d customers: %s"
                         % (len(predictions) if isinstance(predictions, list) else -1, len(customers), answer))
    rows: List[List[object]] = []
    for customer, prediction in zip(customers, predictions):
        rows.append([customer["age"], customer["income"], customer["purchases"], int(prediction["closest_cluster"]),
                     str(prediction.get("segment_label", "")), float(prediction["distance_to_cluster"])])
    return rows


def profile_rows(answer: Dict[str, Any]) -> List[List[object]]:
    """One row per segment of GET /segments: id, label, size and the centroid in raw units."""
    rows: List[List[object]] = []
    for segment in answer.get("segments", []):
        centroid = segment.get("centroid", {})
        rows.append([segment.get("id"), segment.get("label", ""), segment.get("size", ""),
                     _rounded(centroid.get("Age")), _rounded(centroid.get("Income")), _rounded(centroid.get("Purchases"))])
    return rows


def _rounded(value: Optional[float]) -> object:
    return "" if value is None else round(float(value), 1)


def call(url: str, key: Optional[str], body: Optional[Dict[str, Any]] = None) -> Tuple[int, Dict[str, Any]]:
    """The status and JSON answer of one request; HTTP errors are answers too."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    request.add_header("Accept", "application/json")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("x-api-key", key)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read().decode())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode() or "{}")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", required=True, help="the stage URL, e.g. http://127.0.0.1:8080/prod/")
    parser.add_argument("--key", default=None, help="the API key (x-api-key)")
    args = parser.parse_args(argv)
    base = args.api if args.api.endswith("/") else args.api + "/"

    status, profiles = call(base + "segments", args.key)
    if status != 200:
        print("GET /segments answered %d: %s" % (status, profiles), file=sys.stderr)
        return 1
    print("GET /segments (model version %s)" % profiles.get("model_version", "?"))
    print(format_table(["segment", "label", "size", "age", "income", "purchases"], profile_rows(profiles)))

    customers = example_customers(profiles)
    status, answer = call(base + "segment", args.key, {"customers": customers})
    if status != 200:
        print("POST /segment answered %d: %s" % (status, answer), file=sys.stderr)
        return 1
    print("\nPOST /segment (endpoint %s, model version %s)" % (answer.get("endpoint"), answer.get("model_version")))
    try:
        rows = prediction_rows(customers, answer)
    except (ValueError, KeyError, TypeError) as error:
        print(str(error), file=sys.stderr)
        return 1
    print(format_table(["age", "income", "purchases", "segment", "label", "distance"], rows))

    status, refused = call(base + "segment", args.key, MISTAKE)
    print("\nPOST /segment with income -5 answered %d: %s" % (status, json.dumps(refused)))
    if status != 400 or refused.get("field") != "customers[0].income":
        print("expected 400 naming customers[0].income", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
