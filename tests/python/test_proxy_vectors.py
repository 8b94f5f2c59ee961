"""The SegmentProxy's shared test vectors (proxy_vectors.py): they must describe what the Python side really does, since
Lambdas.Tests holds the C# scaling and centroid scoring to them."""
from __future__ import annotations

import json

import numpy as np
import pytest

import inference
import proxy_vectors
import segments


@pytest.fixture(scope="module")
def vectors() -> dict:
    return proxy_vectors.build()


def test_build_same_seed_same_vectors(vectors):
    assert json.dumps(proxy_vectors.build(), sort_keys=True) == json.dumps(vectors, sort_keys=True)


def test_models_cover_raw_spending_power_pca_and_a_constant_column(vectors):
    by_name = {model["name"]: model for model in vectors["models"]}
    assert list(by_name) == ["raw_features", "spending_power", "pca", "constant_age"]
    assert by_name["pca"]["spec"]["pca"]["n_components"] == 2
    assert "SpendingPower" in by_name["spending_power"]["spec"]["column_order"]
    assert by_name["constant_age"]["spec"]["scaler"]["scale"][0] == 1.0


def test_scaled_is_mean_and_scale_of_the_spec(vectors):
    for model in vectors["models"]:
        scaler = model["spec"]["scaler"]
        expected = (np.asarray(model["features"]) - np.asarray(scaler["mean"])) / np.asarray(scaler["scale"])
        assert np.array_equal(expected, np.asarray(model["scaled"])), model["name"]


def test_features_follow_the_recipe_in_column_order(vectors):
    for model in vectors["models"]:
        for customer, row in zip(model["customers"], model["features"]):
            expected = [customer["income"] / customer["purchases"] if name == "SpendingPower" else customer[name.lower()]
                        for name in model["spec"]["column_order"]]
            assert row == expected, model["name"]


def test_predictions_name_profile_ids_and_the_customers_are_within_the_proxy_limits(vectors):
    for model in vectors["models"]:
        ids = {segment["id"] for segment in model["profiles"]["segments"]}
        assert len(model["predictions"]) == len(model["customers"])
        assert {p["closest_cluster"] for p in model["predictions"]} <= ids
        for customer in model["customers"]:
            assert segments.AGE_RANGE[0] <= customer["age"] <= segments.AGE_RANGE[1]
            assert 0 <= customer["income"] <= 1e9 and 0 < customer["purchases"] <= 1e6


def test_endpoint_body_is_accepted_by_inference_input_fn(vectors):
    for model in vectors["models"]:
        rows = inference.input_fn(model["endpoint_body"].encode("utf-8"), "application/json")
        assert rows == model["scaled"]


def test_main_writes_the_vectors_file(tmp_path):
    out = tmp_path / "vectors.json"
    assert proxy_vectors.main(["--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(proxy_vectors.build()))
