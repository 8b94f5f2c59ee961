"""Associations: every metric against an independent brute-force counter, the basket window, global basket ids, the
frequency floor, MinLift, and the planted pairs and popular products of the generated data."""
from __future__ import annotations

import datetime
import math
from itertools import permutations
from typing import Dict, List, Tuple

import numpy as np
import pandas as pd
import pytest

import associations
import pipeline_parameters as params

REFERENCE = pd.Timestamp("2021-12-31")
DEFAULTS = params.validate({p.name: p.default for p in params.consumed_by("Associations")})


def random_history(seed: int, customers: int = 30, products: int = 8, lines: int = 400
                   ) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """Order lines (one per customer, product and day) and a two-cluster assignment, with days close enough
    together that windows merge invoices into baskets."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "customer_id": ["c%02d" % i for i in rng.integers(0, customers, size=lines)],
        "product_id": ["p%d" % i for i in rng.integers(0, products, size=lines)],
        "date": REFERENCE - pd.to_timedelta(rng.integers(0, 400, size=lines), unit="D"),
    }).drop_duplicates(["customer_id", "product_id", "date"]).reset_index(drop=True)
    ids = sorted(frame["customer_id"].unique())
    clusters = pd.DataFrame({"customer_id": ids, "segment": "S",
                             "cluster_id": ["S_%d" % (i % 2) for i in range(len(ids))]})
    return frame, clusters


def brute_force(lines: pd.DataFrame, clusters: pd.DataFrame, window: float, decay: float, min_abs: int,
                ratio: float, min_lift: float) -> Dict[Tuple[str, str, str], Dict[str, float]]:
    """The specification's definitions, counted one basket at a time with plain Python."""
    cluster_of = dict(zip(clusters["customer_id"], clusters["cluster_id"]))
    days: Dict[str, List[datetime.date]] = {}
    for customer, date in zip(lines["customer_id"], lines["date"]):
        days.setdefault(customer, []).append(date)
    baskets = []  # (cluster, set of products, weight)
    for customer, dates in sorted(days.items()):
        ordered = sorted(set(dates))
        groups: List[List[pd.Timestamp]] = [[ordered[0]]]
        for previous, current in zip(ordered, ordered[1:]):
            if (current - previous).days > window:
                groups.append([])
            groups[-1].append(current)
        for group in groups:
            members = set(group)
            bought = {p for c, p, d in zip(lines["customer_id"], lines["product_id"], lines["date"])
                      if c == customer and d in members}
            weight = math.exp(-decay * (REFERENCE - max(group)).days)
            baskets.append((cluster_of[customer], bought, weight))
    rules = {}
    for cluster in sorted(set(cluster_of.values())):
        mine = [(b, w) for c, b, w in baskets if c == cluster]
        n = len(mine)
        freq: Dict[str, int] = {}
        for bought, _ in mine:
            for product in bought:
                freq[product] = freq.get(product, 0) + 1
        floor = max(min_abs, ratio * n)
        frequent = sorted(p for p, f in freq.items() if f >= floor)
        for a, b in permutations(frequent, 2):
            together = [w for bought, w in mine if a in bought and b in bought]
            if not together:
                continue
            confidence = len(together) / freq[a]
            lift = confidence / (freq[b] / n)
            if lift >= min_lift:
                rules[(cluster, a, b)] = {"pair_freq": len(together), "support": len(together) / n,
                                          "weighted_support": sum(together) / n, "confidence": confidence,
                                          "lift": lift, "total_baskets": n}
    return rules


@pytest.mark.parametrize("seed,window,decay,min_abs,ratio,min_lift,at_least", [
    (1, 30, 0.001, 1, 0.0, 0.0, 100),  # every co-occurring pair
    (2, 7, 0.01, 2, 0.03, 1.2, 2),  # the defaults but a 7-day window: random data has few lifts >= 1.2
    (3, 90, 0.0, 3, 0.1, 1.0, 80),
    (4, 14, 0.01, 2, 0.03, 1.05, 10),
])
def test_mine_everyMetric_equalsBruteForceCounter(seed, window, decay, min_abs, ratio, min_lift, at_least):
    lines, clusters = random_history(seed)
    values = dict(DEFAULTS, WindowDays=window, DecayLambda=decay, MinAbsFreq=min_abs, MinFreqRatio=ratio,
                  MinLift=min_lift)
    rules, info = associations.mine(lines, clusters, REFERENCE, values)
    expected = brute_force(lines, clusters, window, decay, min_abs, ratio, min_lift)
    assert len(expected) >= at_least
    found = {(r.cluster_id, r.product_a, r.product_b): r for r in rules.itertuples()}
    assert set(found) == set(expected)
    for key, metrics in expected.items():
        for name, value in metrics.items():
            assert getattr(found[key], name) == pytest.approx(value, rel=0, abs=1e-9), (key, name)
    assert (rules["confidence"] <= 1.0).all()


def test_basket_presence_autoWindow_isMedianOfCustomerMediansClamped():
    day = pd.Timestamp("2021-01-01")

    def lines_with_gaps(gaps_by_customer: Dict[str, List[int]]) -> pd.DataFrame:
        rows = []
        for customer, gaps in gaps_by_customer.items():
            offsets = np.cumsum([0] + gaps)
            rows += [{"customer_id": customer, "product_id": "p", "date": day + pd.Timedelta(days=int(o))}
                     for o in offsets]
        return pd.DataFrame(rows)

    clusters = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": "S", "cluster_id": "S_0"})
    cases = [({"a": [10, 20, 30], "b": [40, 40], "c": [25]}, 25.0),  # medians 20, 40, 25 -> 25
             ({"a": [1, 2], "b": [3]}, 7.0),  # 1.5 and 3 -> 2.25, clamped up to 7
             ({"a": [200, 100], "b": [107, 108]}, 90.0),  # 150 and 107.5 -> 128.75, clamped down to 90
             ({"a": [], "d": []}, 7.0)]  # nobody has two invoices
    for gaps, window in cases:
        _, info = associations.basket_presence(lines_with_gaps(gaps), clusters, 0, day, 0.0)
        assert info["window_days"] == window and info["method"] == "auto", gaps


def test_basket_presence_windowParameter_gapAboveWindowStartsNewBasket():
    lines = pd.DataFrame({"customer_id": ["a"] * 4, "product_id": ["p", "q", "p", "q"],
                          "date": pd.to_datetime(["2021-01-01", "2021-01-31", "2021-03-03", "2021-03-04"])})
    clusters = pd.DataFrame({"customer_id": ["a"], "segment": "S", "cluster_id": ["S_0"]})
    presence, info = associations.basket_presence(lines, clusters, 30, REFERENCE, 0.0)
    # 30 days apart stays one basket; 31 days apart starts another.
    assert presence.groupby("basket")["product_id"].apply(sorted).tolist() == [["p", "q"], ["p", "q"]]
    assert info == {"method": "parameter", "window_days": 30, "baskets": 2,
                    "basket_product_rows_without_cluster": 0}


def test_mine_sameBasketNumberForDifferentCustomers_countsEveryBasket():
    # IPRE bug 1: basket ids were per-customer counters, so customer a's basket 1 and customer b's basket 1 were one
    # basket at cluster level, fewer baskets than pairs and confidence > 1. Here each customer has one basket.
    lines = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"], "product_id": ["x", "y", "x", "y", "x"],
                          "date": pd.to_datetime(["2021-06-01"] * 5)})
    clusters = pd.DataFrame({"customer_id": ["a", "b", "c"], "segment": "S", "cluster_id": "S_0"})
    values = dict(DEFAULTS, MinAbsFreq=1, MinFreqRatio=0.0, MinLift=0.0, DecayLambda=0.0)
    rules, info = associations.mine(lines, clusters, REFERENCE, values)
    assert info["baskets"] == 3
    x_to_y = rules[(rules["product_a"] == "x") & (rules["product_b"] == "y")].iloc[0]
    y_to_x = rules[(rules["product_a"] == "y") & (rules["product_b"] == "x")].iloc[0]
    assert (x_to_y["total_baskets"], x_to_y["pair_freq"], x_to_y["product_a_freq"]) == (3, 2, 3)
    assert x_to_y["confidence"] == pytest.approx(2 / 3) and y_to_x["confidence"] == 1.0
    assert x_to_y["lift"] == pytest.approx(1.0) and y_to_x["lift"] == pytest.approx(1.0)


def test_frequent_items_floorIsProportionalToClusterBaskets():
    # Cluster A has 100 baskets (floor max(2, 0.03 * 100) = 3), B has 10 (floor max(2, 0.3) = 2): a product in two
    # baskets is frequent in B only.
    rows = []
    for cluster, n in (("A", 100), ("B", 10)):
        for basket in range(n):
            rows.append({"basket": "%s%d" % (cluster, basket), "cluster_id": cluster, "product_id": "base"})
        for product, count in (("four", 4), ("two", 2)):
            for basket in range(count):
                rows.append({"basket": "%s%d" % (cluster, basket), "cluster_id": cluster, "product_id": product})
    presence = pd.DataFrame(rows)
    kept, totals = associations.frequent_items(presence, min_abs_freq=2, min_freq_ratio=0.03)
    assert totals.to_dict() == {"A": 100, "B": 10}
    pairs = set(zip(kept["cluster_id"], kept["product_id"]))
    assert pairs == {("A", "base"), ("A", "four"), ("B", "base"), ("B", "four"), ("B", "two")}


def test_mine_minLift_dropsRulesBelowIt():
    lines, clusters = random_history(5)
    low = associations.mine(lines, clusters, REFERENCE, dict(DEFAULTS, MinLift=0.0, MinFreqRatio=0.0))[0]
    high = associations.mine(lines, clusters, REFERENCE, dict(DEFAULTS, MinLift=1.5, MinFreqRatio=0.0))[0]
    assert (high["lift"] >= 1.5).all() and len(high) == (low["lift"] >= 1.5).sum() < len(low)


def test_mine_noDecay_weightedSupportEqualsSupport():
    lines, clusters = random_history(6)
    rules = associations.mine(lines, clusters, REFERENCE, dict(DEFAULTS, DecayLambda=0.0, MinLift=0.0))[0]
    np.testing.assert_allclose(rules["weighted_support"], rules["support"], rtol=0, atol=1e-12)


def test_chain_plantedPairsFoundInOneClusterWithLiftWithin10Percent(chain, small_data):
    rules = chain["rules"]
    for pair in small_data["truth"]["planted_pairs"]:
        found = rules[(rules["product_a"] == pair["product_a"]) & (rules["product_b"] == pair["product_b"])]
        assert len(found) == 1, pair
        assert found["segment"].iat[0] == pair["segment"]
        assert found["lift"].iat[0] == pytest.approx(pair["lift"], rel=0.10), pair


def test_chain_popularProductsNeverPassMinLift(chain, small_data):
    rules = chain["rules"]
    popular = small_data["truth"]["popular_products"]
    assert not rules["product_a"].isin(popular).any() and not rules["product_b"].isin(popular).any()
    assert (rules["lift"] >= 1.2).all()


def test_chain_invariantsAndReport(chain):
    rules, report = chain["rules"], chain["associations_report"]
    assert list(rules.columns) == associations.RULE_COLUMNS
    assert ((rules["confidence"] > 0) & (rules["confidence"] <= 1)).all()
    assert (rules["weighted_support"] <= rules["support"] + 1e-12).all()
    assert (rules["pair_freq"] <= rules[["product_a_freq", "product_b_freq"]].min(axis=1)).all()
    assert report["method"] == "auto" and 7 <= report["window_days"] <= 90
    assert report["rules"] == len(rules)
    assert report["basket_product_rows_without_cluster"] == 0


def test_mine_noPairInAnyBasket_noRulesAndAnEmptyTable():
    lines = pd.DataFrame({"customer_id": ["a", "b"], "product_id": ["x", "y"],
                          "date": pd.to_datetime(["2021-06-01", "2021-06-02"])})
    clusters = pd.DataFrame({"customer_id": ["a", "b"], "segment": "S", "cluster_id": "S_0"})
    rules, info = associations.mine(lines, clusters, REFERENCE, dict(DEFAULTS, MinAbsFreq=1, MinFreqRatio=0.0))
    assert rules.empty and list(rules.columns) == associations.RULE_COLUMNS
    assert info["rules"] == 0 and info["lift_range"] is None
