"""inference.py handlers as the sklearn serving container calls them: model_fn, input_fn, predict_fn, output_fn."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict

import joblib
import numpy as np
import pytest
import threadpoolctl

import inference
import segments
import train
from sample_data.customers import generate

FEATURES = ["Age", "Income", "Purchases"]


def save_model(folder: Path, n_components: int = 0, baseline: train.Baseline = train.Baseline("none")) -> Path:
    x = generate(rows=600, seed=21, segments=3).frame[FEATURES].astype(float).to_numpy()
    with threadpoolctl.threadpool_limits(1):
        result = train.fit_segmentation(x, FEATURES, 3, 10, n_components, 42, baseline)
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(result.bundle, folder / "model.joblib")
    return folder


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Dict[str, object]:
    return inference.model_fn(str(save_model(tmp_path_factory.mktemp("model"))))


def invoke(model: Dict[str, object], body: object, content_type: str = "application/json",
           accept: str = "application/json") -> dict:
    return json.loads(inference.output_fn(inference.predict_fn(inference.input_fn(body, content_type), model), accept))


ROWS = [[0.0, 0.0, 0.0], [1.2, -0.5, 0.3]]


def expected(model: Dict[str, object], rows) -> list:
    ids, distances = segments.assign_segments(model, np.array(rows, dtype=float))
    return [{"closest_cluster": int(i), "distance_to_cluster": pytest.approx(float(d))} for i, d in zip(ids, distances)]


@pytest.mark.parametrize("body", [
    json.dumps({"instances": ROWS}),
    json.dumps({"instances": [{"features": row} for row in ROWS]}),
    json.dumps({"features": ROWS}),
    json.dumps(ROWS),
    json.dumps(ROWS).encode("utf-8"),
])
def test_invoke_jsonVariants_answerBuiltInKMeansShape(model, body):
    assert invoke(model, body) == {"predictions": expected(model, ROWS)}


def test_invoke_contentTypeWithCharset_isJson(model):
    assert invoke(model, json.dumps(ROWS), "application/json; charset=utf-8")["predictions"] == expected(model, ROWS)


def test_invoke_csv_oneRowPerLineBlankLinesIgnored(model):
    body = "0,0,0\r\n\n 1.2 , -0.5,0.3\n"
    assert invoke(model, body, "text/csv") == {"predictions": expected(model, ROWS)}


def test_invoke_acceptAnything_answersJson(model):
    assert invoke(model, json.dumps(ROWS), accept="*/*")["predictions"] == expected(model, ROWS)


def test_invoke_clusterIsIntAndDistanceIsToNearestCentroid(model):
    prediction = invoke(model, json.dumps([[0.1, 0.2, 0.3]]))["predictions"][0]
    centers = model["kmeans"].cluster_centers_
    distances = np.linalg.norm(centers - np.array([0.1, 0.2, 0.3]), axis=1)
    assert isinstance(prediction["closest_cluster"], int)
    assert prediction["closest_cluster"] == model["segment_ids"][int(distances.argmin())]
    assert prediction["distance_to_cluster"] == pytest.approx(distances.min())


def test_invoke_pcaModel_takesPrePcaVectorsAndMeasuresInPcaSpace(tmp_path):
    pca_model = inference.model_fn(str(save_model(tmp_path, n_components=2)))
    prediction = invoke(pca_model, json.dumps([[0.1, 0.2, 0.3]]))["predictions"][0]
    projected = pca_model["pca"].transform(np.array([[0.1, 0.2, 0.3]]))
    distances = np.linalg.norm(pca_model["kmeans"].cluster_centers_ - projected, axis=1)
    assert prediction["distance_to_cluster"] == pytest.approx(distances.min())


def test_invoke_stableIdsFromBaseline_areAnswered(tmp_path, model):
    centroids = model["scaler"].inverse_transform(model["kmeans"].cluster_centers_)
    baseline = train.Baseline("loaded", [7, 3, 5], centroids)
    renumbered = inference.model_fn(str(save_model(tmp_path, baseline=baseline)))
    answered = [p["closest_cluster"] for p in invoke(renumbered, json.dumps(model["kmeans"].cluster_centers_.tolist()))
                ["predictions"]]
    assert answered == [7, 3, 5]


def test_model_fn_otherFormat_refusesToLoad(tmp_path):
    joblib.dump({"format": 99}, tmp_path / "model.joblib")
    with pytest.raises(RuntimeError) as error:
        inference.model_fn(str(tmp_path))
    assert str(error.value) == "model.joblib has format 99, this inference.py reads format 1"


@pytest.mark.parametrize("body,content_type,message", [
    ("[]", "application/json", "the batch is empty: send at least one row of 3 features (Age, Income, Purchases)"),
    ('{"instances": []}', "application/json",
     "the batch is empty: send at least one row of 3 features (Age, Income, Purchases)"),
    ("\n\n", "text/csv", "the batch is empty: send at least one row of 3 features (Age, Income, Purchases)"),
    ("[[1, 2]]", "application/json", "row 0: expected 3 values (Age, Income, Purchases), got 2"),
    ("0,0,0\n1,2,3,4", "text/csv", "row 1: expected 3 values (Age, Income, Purchases), got 4"),
    ('[[1, "x", 3]]', "application/json", "row 0, column 1 (Income): 'x' is not a number"),
    ('[[1, "2", 3]]', "application/json", "row 0, column 1 (Income): '2' is not a number"),
    ("[[1, 2, true]]", "application/json", "row 0, column 2 (Purchases): True is not a number"),
    ("[[null, 2, 3]]", "application/json", "row 0, column 0 (Age): None is not a number"),
    ("[[1, 2, NaN]]", "application/json",
     "row 0, column 2 (Purchases): nan is not a finite number (NaN and infinity are not allowed)"),
    ("[[1, 2, 3], [Infinity, 2, 3]]", "application/json",
     "row 1, column 0 (Age): inf is not a finite number (NaN and infinity are not allowed)"),
    ("1,abc,3", "text/csv", "row 0, column 1 (Income): 'abc' is not a number"),
    ("1,nan,3", "text/csv", "row 0, column 1 (Income): nan is not a finite number (NaN and infinity are not allowed)"),
    ("1,,3", "text/csv", "row 0, column 1 (Income): '' is not a number"),
    ("[1, 2, 3]", "application/json", "row 0: expected a list of 3 numbers (Age, Income, Purchases), got 1"),
    ('{"instances": [[1, 2, 3]], "features": [[1, 2, 3]]}', "application/json",
     'JSON object must have exactly one of "instances" or "features" (a list of rows)'),
    ('{"rows": [[1, 2, 3]]}', "application/json",
     'JSON object must have exactly one of "instances" or "features" (a list of rows)'),
    ('{"features": "1,2,3"}', "application/json", "rows must be a JSON list of lists of numbers"),
])
def test_invoke_badRequest_errorNamesRowColumnAndRule(model, body, content_type, message):
    with pytest.raises(inference.InvalidInputError) as error:
        invoke(model, body, content_type)
    assert str(error.value) == message
    assert isinstance(error.value, ValueError)


def test_input_fn_invalidJson_errorSaysSo():
    with pytest.raises(inference.InvalidInputError) as error:
        inference.input_fn("[[1, 2,", "application/json")
    assert str(error.value).startswith("request body is not valid JSON: Expecting value: line 1 column 8")


def test_input_fn_unsupportedContentType_errorListsSupported():
    with pytest.raises(inference.InvalidInputError) as error:
        inference.input_fn(b"\x00", "application/x-protobuf")
    assert str(error.value) == ("unsupported content type 'application/x-protobuf': use application/json or "
                                "text/csv")


def test_input_fn_notUtf8_errorSaysSo():
    with pytest.raises(inference.InvalidInputError, match="request body is not UTF-8 text"):
        inference.input_fn(b"\xff\xfe", "text/csv")


def test_output_fn_unsupportedAccept_errorNamesIt():
    with pytest.raises(inference.InvalidInputError) as error:
        inference.output_fn([], "text/csv")
    assert str(error.value) == "unsupported Accept 'text/csv': this endpoint answers application/json"
