"""The seed's proposed design, as a measurement baseline: a Python Lambda that loads the fitted StandardScaler pickled
with joblib from the model artifacts and scales the raw customers of a POST /segment proxy event.

It answers the body it would send to the endpoint ({"instances": scaled rows}); the endpoint call itself is left out,
as the benchmark excludes it for both designs. The scaler is loaded once per process, at import (Lambda init), from
SCALER_PATH (default: scaler.joblib next to this file): the "spec cached locally" case.
"""
from __future__ import annotations

import json
import math
import os
from typing import Dict, List

import joblib
import numpy as np

COLUMNS = ("age", "income", "purchases")
SCALER = joblib.load(os.environ.get("SCALER_PATH") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                    "scaler.joblib"))


def _error(message: str) -> Dict[str, object]:
    return {"statusCode": 400, "headers": {"Content-Type": "application/json"}, "body": json.dumps({"error": message})}


def _row(customer: object, index: int) -> List[float]:
    if not isinstance(customer, dict):
        raise ValueError("customers[%d] must be an object" % index)
    row = []
    for column in COLUMNS:
        value = customer.get(column)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError("customers[%d].%s must be a finite number" % (index, column))
        row.append(float(value))
    return row


def handler(event: Dict[str, object], context: object) -> Dict[str, object]:
    try:
        body = json.loads(event.get("body") or "")
        customers = body.get("customers") if isinstance(body, dict) else None
        if not isinstance(customers, list) or not customers:
            raise ValueError("customers must be a non-empty list")
        rows = [_row(customer, index) for index, customer in enumerate(customers)]
    except ValueError as error:
        return _error(str(error))
    scaled = SCALER.transform(np.array(rows, dtype=float))
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"instances": scaled.tolist()})}
