"""Ranking: the score formula, the L3 tie-break and the cap, every per-rule filter, the category-affinity fallback,
TopK and recommended_qty, and the invariants on the generated data."""
from __future__ import annotations

from typing import Dict, List

import numpy as np
import pandas as pd
import pytest

import pipeline_io
import pipeline_parameters as params
import ranking

DEFAULTS = params.validate({p.name: p.default for p in params.consumed_by("Ranking")})


def basket_rows(rows: List[Dict[str, object]]) -> pd.DataFrame:
    """Market-basket rows with defaults for what a test does not care about."""
    defaults = {"segment": "W_P", "l2_category": "Valves", "l3_category": "Ball", "in_stock": True,
                "total_quantity": 10.0, "recency_days": 9, "median_order_quantity": 2.0}
    return pd.DataFrame([dict(defaults, **row) for row in rows])


def rule(a: str, b: str, confidence: float = 0.6, support: float = 0.2, weighted: float = 0.1, lift: float = 3.0,
         cluster: str = "W_P_0") -> Dict[str, object]:
    return {"cluster_id": cluster, "segment": "W_P", "product_a": a, "product_b": b, "pair_freq": 5,
            "product_a_freq": 8, "product_b_freq": 6, "total_baskets": 25, "support": support,
            "weighted_support": weighted, "confidence": confidence, "lift": lift}


def clusters_of(*customers: str, cluster: str = "W_P_0") -> pd.DataFrame:
    # The clusters file has a segment column too, as TrainClustering writes it.
    return pd.DataFrame({"customer_id": list(customers), "segment": "W_P", "cluster": 0, "cluster_id": cluster})


def rank(basket: pd.DataFrame, rules: List[Dict[str, object]], clusters: pd.DataFrame, **overrides: object):
    return ranking.rank(basket, clusters, pd.DataFrame(rules, columns=list(rule("a", "b"))),
                        dict(DEFAULTS, **overrides))


def by_source(result: pd.DataFrame, fallback: bool) -> pd.DataFrame:
    return result[(result["trigger_product"] == ranking.FALLBACK_TRIGGER) == fallback]


# Customer c1 bought A (Ball valves); c2 bought A and B. B is a Ball valve too, C a Gate valve.
BASE = [{"customer_id": "c1", "product_id": "A"},
        {"customer_id": "c2", "product_id": "A"}, {"customer_id": "c2", "product_id": "B"},
        {"customer_id": "c2", "product_id": "C", "l3_category": "Gate"}]


def test_rank_scoreFormula_withL3Bonus():
    result, _ = rank(basket_rows(BASE), [rule("A", "B"), rule("A", "C")], clusters_of("c1", "c2"))
    rows = by_source(result, False).set_index("recommended_product")
    recency = 1.0 / (1.0 + 9)
    base = 0.45 * 0.6 + 0.20 * 0.1 + 0.20 * (3.0 - 1.0) / (5.0 - 1.0) + 0.15 * recency
    # c1's only (so most-purchased) L3 is Ball with share 1: B gets 1 x 0.02, C (Gate) nothing.
    assert rows.loc["B", "score"] == pytest.approx(base + 0.02, abs=1e-12)
    assert rows.loc["C", "score"] == pytest.approx(base, abs=1e-12)
    assert rows.loc["B", "rank"] == 1 and rows.loc["C", "rank"] == 2
    assert rows.loc["B", "reason"] == "A \u2192 B (support=0.200, confidence=0.600, lift=3.00)"
    assert rows.loc["B", "weighted_support"] == 0.1


# c1 bought A, c2 bought B: the rule A -> B is c1's only rule candidate.
ONE_RULE = [{"customer_id": "c1", "product_id": "A"}, {"customer_id": "c2", "product_id": "B"}]


def c1_rule_score(result: pd.DataFrame) -> float:
    rows = by_source(result[result["customer_id"] == "c1"], False)
    assert len(rows) == 1
    return rows["score"].iat[0]


def test_rank_liftNormalisation_isClampedToZeroAndOne():
    high, _ = rank(basket_rows(ONE_RULE), [rule("A", "B", lift=31.0)], clusters_of("c1", "c2"),
                   L3TiebreakMargin=0.0)
    low, _ = rank(basket_rows(ONE_RULE), [rule("A", "B", lift=0.5)], clusters_of("c1", "c2"), L3TiebreakMargin=0.0,
                  MinLift=0.0)
    recency = 0.15 / 10
    assert c1_rule_score(high) == pytest.approx(0.27 + 0.02 + 0.20 + recency, abs=1e-12)
    assert c1_rule_score(low) == pytest.approx(0.27 + 0.02 + 0.0 + recency, abs=1e-12)


def test_rank_missingWeightedSupport_usesSupport():
    result, _ = rank(basket_rows(ONE_RULE), [rule("A", "B", weighted=np.nan)], clusters_of("c1", "c2"),
                     L3TiebreakMargin=0.0)
    assert c1_rule_score(result) == pytest.approx(0.27 + 0.20 * 0.2 + 0.10 + 0.015, abs=1e-12)


def test_rank_scorePlusL3Bonus_isCappedAtOne():
    result, report = rank(basket_rows(ONE_RULE), [rule("A", "B", confidence=1.0, support=1.0, weighted=1.0,
                                                       lift=9.0)],
                          clusters_of("c1", "c2"), WConf=1.0, WSupp=1.0, WLift=1.0, WRecency=1.0,
                          L3TiebreakMargin=0.5)
    assert c1_rule_score(result) == 1.0
    assert report["rule_candidates_capped_at_1"] == 1
    assert (result["score"] <= 1.0).all()


@pytest.mark.parametrize("overrides,rules,filtered", [
    ({}, [rule("A", "B")], None),
    ({}, [rule("A", "Z")], "out_of_stock"),
    ({"MinSupport": 0.3}, [rule("A", "B")], "below_min_support"),
    ({"MinConfidence": 0.61}, [rule("A", "B")], "below_min_confidence"),
    ({"MinLift": 3.01}, [rule("A", "B")], "below_min_lift"),
    ({}, [rule("F", "B")], "trigger_not_bought"),
    ({}, [rule("A", "E")], "already_bought"),
])
def test_rank_perRuleFilters(overrides, rules, filtered):
    basket = basket_rows([{"customer_id": "c1", "product_id": "A"}, {"customer_id": "c1", "product_id": "E"},
                          {"customer_id": "c2", "product_id": "B"}, {"customer_id": "c2", "product_id": "D"},
                          {"customer_id": "c2", "product_id": "Z", "in_stock": False}])
    result, report = rank(basket, rules, clusters_of("c1", "c2"), **overrides)
    from_rules = by_source(result[result["customer_id"] == "c1"], False)
    assert from_rules["recommended_product"].tolist() == ([] if filtered else ["B"])
    removed = {k: v for k, v in report["rule_candidates_removed_by_filter"].items() if v}
    if filtered in ranking.FILTERS:
        assert removed == {filtered: 1}
    else:
        assert removed == {}  # a rule whose trigger was not bought never becomes a candidate


def test_rank_severalTriggers_keepsTheBestScoringOne():
    basket = basket_rows([{"customer_id": "c1", "product_id": "A"}, {"customer_id": "c1", "product_id": "D"},
                          {"customer_id": "c2", "product_id": "B"}])
    result, _ = rank(basket, [rule("A", "B", confidence=0.3), rule("D", "B", confidence=0.7)], clusters_of("c1", "c2"))
    rows = by_source(result[result["customer_id"] == "c1"], False)
    assert rows["trigger_product"].tolist() == ["D"] and rows["confidence"].tolist() == [0.7]


def test_rank_topK_cutsAndRanksByScore():
    products = ["B%d" % i for i in range(8)]
    basket = basket_rows([{"customer_id": "c1", "product_id": "A"}]
                         + [{"customer_id": "c2", "product_id": p} for p in products])
    rules = [rule("A", p, confidence=0.1 + 0.1 * i) for i, p in enumerate(products)]
    result, report = rank(basket, rules, clusters_of("c1", "c2"), TopK=3)
    c1 = result[result["customer_id"] == "c1"]
    assert c1["recommended_product"].tolist() == ["B7", "B6", "B5"] and c1["rank"].tolist() == [1, 2, 3]
    assert report["customers_with_top_k"] >= 1


def test_rank_recommendedQty_isTriggersMedianOrderQuantityRoundedHalfUp():
    basket = basket_rows([{"customer_id": "c1", "product_id": "A", "median_order_quantity": 2.5},
                          {"customer_id": "c2", "product_id": "B"}])
    result, _ = rank(basket, [rule("A", "B")], clusters_of("c1", "c2"))
    assert by_source(result[result["customer_id"] == "c1"], False)["recommended_qty"].tolist() == [3]


def test_rank_fallback_fillsByAffinityThenPopularity():
    # c1 bought 30 units of Valves and 10 of Pipes (affinity 0.75 and 0.25). The segment also bought V2 (2 customers),
    # V3 (1), P2 (3), T1 (Tools, 3, affinity 0) and V4 (out of stock).
    rows = [{"customer_id": "c1", "product_id": "V1", "total_quantity": 30.0},
            {"customer_id": "c1", "product_id": "P1", "l2_category": "Pipes", "total_quantity": 10.0}]
    for customer in ("c2", "c3", "c4"):
        rows += [{"customer_id": customer, "product_id": "P2", "l2_category": "Pipes"},
                 {"customer_id": customer, "product_id": "T1", "l2_category": "Tools", "median_order_quantity": 5.0}]
    rows += [{"customer_id": "c2", "product_id": "V2"}, {"customer_id": "c3", "product_id": "V2"},
             {"customer_id": "c3", "product_id": "V3"}, {"customer_id": "c4", "product_id": "V4", "in_stock": False}]
    result, report = rank(basket_rows(rows), [], clusters_of("c1", "c2", "c3", "c4"), TopK=4)
    c1 = result[result["customer_id"] == "c1"]
    assert c1["recommended_product"].tolist() == ["V2", "V3", "P2", "T1"]
    assert c1["reason"].tolist() == ["Category-affinity fallback: Valves affinity=0.75",
                                     "Category-affinity fallback: Valves affinity=0.75",
                                     "Category-affinity fallback: Pipes affinity=0.25",
                                     "Category-affinity fallback: Tools affinity=0.00"]
    # IPRE bug 9: an outdated script gave fallback rows a 'popular_product' trigger; the trigger is 'fallback'.
    assert set(c1["trigger_product"]) == {"fallback"}
    assert c1[["support", "confidence", "lift", "weighted_support"]].isna().all().all()
    recency = 1.0 / (1.0 + 9)
    assert c1["score"].iloc[0] == pytest.approx(0.45 * 0.75 + 0.20 * 2 / 4 + 0.15 * recency, abs=1e-12)
    assert c1["recommended_qty"].tolist() == [2, 2, 2, 5]
    assert report["customers_via_fallback"] == 4 and report["customers_via_association"] == 0


def test_rank_fallback_skipsProductsAlreadyRecommendedByRulesAndAllRowsRankByScore():
    basket = basket_rows([{"customer_id": "c1", "product_id": "A"}, {"customer_id": "c2", "product_id": "B"},
                          {"customer_id": "c2", "product_id": "C"}])
    result, _ = rank(basket, [rule("A", "B")], clusters_of("c1", "c2"))
    c1 = result[result["customer_id"] == "c1"].set_index("recommended_product")
    assert sorted(c1.index) == ["B", "C"]
    assert c1.loc["B", "trigger_product"] == "A" and c1.loc["C", "trigger_product"] == "fallback"
    # c1 buys only Valves (affinity 1) and C is bought by half the segment: 0.45 + 0.10 + 0.015 beats the rule's
    # 0.425, so the fallback row ranks first.
    assert c1.loc["C", "score"] == pytest.approx(0.45 * 1.0 + 0.20 * 0.5 + 0.15 / 10, abs=1e-12)
    assert c1.sort_values("rank").index.tolist() == ["C", "B"]


def test_rank_bothPaths_haveCategoriesAndOneSegmentColumn():
    # IPRE bug 3: the fallback's product lookups were undefined on the rule path (NameError prod_l2).
    # IPRE bug 4: the basket and the clusters file both have segment; merging both gave segment_x/segment_y.
    basket = basket_rows([{"customer_id": "c1", "product_id": "A"},
                          {"customer_id": "c2", "product_id": "B", "l2_category": "Pipes", "l3_category": "PVC"},
                          {"customer_id": "c2", "product_id": "C", "l2_category": "Tools", "l3_category": "Saws"}])
    result, _ = rank(basket, [rule("A", "B")], clusters_of("c1", "c2"))
    assert list(result.columns) == ranking.OUTPUT_COLUMNS
    c1 = result[result["customer_id"] == "c1"].set_index("recommended_product")
    assert c1.loc["B", ["l2_category", "l3_category"]].tolist() == ["Pipes", "PVC"]
    assert c1.loc["C", ["l2_category", "l3_category"]].tolist() == ["Tools", "Saws"]
    assert set(result["segment"]) == {"W_P"} and set(result["cluster_id"]) == {"W_P_0"}


def test_rank_customerWhoBoughtEverything_getsNothingAndIsReported():
    basket = basket_rows([{"customer_id": "c1", "product_id": "A"}, {"customer_id": "c2", "product_id": "A"}])
    result, report = rank(basket, [], clusters_of("c1", "c2"))
    assert result.empty
    assert report["coverage"] == 0.0 and report["customers_with_fewer_than_top_k"] == 2


def test_run_readsEachInputOnce(tmp_path, monkeypatch, chain):
    # IPRE bug 10: ranking read market_basket.csv a second time for nothing.
    reads: List[str] = []
    original_csv, original_clusters = pipeline_io.read_csv_output, pipeline_io.read_customer_clusters
    monkeypatch.setattr(pipeline_io, "read_csv_output", lambda path, *a: reads.append(str(path)) or
                        original_csv(path, *a))
    monkeypatch.setattr(pipeline_io, "read_customer_clusters", lambda path: reads.append(str(path)) or
                        original_clusters(path))
    args = ranking.parse_args(["--basket", str(chain["basket_out"] / "basket" / "market_basket.csv"),
                               "--model-dir", str(chain["archive"].parent),
                               "--associations", str(chain["associations_out"] / "associations.csv"),
                               "--output-dir", str(tmp_path)])
    ranking.run(args)
    assert sorted(reads) == sorted([str(args.basket), str(args.model_dir), str(args.associations)])


def test_chain_invariants(chain, small_data):
    recommendations, basket = chain["recommendations"], chain["basket"]
    truth = small_data["truth"]
    bought = set(zip(basket["customer_id"], basket["product_id"]))
    pairs = list(zip(recommendations["customer_id"], recommendations["recommended_product"]))
    assert not any(pair in bought for pair in pairs), "an already bought product was recommended"
    assert not recommendations["recommended_product"].isin(truth["out_of_stock_products"]).any()
    rules = recommendations[recommendations["trigger_product"] != "fallback"]
    assert all((c, t) in bought for c, t in zip(rules["customer_id"], rules["trigger_product"]))
    assert (recommendations["score"] <= 1.0).all() and (recommendations["score"] > 0).all()
    assert (rules["confidence"] <= 1.0).all()
    assert set(recommendations["customer_id"]) == set(basket["customer_id"])  # every customer covered
    ranks = recommendations.groupby("customer_id")["rank"].apply(list)
    assert all(r == list(range(1, len(r) + 1)) and len(r) <= 5 for r in ranks)
    scores = recommendations.groupby("customer_id")["score"].apply(list)
    assert all(s == sorted(s, reverse=True) for s in scores)
    assert chain["ranking_report"]["coverage"] == 1.0


def test_chain_plantedPairs_recommendedOnlyWhenBInStock(chain, small_data):
    recommendations, basket = chain["recommendations"], chain["basket"]
    for pair in small_data["truth"]["planted_pairs"]:
        hits = recommendations[(recommendations["trigger_product"] == pair["product_a"])
                               & (recommendations["recommended_product"] == pair["product_b"])]
        if pair["b_in_stock"]:
            holders_a = set(basket.loc[basket["product_id"] == pair["product_a"], "customer_id"])
            holders_b = set(basket.loc[basket["product_id"] == pair["product_b"], "customer_id"])
            assert set(hits["customer_id"]) <= holders_a - holders_b
            assert len(hits) >= 0.5 * len(holders_a - holders_b) > 0, pair
        else:
            assert recommendations[recommendations["recommended_product"] == pair["product_b"]].empty
