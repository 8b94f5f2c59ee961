"""TrainClustering: the planted clusters recovered per segment, the elbow rule, small segments, silhouette bands and
the model archive's contents."""
from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import pipeline_parameters as params
import train_clustering

DEFAULTS = params.validate({p.name: p.default for p in params.consumed_by("TrainClustering")})


def blobs(centers: int, per_center: int, dims: int = 4, spread: float = 0.05, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    middle = rng.uniform(-5, 5, size=(centers, dims))
    return np.vstack([m + rng.normal(0, spread, size=(per_center, dims)) for m in middle])


def test_chain_designedClustersRecoveredInEverySegment(chain, small_data):
    truth = small_data["data"].customer_truth
    merged = chain["clusters"].merge(truth, on="customer_id", suffixes=("", "_truth"))
    assert len(merged) == small_data["truth"]["customers"]
    for segment, group in merged.groupby("segment"):
        agreement = adjusted_rand_score(group["designed_cluster"], group["cluster"])
        assert agreement > 0.85, (segment, agreement)
    designed = {s: v["designed_clusters"] for s, v in small_data["truth"]["segments"].items()}
    found = {e["segment"]: e["k"] for e in chain["registry"]["segments"]}
    assert sum(found[s] == designed[s] for s in designed) >= len(designed) - 1, (found, designed)


def test_chain_modelDirHoldsPerSegmentModelsRegistryAndClusters(chain):
    # IPRE bug 8: customer_clusters.csv was written to /opt/ml/output/data and missed model.tar.gz.
    names = sorted(p.name for p in chain["model_dir"].iterdir())
    stems = [e["file_stem"] for e in chain["registry"]["segments"]]
    expected = sorted(["customer_clusters.csv", "model_registry.json"]
                      + ["%s_%s" % (s, f) for s in stems for f in ("kmeans.pkl", "scaler.pkl", "columns.json")])
    assert names == expected
    assert not (chain["work"] / "train" / "opt" / "ml" / "output" / "data").exists()
    assert list(chain["clusters"].columns) == ["customer_id", "segment", "cluster", "cluster_id"]
    assert (chain["clusters"]["cluster_id"] == chain["clusters"]["segment"] + "_"
            + chain["clusters"]["cluster"].astype(str)).all()


def test_chain_storedModelsReproduceTheAssignments(chain):
    """A segment's scaler, columns and KMeans rebuild its customers' clusters from the market basket."""
    basket = chain["basket"]
    features, segment_of = train_clustering.feature_table(basket, DEFAULTS["FeatureGroups"])
    for entry in chain["registry"]["segments"]:
        columns = json.loads((chain["model_dir"] / entry["files"]["columns"]).read_text())
        scaler = joblib.load(chain["model_dir"] / entry["files"]["scaler"])
        kmeans = joblib.load(chain["model_dir"] / entry["files"]["kmeans"])
        members = segment_of.index[segment_of == entry["segment"]]
        predicted = kmeans.predict(scaler.transform(features.loc[members, columns].to_numpy()))
        stored = chain["clusters"].set_index("customer_id").loc[members, "cluster"].to_numpy()
        assert (predicted == stored).all(), entry["segment"]


def test_chain_registryManifest(chain):
    registry = chain["registry"]
    assert registry["feature_groups"] == ["l2_qty", "brand", "functionality", "rfm"]
    assert registry["summary"]["segments"] == len(registry["segments"]) == 4
    assert registry["summary"]["customers"] == len(chain["clusters"])
    assert registry["sklearn_version"] == "1.2.1"
    for entry in registry["segments"]:
        assert entry["method"] == "elbow"
        assert sum(entry["cluster_sizes"]) == entry["customers"]
        assert entry["silhouette_band"] == train_clustering.silhouette_band(entry["silhouette"])
    assert '"metric": "Clusters"' in chain["results"]["train"].stdout


def test_elbow_k_threeWellSeparatedBlobs_choosesThree(one_thread):
    model, curve = train_clustering.elbow_k(blobs(3, 40), upper=8, threshold_percent=10.0, seed=42, n_init=5)
    assert model.n_clusters == 3
    assert [p["k"] for p in curve] == [2, 3, 4]  # stops one past the elbow
    assert curve[2]["drop_percent"] < 10.0 <= curve[1]["drop_percent"]


def test_elbow_k_neverBelowThreshold_choosesUpper(one_thread):
    model, curve = train_clustering.elbow_k(blobs(6, 20), upper=4, threshold_percent=10.0, seed=42, n_init=5)
    assert model.n_clusters == 4 and [p["k"] for p in curve] == [2, 3, 4]


def test_cluster_segment_smallSegment_oneCluster(one_thread):
    values = dict(DEFAULTS, MinClusterCustomers=10)
    result = train_clustering.cluster_segment(blobs(3, 3), values)
    assert result["method"] == "single_cluster" and result["model"].n_clusters == 1
    assert result["silhouette"] is None and set(result["labels"]) == {0}


def test_cluster_segment_identicalCustomers_oneCluster(one_thread):
    result = train_clustering.cluster_segment(np.ones((12, 3)), DEFAULTS)
    assert result["method"] == "single_cluster"


def test_cluster_segment_maxKCappedByDistinctRows(one_thread):
    x = np.repeat(blobs(3, 1, spread=0.0), 5, axis=0)  # 3 distinct rows, 15 customers
    result = train_clustering.cluster_segment(x, dict(DEFAULTS, ElbowThreshold=0.001))
    assert result["model"].n_clusters == 3


@pytest.mark.parametrize("value,band", [(0.51, "good"), (0.5, "acceptable"), (0.2, "acceptable"), (0.19, "poor"),
                                        (None, "undefined")])
def test_silhouette_band_seedsBands(value, band):
    assert train_clustering.silhouette_band(value) == band


def test_run_poorSilhouette_logsWarning(tmp_path, capsys, one_thread):
    rng = np.random.default_rng(0)
    rows = []
    for c in range(40):
        for l2 in "ABCDEFGHIJKL":  # random shares of 12 categories: no structure to find
            rows.append({"customer_id": "C%02d" % c, "segment": "S_X", "product_id": "P" + l2, "brand": "b",
                         "l2_category": l2, "functionality": "f", "total_quantity": rng.uniform(1, 10),
                         "rfm_recency_score": 0.5, "rfm_frequency_score": 0.5, "rfm_monetary_score": 0.5})
    (tmp_path / "basket").mkdir()
    pd.DataFrame(rows).to_csv(tmp_path / "basket" / "market_basket.csv", index=False)
    train_clustering.main(["--basket", str(tmp_path / "basket"), "--model-dir", str(tmp_path / "model"),
                           "--feature-groups", "l2_qty", "--failure-file", str(tmp_path / "failure")])
    registry = json.loads((tmp_path / "model" / "model_registry.json").read_text())
    entry = registry["segments"][0]
    assert entry["silhouette_band"] == "poor"
    assert ("WARNING: segment S_X has a poor silhouette %.3f (< 0.2): consider fewer feature groups or more data"
            % entry["silhouette"]) in capsys.readouterr().out


def test_feature_table_groups_areProportionsAndRfm():
    basket = pd.DataFrame({"customer_id": ["a", "a", "b"], "segment": ["s", "s", "s"], "brand": ["x", "y", "x"],
                           "l2_category": ["V", "P", "P"], "functionality": ["f", "f", "g"],
                           "total_quantity": [30.0, 10.0, 5.0], "rfm_recency_score": [1.0, 1.0, 0.0],
                           "rfm_frequency_score": [0.5, 0.5, 0.0], "rfm_monetary_score": [0.2, 0.2, 0.9]})
    features, segment = train_clustering.feature_table(basket, ["l2_qty", "rfm"])
    assert list(features.columns) == ["l2_qty:P", "l2_qty:V", "rfm_recency_score", "rfm_frequency_score",
                                      "rfm_monetary_score"]
    assert features.loc["a"].tolist() == [0.25, 0.75, 1.0, 0.5, 0.2]
    assert features.loc["b"].tolist() == [1.0, 0.0, 0.0, 0.0, 0.9]
    assert segment.to_dict() == {"a": "s", "b": "s"}


def test_file_stems_unsafeCharactersReplacedAndUnique():
    assert train_clustering.file_stems(["West_Plumbing", "North/East_HVAC", "North East_HVAC"]) == {
        "West_Plumbing": "West_Plumbing", "North/East_HVAC": "North-East_HVAC", "North East_HVAC": "North-East_HVAC-2"}
