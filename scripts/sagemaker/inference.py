"""Serving handlers for the SageMaker scikit-learn container (model_fn, input_fn, predict_fn, output_fn).

The endpoint takes SCALED feature vectors, (x - mean) / scale per the preprocessing spec, in the spec's column_order
and before PCA (the endpoint applies PCA itself when the model has it). That is what the built-in SageMaker k-means
endpoint and the legacy API took, and the SegmentProxy scales raw customer attributes with the spec of the model
version it serves.

Request bodies:
  application/json  {"instances": [[f1, f2, ...], ...]}, {"instances": [{"features": [...]}, ...]} (built-in
                    k-means style), {"features": [[...], ...]} (legacy API) or a bare list of lists
  text/csv          one row per line, no header
Response (application/json): {"predictions": [{"closest_cluster": <stable segment id>, "distance_to_cluster": <float,
Euclidean distance to the centroid in the space KMeans was fitted in: scaled, or PCA scores with PCA>}, ...]}

Bad requests raise InvalidInputError (a ValueError) whose message names the row, the column and the rule broken. The
1.2-1 container's Flask worker wraps any exception from these handlers in sagemaker_containers' ClientError and does
not handle it, so the container answers HTTP 500 and InvokeEndpoint fails with ModelError (HTTP 424, OriginalStatusCode
500); the message is in the endpoint's CloudWatch log. That is why callers go through the SegmentProxy, which
validates input itself and answers 400.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Dict, List

import joblib
import numpy as np

import segments

JSON = "application/json"
CSV = "text/csv"


class InvalidInputError(ValueError):
    """The request cannot be scored; the message tells the caller what to fix."""


def model_fn(model_dir: str) -> Dict[str, object]:
    bundle = joblib.load(os.path.join(model_dir, "model.joblib"))
    if bundle.get("format") != segments.BUNDLE_FORMAT:
        raise RuntimeError("model.joblib has format %r, this inference.py reads format %d"
                           % (bundle.get("format"), segments.BUNDLE_FORMAT))
    return bundle


def _media_type(content_type: str) -> str:
    return (content_type or JSON).split(";")[0].strip().lower()


def _rows_from_json(text: str) -> list:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise InvalidInputError("request body is not valid JSON: %s" % error) from error
    if isinstance(document, dict):
        keys = [key for key in ("instances", "features") if key in document]
        if len(keys) != 1:
            raise InvalidInputError('JSON object must have exactly one of "instances" or "features" (a list of rows)')
        rows = document[keys[0]]
        if keys[0] == "instances" and isinstance(rows, list):
            rows = [row["features"] if isinstance(row, dict) and "features" in row else row for row in rows]
    else:
        rows = document
    if not isinstance(rows, list):
        raise InvalidInputError("rows must be a JSON list of lists of numbers")
    return rows


def _csv_cell(cell: str) -> object:
    try:
        return float(cell)
    except ValueError:
        return cell


def _rows_from_csv(text: str) -> list:
    """CSV cells become floats where they parse; the rest stay text and are reported by parse_rows."""
    return [[_csv_cell(cell) for cell in row]
            for row in csv.reader(io.StringIO(text)) if row and any(cell.strip() for cell in row)]


def _to_float(value: object, row: int, column: int, features: List[str]) -> float:
    where = "row %d, column %d (%s)" % (row, column, features[column])
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError("%s: %r is not a number" % (where, value))
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError("%s: %r is not a finite number (NaN and infinity are not allowed)" % (where, value))
    return number


def parse_rows(rows: list, features: List[str]) -> np.ndarray:
    """Validated float matrix (rows x features) from decoded rows."""
    if not rows:
        raise InvalidInputError("the batch is empty: send at least one row of %d features (%s)"
                                % (len(features), ", ".join(features)))
    matrix = np.empty((len(rows), len(features)))
    for r, row in enumerate(rows):
        if not isinstance(row, list):
            raise InvalidInputError("row %d: expected a list of %d numbers (%s), got %r"
                                    % (r, len(features), ", ".join(features), row))
        if len(row) != len(features):
            raise InvalidInputError("row %d: expected %d values (%s), got %d"
                                    % (r, len(features), ", ".join(features), len(row)))
        for c, value in enumerate(row):
            matrix[r, c] = _to_float(value, r, c, features)
    return matrix


def input_fn(request_body: object, content_type: str = JSON) -> list:
    """Decodes the request into rows; predict_fn checks them against the model's features (input_fn does not see
    the model). A bytes body must be UTF-8."""
    media_type = _media_type(content_type)
    if isinstance(request_body, (bytes, bytearray)):
        try:
            request_body = request_body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInputError("request body is not UTF-8 text: %s" % error) from error
    if media_type == JSON:
        rows = _rows_from_json(str(request_body))
    elif media_type == CSV:
        rows = _rows_from_csv(str(request_body))
    else:
        raise InvalidInputError("unsupported content type %r: use %s or %s" % (content_type, JSON, CSV))
    return rows


def predict_fn(input_data: list, model: Dict[str, object]) -> List[Dict[str, object]]:
    features = list(model["features"])
    matrix = parse_rows(input_data, features)
    ids, distances = segments.assign_segments(model, matrix)
    return [{"closest_cluster": int(i), "distance_to_cluster": float(d)} for i, d in zip(ids, distances)]


def output_fn(prediction: List[Dict[str, object]], accept: str = JSON) -> str:
    media_type = _media_type(accept)
    if media_type not in (JSON, "*/*"):
        raise InvalidInputError("unsupported Accept %r: this endpoint answers %s" % (accept, JSON))
    return json.dumps({"predictions": prediction})
