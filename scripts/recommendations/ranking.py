"""Ranking step (SageMaker Processing): up to TopK products per customer from its cluster's association rules, with
category-affinity fallback for the remaining slots.

    ranking.py --min-support 0.01 --min-confidence 0.05 --min-lift 1.2 --top-k 5 --w-conf 0.45 --w-supp 0.20 \
        --w-lift 0.20 --w-recency 0.15 --max-lift-normalise 5.0 --l3-tiebreak-margin 0.02

Inputs: <processing>/input/basket/market_basket.csv (MarketBasket), <processing>/input/model/model.tar.gz
(customer_clusters.csv from TrainClustering) and <processing>/input/associations/associations.csv (Associations).
Outputs: <processing>/output/recommendations/recommendations.csv (customer_id, recommended_product, cluster_id,
segment, l2_category, l3_category, trigger_product, support, confidence, lift, weighted_support, score,
recommended_qty, reason, rank) and ranking_report.json (coverage, sources, filter counts).

A rule A -> B of the customer's cluster becomes a candidate when the customer bought A (the trigger), has not bought
B, B is in stock, support >= MinSupport, confidence >= MinConfidence and lift >= MinLift. Its score:

    score = WConf * confidence + WSupp * weighted_support + WLift * lift_normalised + WRecency * recency_score
    lift_normalised = clamp((lift - 1) / (MaxLiftNormalise - 1), 0, 1)
    recency_score   = 1 / (1 + the customer's mean recency_days)

plus the L3 tie-break bonus: a product in the customer's most-purchased L3 category (by quantity; every category
tied for most) gets that category's share of the customer's quantity x L3TiebreakMargin. The final score is
min(score + bonus, 1). Of several triggers for one product the best-scoring one is kept.

Customers with fewer than TopK rule candidates get the remaining slots from the category-affinity fallback: products
bought by someone in the customer's segment, in stock, not bought by the customer and not recommended already,
ordered by affinity (the customer's share of quantity in the product's L2 category), then by segment popularity
(customers of the segment who bought it), then product id. The seed gives no score for these; here it is the rule
formula with affinity in place of confidence, the product's segment share (popularity / segment customers) in place
of support and no lift term: WConf * affinity + WSupp * segment_share + WRecency * recency_score, capped at 1. Rows
of a customer are ranked by final score (rule rows first on equal scores), so FeedbackCalibration's re-rank by score
leaves the order unchanged when there is no feedback.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd

import pipeline_io as io_
import pipeline_parameters as params

STEP = "Ranking"
FALLBACK_TRIGGER = "fallback"
OUTPUT_COLUMNS = ["customer_id", "recommended_product", "cluster_id", "segment", "l2_category", "l3_category",
                  "trigger_product", "support", "confidence", "lift", "weighted_support", "score", "recommended_qty",
                  "reason", "rank"]
FILTERS = ("already_bought", "out_of_stock", "below_min_support", "below_min_confidence", "below_min_lift")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = io_.processing_root(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    params.add_arguments(parser, STEP)
    parser.add_argument("--basket", type=Path, default=root / "input" / "basket" / "market_basket.csv")
    parser.add_argument("--model-dir", type=Path, default=root / "input" / "model", help="folder with model.tar.gz")
    parser.add_argument("--associations", type=Path,
                        default=root / "input" / "associations" / "associations.csv")
    parser.add_argument("--output-dir", type=Path, default=root / "output" / "recommendations")
    parser.add_argument("--failure-file", type=Path, action="append",
                        help="where the failure reason goes (repeatable); default <ml>/output/message and "
                             "<ml>/output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = io_.default_failure_files(root)
    return args


def rounded_quantity(values: pd.Series) -> np.ndarray:
    """Half-up rounding, at least 1 unit."""
    return np.maximum(1, np.floor(values.to_numpy(dtype=float) + 0.5)).astype(np.int64)


def customer_table(basket: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """One row per customer of the basket: segment, cluster_id, total quantity and recency score. The clusters file
    also has a segment column; only cluster_id is taken from it (IPRE bug 4: merging both made segment_x/segment_y)."""
    grouped = basket.groupby("customer_id", sort=True)
    customers = pd.DataFrame({"segment": grouped["segment"].first(),
                              "total_quantity": grouped["total_quantity"].sum(),
                              "recency_score": 1.0 / (1.0 + grouped["recency_days"].mean())}).reset_index()
    return customers.merge(clusters[["customer_id", "cluster_id"]], on="customer_id", how="left")


def category_shares(basket: pd.DataFrame, customers: pd.DataFrame, column: str) -> pd.DataFrame:
    """customer_id, <column>, share of the customer's total quantity."""
    shares = basket.groupby(["customer_id", column])["total_quantity"].sum().reset_index()
    total = customers.set_index("customer_id")["total_quantity"]
    shares["share"] = shares["total_quantity"].to_numpy() / total.reindex(shares["customer_id"]).to_numpy()
    return shares[["customer_id", column, "share"]]


def rule_candidates(basket: pd.DataFrame, customers: pd.DataFrame, rules: pd.DataFrame, products: pd.DataFrame,
                    values: Dict[str, object]) -> Tuple[pd.DataFrame, Dict[str, int]]:
    """Scored rule candidates passing every per-rule filter, one per customer and product, and how many candidate
    rows each filter removed (each row counted under the first filter it fails)."""
    bought = basket[["customer_id", "product_id", "median_order_quantity"]]
    triggers = bought.merge(customers[["customer_id", "cluster_id"]], on="customer_id").rename(
        columns={"product_id": "product_a"})
    # The trigger was bought, by construction; the customer's segment comes from the customer table.
    candidates = triggers.merge(rules.drop(columns="segment"), on=["cluster_id", "product_a"])
    candidates = candidates.merge(products[["product_id", "in_stock"]], left_on="product_b", right_on="product_id",
                                  how="left").drop(columns="product_id")
    already = io_.pairs_in(candidates["customer_id"], candidates["product_b"], bought["customer_id"],
                           bought["product_id"])
    failing = {
        "already_bought": already,
        "out_of_stock": ~candidates["in_stock"].fillna(False).to_numpy(dtype=bool),
        "below_min_support": (candidates["support"] < values["MinSupport"]).to_numpy(),
        "below_min_confidence": (candidates["confidence"] < values["MinConfidence"]).to_numpy(),
        "below_min_lift": (candidates["lift"] < values["MinLift"]).to_numpy(),
    }
    dropped = np.zeros(len(candidates), dtype=bool)
    counts = {}
    for name in FILTERS:
        counts[name] = int((failing[name] & ~dropped).sum())
        dropped |= failing[name]
    candidates = candidates[~dropped].merge(customers[["customer_id", "segment", "recency_score"]], on="customer_id")

    support = candidates["weighted_support"].fillna(candidates["support"])
    lift_normalised = ((candidates["lift"] - 1.0) / (values["MaxLiftNormalise"] - 1.0)).clip(0.0, 1.0)
    candidates["raw_score"] = (values["WConf"] * candidates["confidence"] + values["WSupp"] * support
                               + values["WLift"] * lift_normalised + values["WRecency"] * candidates["recency_score"])
    candidates = candidates.sort_values(["customer_id", "product_b", "raw_score", "confidence", "lift", "product_a"],
                                        ascending=[True, True, False, False, False, True])
    candidates = candidates.drop_duplicates(["customer_id", "product_b"])
    return candidates, counts


def l3_bonus(candidates: pd.DataFrame, l3_shares: pd.DataFrame, products: pd.DataFrame, margin: float) -> np.ndarray:
    """share x margin for products in the customer's most-purchased L3 categories, else 0."""
    top = l3_shares[l3_shares["share"] == l3_shares.groupby("customer_id")["share"].transform("max")]
    keyed = candidates[["customer_id", "product_b"]].merge(
        products[["product_id", "l3_category"]], left_on="product_b", right_on="product_id", how="left")
    keyed = keyed.merge(top, on=["customer_id", "l3_category"], how="left")
    return keyed["share"].fillna(0.0).to_numpy() * margin


def fallback_fill(need: pd.DataFrame, excluded: pd.DataFrame, lists: pd.DataFrame, pools: pd.DataFrame,
                  pool_column: str) -> pd.DataFrame:
    """For each customer (need: customer_id, segment, need) and each of its pools (pools: customer_id, <pool key>,
    exclusions in it), the first `need + exclusions` products of that pool's list (lists: segment, <pool key>, rank,
    product_id, ...): enough to skip every excluded product and still have `need` left. Excluded products removed."""
    rows = pools.merge(need, on="customer_id")
    rows["cap"] = rows["need"] + rows["exclusions"]
    expanded = rows.loc[rows.index.repeat(rows["cap"])].copy()
    expanded["rank"] = expanded.groupby(level=0).cumcount()
    found = expanded.merge(lists, on=["segment", pool_column, "rank"])
    blocked = io_.pairs_in(found["customer_id"], found["product_id"], excluded["customer_id"],
                           excluded["product_id"])
    return found[~blocked]


def fallback_candidates(customers: pd.DataFrame, basket: pd.DataFrame, chosen: pd.DataFrame, l2_shares: pd.DataFrame,
                        products: pd.DataFrame, top_k: int) -> pd.DataFrame:
    """Up to TopK - (rule recommendations) fallback products per customer, best first."""
    counts = chosen.groupby("customer_id").size()
    need = customers[["customer_id", "segment"]].assign(
        need=top_k - counts.reindex(customers["customer_id"]).fillna(0).to_numpy(dtype=int))
    need = need[need["need"] > 0]
    if need.empty:
        return pd.DataFrame()
    segment_size = basket.groupby("segment")["customer_id"].nunique()
    popularity = basket.groupby(["segment", "product_id"])["customer_id"].nunique().rename("popularity").reset_index()
    popularity = popularity.merge(products, on="product_id")
    popularity = popularity[popularity["in_stock"]]
    popularity["segment_share"] = popularity["popularity"] / segment_size.reindex(popularity["segment"]).to_numpy()
    lists = popularity.sort_values(["segment", "l2_category", "popularity", "product_id"],
                                   ascending=[True, True, False, True])
    lists["rank"] = lists.groupby(["segment", "l2_category"]).cumcount()

    excluded = pd.concat([basket[["customer_id", "product_id", "l2_category"]],
                          chosen[["customer_id", "product_b", "l2_category"]].rename(
                              columns={"product_b": "product_id"})], ignore_index=True)
    exclusions = excluded.groupby(["customer_id", "l2_category"]).size().rename("exclusions").reset_index()
    # Categories the customer bought (affinity > 0) first; the others (affinity 0) only for customers still short.
    pools = l2_shares.rename(columns={"share": "affinity"}).merge(exclusions, on=["customer_id", "l2_category"],
                                                                  how="left").fillna({"exclusions": 0})
    pools["exclusions"] = pools["exclusions"].astype(int)
    found = fallback_fill(need, excluded, lists, pools[["customer_id", "l2_category", "exclusions"]], "l2_category")
    found = found.merge(pools[["customer_id", "l2_category", "affinity"]], on=["customer_id", "l2_category"])
    short = need.set_index("customer_id")["need"] - found.groupby("customer_id").size().reindex(
        need["customer_id"]).fillna(0).to_numpy()
    short_customers = need[need["customer_id"].isin(short.index[short > 0])]
    if len(short_customers):
        segment_l2 = lists[["segment", "l2_category"]].drop_duplicates()
        unbought = short_customers[["customer_id", "segment"]].merge(segment_l2, on="segment")
        unbought = unbought[~io_.pairs_in(unbought["customer_id"], unbought["l2_category"], pools["customer_id"],
                                          pools["l2_category"])]
        unbought = unbought.merge(exclusions, on=["customer_id", "l2_category"], how="left").fillna({"exclusions": 0})
        unbought["exclusions"] = unbought["exclusions"].astype(int)
        more = fallback_fill(short_customers, excluded, lists,
                             unbought[["customer_id", "l2_category", "exclusions"]], "l2_category")
        found = pd.concat([found, more.assign(affinity=0.0)], ignore_index=True)
    found = found.sort_values(["customer_id", "affinity", "popularity", "product_id"],
                              ascending=[True, False, False, True])
    return found[found.groupby("customer_id").cumcount() < found["need"]]


def rank(basket: pd.DataFrame, clusters: pd.DataFrame, rules: pd.DataFrame, values: Dict[str, object]
         ) -> Tuple[pd.DataFrame, Dict[str, object]]:
    top_k = values["TopK"]
    customers = customer_table(basket, clusters)
    # Product attributes for both paths, defined once before either runs (IPRE bug 3: the fallback's lookup tables
    # were local to it while the rule path used them too).
    products = basket.drop_duplicates("product_id")[["product_id", "l2_category", "l3_category", "in_stock"]]
    l2_shares = category_shares(basket, customers, "l2_category")
    l3_shares = category_shares(basket, customers, "l3_category")

    candidates, filtered = rule_candidates(basket, customers, rules, products, values)
    bonus = l3_bonus(candidates, l3_shares, products, values["L3TiebreakMargin"])
    candidates["score"] = np.minimum(candidates["raw_score"].to_numpy() + bonus, 1.0)
    candidates = candidates.sort_values(["customer_id", "score", "confidence", "lift", "product_b"],
                                        ascending=[True, False, False, False, True])
    chosen = candidates[candidates.groupby("customer_id").cumcount() < top_k]
    chosen = chosen.merge(products[["product_id", "l2_category", "l3_category"]], left_on="product_b",
                          right_on="product_id").drop(columns="product_id")
    from_rules = pd.DataFrame({
        "customer_id": chosen["customer_id"], "recommended_product": chosen["product_b"],
        "cluster_id": chosen["cluster_id"], "segment": chosen["segment"], "l2_category": chosen["l2_category"],
        "l3_category": chosen["l3_category"], "trigger_product": chosen["product_a"], "support": chosen["support"],
        "confidence": chosen["confidence"], "lift": chosen["lift"], "weighted_support": chosen["weighted_support"],
        "score": chosen["score"], "recommended_qty": rounded_quantity(chosen["median_order_quantity"]),
        "reason": ["%s \u2192 %s (support=%.3f, confidence=%.3f, lift=%.2f)" % row for row in zip(
            chosen["product_a"], chosen["product_b"], chosen["support"], chosen["confidence"], chosen["lift"])],
        "source_order": 0,
    })

    fallback = fallback_candidates(customers, basket, chosen, l2_shares, products, top_k)
    if len(fallback):
        fallback = fallback.merge(customers[["customer_id", "cluster_id", "recency_score"]], on="customer_id")
        quantity = basket.groupby(["segment", "product_id"])["median_order_quantity"].median().rename("segment_qty")
        fallback = fallback.merge(quantity.reset_index(), on=["segment", "product_id"])
        score = (values["WConf"] * fallback["affinity"] + values["WSupp"] * fallback["segment_share"]
                 + values["WRecency"] * fallback["recency_score"])
        from_fallback = pd.DataFrame({
            "customer_id": fallback["customer_id"], "recommended_product": fallback["product_id"],
            "cluster_id": fallback["cluster_id"], "segment": fallback["segment"],
            "l2_category": fallback["l2_category"], "l3_category": fallback["l3_category"],
            "trigger_product": FALLBACK_TRIGGER, "support": np.nan, "confidence": np.nan, "lift": np.nan,
            "weighted_support": np.nan, "score": np.minimum(score, 1.0),
            "recommended_qty": rounded_quantity(fallback["segment_qty"]),
            "reason": ["Category-affinity fallback: %s affinity=%.2f" % row
                       for row in zip(fallback["l2_category"], fallback["affinity"])],
            "source_order": 1,
        })
        result = pd.concat([from_rules, from_fallback], ignore_index=True)
    else:
        result = from_rules
    result = result.sort_values(["customer_id", "score", "source_order", "recommended_product"],
                                ascending=[True, False, True, True], ignore_index=True)
    result["rank"] = result.groupby("customer_id").cumcount() + 1
    result = result[OUTPUT_COLUMNS]

    per_customer = result.groupby("customer_id").size().reindex(customers["customer_id"]).fillna(0)
    rule_customers = result.loc[result["trigger_product"] != FALLBACK_TRIGGER, "customer_id"].nunique()
    fallback_customers = result.loc[result["trigger_product"] == FALLBACK_TRIGGER, "customer_id"].nunique()
    report = {
        "customers": int(len(customers)),
        "customers_covered": int((per_customer > 0).sum()),
        "coverage": float((per_customer > 0).mean()),
        "customers_with_top_k": int((per_customer >= top_k).sum()),
        "customers_with_fewer_than_top_k": int((per_customer < top_k).sum()),
        "customers_without_cluster": int(customers["cluster_id"].isna().sum()),
        "customers_via_association": int(rule_customers),
        "customers_via_fallback": int(fallback_customers),
        "recommendations": int(len(result)),
        "association_recommendations": int((result["trigger_product"] != FALLBACK_TRIGGER).sum()),
        "products_recommended": int(result["recommended_product"].nunique()),
        "rule_candidates_removed_by_filter": filtered,
        "rule_candidates_capped_at_1": int((candidates["raw_score"] + bonus >= 1.0).sum()),
        "score_range": [float(result["score"].min()), float(result["score"].max())] if len(result) else None,
        "parameters": values,
    }
    return result, report


def run(args: argparse.Namespace) -> Dict[str, object]:
    values = params.from_arguments(args, STEP)
    basket = io_.read_csv_output(args.basket, {"customer_id": str, "product_id": str, "segment": str,
                                               "l2_category": str, "l3_category": str})
    basket["in_stock"] = basket["in_stock"].astype(str).str.lower().isin(io_.TRUE_TEXTS)
    clusters = io_.read_customer_clusters(args.model_dir)
    rules = io_.read_csv_output(args.associations, {"cluster_id": str, "segment": str, "product_a": str,
                                                    "product_b": str})
    result, report = rank(basket, clusters, rules, values)
    io_.write_csv(args.output_dir / "recommendations.csv", result)
    io_.write_json(args.output_dir / "ranking_report.json", report)
    io_.log("ranking: %d recommendations for %d of %d customers (coverage %.1f%%); %d via association rules, %d via "
            "fallback; %d with fewer than %d" % (
                report["recommendations"], report["customers_covered"], report["customers"],
                100 * report["coverage"], report["customers_via_association"], report["customers_via_fallback"],
                report["customers_with_fewer_than_top_k"], values["TopK"]))
    io_.metric(STEP, "Coverage", report["coverage"])
    io_.metric(STEP, "Recommendations", report["recommendations"])
    io_.metric(STEP, "CustomersViaAssociation", report["customers_via_association"])
    return report


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return io_.run_step(STEP, lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
