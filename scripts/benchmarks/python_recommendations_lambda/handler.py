"""The seed's serving design (seed 003, section 9), as a measurement baseline: its endpoint's inference.py reads
final/recommendations.csv once, at start-up, and per request filters the rows of the customer and answers up to 5
recommendations as JSON. Here it is a Python Lambda handler behind the same loopback Runtime API as the native
RecommendationsApi (scripts/benchmarks/python_scaler_lambda/runtime_loop.py runs it).

The CSV is loaded with pandas at import, which is Lambda's init, so the cold start includes it as the endpoint's
start-up did; it comes from RECOMMENDATIONS_CSV, a local file (the endpoint read it from S3: that transfer is left out,
in the baseline's favour). Per GET /recommendations/{customerId} proxy event: a boolean mask over every row for the
customer, the rows by rank, at most TOP_K, answered 200 {"customer_id", "recommendations": [{product_id, rank, score,
confidence, lift, l2_category, l3_category, trigger_product, recommended_qty, reason}]} (the fields of the seed's
answer as issue 9 lists them, missing numbers as null); a customer without rows is a 404. Each request prints one JSON
line with the filter's own time, {"message": "Customer filtered.", "filterMs", "rows"}, before the runtime loop's
"Request served." line with the handler's.
"""
from __future__ import annotations

import json
import math
import os
import time
from typing import Dict, List, Tuple

import pandas as pd

TOP_K = 5
# (CSV column, answer field), in the answer's order.
FIELDS: Tuple[Tuple[str, str], ...] = (
    ("recommended_product", "product_id"), ("rank", "rank"), ("score", "score"), ("confidence", "confidence"),
    ("lift", "lift"), ("l2_category", "l2_category"), ("l3_category", "l3_category"),
    ("trigger_product", "trigger_product"), ("recommended_qty", "recommended_qty"), ("reason", "reason"))
RECOMMENDATIONS = pd.read_csv(os.environ["RECOMMENDATIONS_CSV"],
                              dtype={"customer_id": str, "recommended_product": str, "trigger_product": str})


def _answer(status: int, document: Dict[str, object]) -> Dict[str, object]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(document)}


def _json_value(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


def handler(event: Dict[str, object], context: object) -> Dict[str, object]:
    customer_id = (event.get("pathParameters") or {}).get("customerId") or ""
    started = time.perf_counter()
    rows = RECOMMENDATIONS[RECOMMENDATIONS["customer_id"] == customer_id].sort_values("rank").head(TOP_K)
    filter_ms = (time.perf_counter() - started) * 1000
    print(json.dumps({"message": "Customer filtered.", "filterMs": filter_ms, "rows": len(rows)}), flush=True)
    if rows.empty:
        return _answer(404, {"error": "customer %s has no recommendations" % customer_id})
    records = rows[[column for column, _ in FIELDS]].to_dict("records")
    recommendations: List[Dict[str, object]] = [
        {name: _json_value(record[column]) for column, name in FIELDS} for record in records]
    return _answer(200, {"customer_id": customer_id, "recommendations": recommendations})
