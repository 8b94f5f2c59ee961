"""train.py: automatic k, stable segment ids across retrains, labels, hyperparameter checks and the baseline fetch."""
from __future__ import annotations

import http.server
import json
import os
import threading
from typing import Dict, Iterator, List

import numpy as np
import pytest
import threadpoolctl
from botocore.exceptions import ClientError
from sklearn.metrics import adjusted_rand_score

import segments
import train
from sample_data.customers import generate

FEATURES = ["Age", "Income", "Purchases"]
NO_BASELINE = train.Baseline("none")


def features_of(rows: int, seed: int, k: int) -> tuple:
    data = generate(rows=rows, seed=seed, segments=k)
    return data.frame[FEATURES].astype(float).to_numpy(), data.segment


def fit(x: np.ndarray, baseline: train.Baseline = NO_BASELINE, n_clusters: int = 0, max_k: int = 6,
        n_components: int = 0, seed: int = 42) -> train.TrainingResult:
    return train.fit_segmentation(x, FEATURES, n_clusters, max_k, n_components, seed, baseline)


def baseline_from(result: train.TrainingResult, ids: List[int] = None) -> train.Baseline:
    found = result.profiles["segments"]
    raw = np.array([[s["centroid"][f] for f in FEATURES] for s in found])
    return train.Baseline("loaded", ids or [s["id"] for s in found], raw)


def centroid_of(result: train.TrainingResult, segment_id: int) -> np.ndarray:
    segment = next(s for s in result.profiles["segments"] if s["id"] == segment_id)
    return np.array([segment["centroid"][f] for f in FEATURES])


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """These models are tiny; on a shared, busy test host OpenMP's spinning threads cost more than they give."""
    with threadpoolctl.threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def four_segments() -> tuple:
    x, truth = features_of(1200, seed=11, k=4)
    return x, truth, fit(x)


@pytest.mark.parametrize("k,seed", [(4, 11), (6, 12)])
def test_fit_segmentation_knownK_isRecovered(k, seed):
    x, truth = features_of(2400, seed=seed, k=k)
    result = fit(x, max_k=8)
    assert result.metrics["k"] == k
    served = segments.assign_segments(result.bundle, result.bundle["scaler"].transform(x))[0]
    assert adjusted_rand_score(truth, served) == pytest.approx(1.0, abs=0.01)
    assert result.metrics["silhouette"] > 0.7


def test_fit_segmentation_auto_recordsCurveForEveryCandidate(four_segments):
    curve = four_segments[2].metrics["k_selection"]["curve"]
    assert [point["k"] for point in curve] == list(range(2, 7))
    best = max(curve, key=lambda point: point["silhouette"])
    assert best["k"] == 4
    assert all(point["inertia"] > 0 for point in curve)
    assert four_segments[2].metrics["k_selection"]["method"] == "silhouette"


def test_fit_segmentation_fixedK_fitsThatK():
    x, _ = features_of(600, seed=3, k=3)
    result = fit(x, n_clusters=5)
    assert result.metrics["k"] == 5
    assert [p["k"] for p in result.metrics["k_selection"]["curve"]] == [5]
    assert result.metrics["k_selection"]["method"] == "fixed"


def test_fit_segmentation_noBaseline_idsAscendByFirstFeature(four_segments):
    result = four_segments[2]
    ages = [s["centroid"]["Age"] for s in sorted(result.profiles["segments"], key=lambda s: s["id"])]
    assert [s["id"] for s in result.profiles["segments"]] == [0, 1, 2, 3]
    assert ages == sorted(ages)
    assert result.metrics["label_stability_ari"] is None
    assert result.metrics["baseline_status"] == "none"


def test_fit_segmentation_noBaselineOtherSeed_sameIdsForSameCentroids(four_segments):
    x, _, first = four_segments
    second = fit(x, seed=7)
    for segment in range(4):
        np.testing.assert_allclose(centroid_of(second, segment), centroid_of(first, segment), rtol=1e-3)


def test_fit_segmentation_baselineWithPermutedIds_adoptsBaselineIds(four_segments):
    x, _, first = four_segments
    permuted = [13, 10, 12, 11]
    result = fit(x[::-1].copy(), baseline=baseline_from(first, permuted), seed=5)
    assert sorted(s["id"] for s in result.profiles["segments"]) == sorted(permuted)
    for old_id, new_id in zip([0, 1, 2, 3], permuted):
        np.testing.assert_allclose(centroid_of(result, new_id), centroid_of(first, old_id), rtol=1e-3)
    assert result.bundle["segment_ids"] == [10, 11, 12, 13]
    assert result.metrics["label_stability_ari"] == pytest.approx(1.0)


def test_fit_segmentation_shuffledRowsWithBaseline_servedModelAnswersSameIds(four_segments):
    x, _, first = four_segments
    shuffled = x[np.random.default_rng(3).permutation(len(x))]
    result = fit(shuffled, baseline=baseline_from(first), seed=99)
    scaled_first = first.bundle["scaler"].transform(x)
    scaled_second = result.bundle["scaler"].transform(x)
    np.testing.assert_array_equal(segments.assign_segments(result.bundle, scaled_second)[0],
                                  segments.assign_segments(first.bundle, scaled_first)[0])
    assert result.metrics["label_stability_ari"] == pytest.approx(1.0)


def test_fit_segmentation_moreClustersThanBaseline_extraGetsNextId(four_segments):
    x, _, first = four_segments
    three = fit(x, n_clusters=3)
    result = fit(x, baseline=baseline_from(three, [5, 2, 7]))
    assert sorted(result.bundle["segment_ids"]) == [2, 5, 7, 8]
    assert 0.5 < result.metrics["label_stability_ari"] < 1.0


def test_fit_segmentation_fewerClustersThanBaseline_idsAreSubsetAndServed(four_segments):
    x, _, first = four_segments
    result = fit(x, n_clusters=3, baseline=baseline_from(first))
    ids = set(result.bundle["segment_ids"])
    assert len(ids) == 3 and ids <= {0, 1, 2, 3}
    served = segments.assign_segments(result.bundle, result.bundle["scaler"].transform(x))[0]
    assert set(served) == ids


def test_fit_segmentation_differentPartition_ariBelowOne(four_segments):
    x, _, first = four_segments
    shifted = baseline_from(first)
    shifted.raw_centroids = shifted.raw_centroids[[0, 0, 0, 1]] + [[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 0, 0]]
    result = fit(x, baseline=shifted)
    assert result.metrics["label_stability_ari"] < 0.8


def test_fit_segmentation_pca_distancesInPcaSpaceAndSpecHasComponents(four_segments):
    x = four_segments[0]
    result = fit(x, n_components=2, n_clusters=4)
    assert result.spec["distance_space"] == "pca"
    assert np.array(result.spec["pca"]["components"]).shape == (2, 3)
    assert result.bundle["kmeans"].cluster_centers_.shape == (4, 2)
    profile_ages = [s["centroid"]["Age"] for s in result.profiles["segments"]]
    assert min(profile_ages) > 15 and max(profile_ages) < 80


def test_fit_segmentation_model_keepsNoPerRowData(four_segments):
    bundle = four_segments[2].bundle
    assert not hasattr(bundle["kmeans"], "labels_")
    assert bundle["format"] == segments.BUNDLE_FORMAT


def test_fit_segmentation_specMatchesScaler(four_segments):
    x, _, result = four_segments
    np.testing.assert_allclose(result.spec["scaler"]["mean"], x.mean(axis=0))
    np.testing.assert_allclose(result.spec["scaler"]["scale"], x.std(axis=0))
    assert result.spec["column_order"] == FEATURES
    assert result.spec["model_version"] is None
    assert result.spec["sklearn_version"] == "1.2.1"


def test_fit_segmentation_profiles_labelsUniqueSharesSumToOne(four_segments):
    found = four_segments[2].profiles["segments"]
    assert len({s["label"] for s in found}) == 4
    assert sum(s["share"] for s in found) == pytest.approx(1.0)
    assert sum(s["size"] for s in found) == 1200


def test_fit_segmentation_noStructure_silhouetteBelowDefaultGate():
    x = np.random.default_rng(0).normal(size=(2000, 3)) * [10, 20000, 8] + [40, 60000, 20]
    assert fit(x).metrics["silhouette"] < 0.25


@pytest.mark.parametrize("n_clusters,max_k,n_components,message", [
    (1, 10, 0, "--n-clusters must be 0 (choose automatically) or >= 2, got 1"),
    (-2, 10, 0, "--n-clusters must be 0 (choose automatically) or >= 2, got -2"),
    (50, 10, 0, "--n-clusters 50 exceeds the 20 training rows"),
    (0, 1, 0, "--max-k must be >= 2 when --n-clusters is 0, got 1"),
    (0, 10, 3, "--n-components must be 0 (no PCA) or between 1 and 2 (fewer than the 3 features), got 3"),
    (0, 1, -1, "--max-k must be >= 2 when --n-clusters is 0, got 1; "
               "--n-components must be 0 (no PCA) or between 1 and 2 (fewer than the 3 features), got -1"),
])
def test_fit_segmentation_badHyperparameters_errorNamesThem(n_clusters, max_k, n_components, message):
    with pytest.raises(segments.DataError) as error:
        fit(np.arange(60, dtype=float).reshape(20, 3), n_clusters=n_clusters, max_k=max_k, n_components=n_components)
    assert str(error.value) == message


def test_match_to_baseline_extraCluster_getsIdAfterLargestBaselineId():
    new = np.array([[5.0, 5.0], [0.0, 0.0], [9.0, 9.0]])
    ids = segments.match_to_baseline(new, np.array([[0.1, 0.0], [5.2, 5.0]]), [4, 1], new)
    assert ids == [1, 4, 5]


def test_segment_labels_sameLevels_toldApartByMostDifferentFeature():
    z = np.array([[0.0, 2.0, 0.0], [0.1, 1.0, 0.0], [-2.0, -2.0, 2.0]])
    assert segments.segment_labels([0, 1, 2], z, FEATURES) == [
        "Middle-aged premium regular buyers, higher income",
        "Middle-aged premium regular buyers, lower income",
        "Young budget-conscious frequent buyers",
    ]


def test_segment_labels_threeAlike_rankedTiers():
    z = np.array([[0.0, 0.0, 0.1], [0.0, 0.0, -0.1], [0.0, 0.0, 0.0]])
    assert segments.segment_labels([0, 1, 2], z, FEATURES) == [
        "Middle-aged mid-income regular buyers, purchases tier 3 of 3",
        "Middle-aged mid-income regular buyers, purchases tier 1 of 3",
        "Middle-aged mid-income regular buyers, purchases tier 2 of 3",
    ]


def test_segment_labels_spendingPowerWithoutPurchases_usesCustomers():
    z = np.array([[1.0, 2.0], [-1.0, -2.0]])
    assert segments.segment_labels([0, 1], z, ["Age", "SpendingPower"]) == [
        "Senior big-ticket customers", "Young small-basket customers"]


# --- baseline fetch ------------------------------------------------------------------------------------------------


def profiles_document(ids: List[int], features: List[str] = FEATURES) -> bytes:
    return json.dumps({"features": features, "segments": [
        {"id": i, "centroid": {f: float(i + n) for n, f in enumerate(features)}} for i in ids]}).encode()


class FakeS3(http.server.BaseHTTPRequestHandler):
    """Loopback S3 GetObject: path-style /bucket/key; answers like S3 for a present, missing or forbidden key."""
    objects: Dict[str, bytes] = {}
    requests: List[Dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        FakeS3.requests.append({"path": self.path, "authorization": self.headers.get("Authorization", "")})
        key = self.path.split("?")[0]
        if key in FakeS3.objects:
            self.reply(200, FakeS3.objects[key], "application/json")
        elif key.endswith("forbidden.json"):
            self.reply(403, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
        else:
            self.reply(404, b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
                            b"</Error>")

    def reply(self, status: int, body: bytes, content_type: str = "application/xml") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_s3(monkeypatch) -> Iterator[type]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeS3)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    FakeS3.objects, FakeS3.requests = {}, []
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:%d" % server.server_address[1])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "S3RVER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "S3RVER")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield FakeS3
    server.shutdown()
    server.server_close()


def test_load_baseline_s3Object_loadedThroughEndpointEnvPathStyleSigned(fake_s3):
    fake_s3.objects["/models/deployed/segment_profiles.json"] = profiles_document([0, 1])
    baseline = train.load_baseline("s3://models/deployed/segment_profiles.json", FEATURES)
    assert (baseline.status, baseline.ids) == ("loaded", [0, 1])
    np.testing.assert_allclose(baseline.raw_centroids, [[0, 1, 2], [1, 2, 3]])
    assert fake_s3.requests[0]["path"] == "/models/deployed/segment_profiles.json"
    assert fake_s3.requests[0]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=S3RVER/")


def test_load_baseline_s3NoSuchKey_isNoBaseline(fake_s3):
    assert train.load_baseline("s3://models/deployed/segment_profiles.json", FEATURES).status == "not_found"


def test_load_baseline_s3AccessDenied_raises(fake_s3):
    with pytest.raises(ClientError, match="AccessDenied"):
        train.load_baseline("s3://models/deployed/forbidden.json", FEATURES)


def test_load_baseline_genericEndpointVariable_isUsedWhenNoS3One(fake_s3, monkeypatch):
    fake_s3.objects["/m/p.json"] = profiles_document([3])
    monkeypatch.setenv("AWS_ENDPOINT_URL", os.environ["AWS_ENDPOINT_URL_S3"])
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    assert train.load_baseline("s3://m/p.json", FEATURES).ids == [3]


def test_load_baseline_emptyUri_isNone():
    assert train.load_baseline("  ", FEATURES).status == "none"


def test_load_baseline_missingLocalFile_isNotFound(tmp_path):
    assert train.load_baseline(str(tmp_path / "nothing.json"), FEATURES).status == "not_found"


def test_load_baseline_otherFeatures_isFeatureMismatch(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(profiles_document([0, 1], ["Age", "SpendingPower"]))
    assert train.load_baseline("file://%s" % path, FEATURES).status == "feature_mismatch"


@pytest.mark.parametrize("body,detail", [
    (b"not json", "JSONDecodeError"),
    (b'{"segments": []}', "segment ids must be present and unique"),
    (b'{"segments": [{"id": 1}]}', "KeyError: 'centroid'"),
    (b'{"segments": [{"id": 1, "centroid": {}}, {"id": 1, "centroid": {}}]}', "unique"),
])
def test_load_baseline_malformed_errorNamesUriAndProblem(tmp_path, body, detail):
    path = tmp_path / "p.json"
    path.write_bytes(body)
    with pytest.raises(segments.DataError) as error:
        train.load_baseline(str(path), FEATURES)
    assert str(error.value).startswith("baseline %s is not a segment_profiles.json (" % path)
    assert detail in str(error.value)


def test_parse_args_smEnvironment_givesDefaults(monkeypatch, tmp_path):
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    monkeypatch.setenv("SM_CHANNEL_TRAIN", str(tmp_path / "train"))
    args = train.parse_args([])
    assert (args.model_dir, args.train, args.failure_file) == (
        tmp_path / "model", tmp_path / "train", tmp_path / "output" / "failure")
    assert (args.n_clusters, args.max_k, args.n_components, args.random_seed, args.baseline_uri) == (0, 10, 0, 42, "")


def test_run_writesModelDirFiles(tmp_path, four_segments):
    (tmp_path / "train").mkdir()
    generate(rows=400, seed=8, segments=3).frame.to_csv(tmp_path / "train" / "train.csv", index=False)
    args = train.parse_args(["--train", str(tmp_path / "train"), "--model-dir", str(tmp_path / "model"),
                             "--max-k", "5"])
    result = train.run(args)
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "metrics.json", "model.joblib", "preprocessing_spec.json", "segment_profiles.json"]
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["k"] == result.metrics["k"] == 3
