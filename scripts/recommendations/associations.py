"""Associations step (SageMaker Processing): product pair rules A -> B per cluster, from basket sessions.

    associations.py --window-days 0 --min-lift 1.2 --min-abs-freq 2 --min-freq-ratio 0.03 --decay-lambda 0.001

Inputs: <processing>/input/model/model.tar.gz (TrainClustering's artifact; customer_clusters.csv is read from it),
<processing>/input/invoices/invoices.csv and <processing>/input/reference/basket_report.json (the reference date),
both from MarketBasket. Outputs: <processing>/output/associations/associations.csv (cluster_id, segment,
product_a, product_b, pair_freq, product_a_freq, product_b_freq, total_baskets, support, weighted_support,
confidence, lift) and associations_report.json.

Baskets: a customer's invoices are one basket while each follows the previous one within WindowDays days; a longer
gap starts a new basket. WindowDays=0 takes the median over customers of each customer's median gap between
consecutive invoices, clamped to 7..90 days. Basket ids are numbered once over all customers (never per customer:
IPRE bug 1, where equal per-customer ids made baskets of different customers collapse and confidence exceed 1).

Per cluster, with N its baskets: pair_freq = baskets holding A and B, confidence = pair_freq / freq(A), support =
pair_freq / N, weighted_support = sum over those baskets of exp(-DecayLambda * age_days) / N (age of the basket's
last invoice before the reference date), lift = confidence / (freq(B) / N). Both products must be in at least
max(MinAbsFreq, MinFreqRatio * N) baskets (a pair is never more frequent than either product), and lift >= MinLift.

Counting is sparse linear algebra: with X the binary basket x (cluster, product) matrix of the frequent products,
X^T X holds every pair frequency and X^T diag(w) X every weighted one. Each basket belongs to one cluster, so the
products are block-diagonal by cluster and one multiplication serves all clusters.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd
from scipy import sparse

import pipeline_io as io_
import pipeline_parameters as params

STEP = "Associations"
WINDOW_RANGE = (7.0, 90.0)
RULE_COLUMNS = ["cluster_id", "segment", "product_a", "product_b", "pair_freq", "product_a_freq", "product_b_freq",
                "total_baskets", "support", "weighted_support", "confidence", "lift"]


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = io_.processing_root(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    params.add_arguments(parser, STEP)
    parser.add_argument("--model-dir", type=Path, default=root / "input" / "model", help="folder with model.tar.gz")
    parser.add_argument("--invoices", type=Path, default=root / "input" / "invoices" / "invoices.csv")
    parser.add_argument("--reference", type=Path, default=root / "input" / "reference" / "basket_report.json")
    parser.add_argument("--output-dir", type=Path, default=root / "output" / "associations")
    parser.add_argument("--failure-file", type=Path, action="append",
                        help="where the failure reason goes (repeatable); default <ml>/output/message and "
                             "<ml>/output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = io_.default_failure_files(root)
    return args


def read_reference_date(path: Path) -> pd.Timestamp:
    path = Path(path)
    if not path.is_file():
        raise io_.StepError("%s not found: MarketBasket's reference output must be mapped here" % path)
    return pd.Timestamp(json.loads(path.read_text(encoding="utf-8"))["reference_date"])


def auto_window(invoices: pd.DataFrame) -> Tuple[float, Dict[str, object]]:
    """Median over customers of each customer's median gap (days) between consecutive invoices, clamped to 7..90.
    `invoices` holds one row per customer and invoice day, sorted by customer and day."""
    gaps = invoices["date"].diff().dt.days.to_numpy(dtype=float)
    same_customer = invoices["customer_id"].to_numpy()[1:] == invoices["customer_id"].to_numpy()[:-1]
    gaps = pd.Series(np.r_[np.nan, np.where(same_customer, gaps[1:], np.nan)])
    per_customer = gaps.groupby(invoices["customer_id"].to_numpy()).median().dropna()
    if per_customer.empty:
        return WINDOW_RANGE[0], {"method": "auto", "median_gap_days": None,
                                 "note": "no customer has two invoices; every invoice is its own basket"}
    median = float(per_customer.median())
    return float(np.clip(median, *WINDOW_RANGE)), {"method": "auto", "median_gap_days": median,
                                                    "customers_with_gaps": int(len(per_customer))}


def basket_presence(lines: pd.DataFrame, clusters: pd.DataFrame, window_days: float, reference_date: pd.Timestamp,
                    decay_lambda: float) -> Tuple[pd.DataFrame, Dict[str, object]]:
    """One row per (basket, product) with the basket's global id, cluster and decay weight.

    `lines` holds customer_id, product_id and date (one row per customer, product and day); `clusters` maps
    customer_id to cluster_id and segment. window_days 0 means the automatic window."""
    invoices = lines[["customer_id", "date"]].drop_duplicates().sort_values(["customer_id", "date"],
                                                                             ignore_index=True)
    info: Dict[str, object]
    if window_days == 0:
        window_days, info = auto_window(invoices)
    else:
        info = {"method": "parameter"}
    info["window_days"] = window_days
    customer = invoices["customer_id"].to_numpy()
    gap = invoices["date"].diff().dt.days.to_numpy(dtype=float)
    starts = np.r_[True, (customer[1:] != customer[:-1]) | (gap[1:] > window_days)]
    invoices["basket"] = np.cumsum(starts) - 1  # one numbering over all customers
    last = invoices.groupby("basket")["date"].max()
    weights = np.exp(-decay_lambda * (reference_date - last).dt.days.to_numpy(dtype=float))

    presence = lines[["customer_id", "product_id", "date"]].merge(invoices, on=["customer_id", "date"])
    presence = presence[["basket", "customer_id", "product_id"]].drop_duplicates(["basket", "product_id"])
    presence = presence.merge(clusters[["customer_id", "cluster_id", "segment"]], on="customer_id", how="left")
    unclustered = presence["cluster_id"].isna()
    info["baskets"] = int(len(last))
    info["basket_product_rows_without_cluster"] = int(unclustered.sum())
    presence = presence[~unclustered].copy()
    presence["weight"] = weights[presence["basket"].to_numpy()]
    return presence.reset_index(drop=True), info


def frequent_items(presence: pd.DataFrame, min_abs_freq: int, min_freq_ratio: float
                   ) -> Tuple[pd.DataFrame, pd.Series]:
    """The presence rows of products in at least max(MinAbsFreq, MinFreqRatio * N) of their cluster's N baskets,
    with an integer code per (cluster, product) in column item, and N per cluster."""
    cluster_codes, cluster_names = pd.factorize(presence["cluster_id"])
    product_codes, product_names = pd.factorize(presence["product_id"])
    first_of_basket = ~presence["basket"].duplicated().to_numpy()
    baskets = np.bincount(cluster_codes[first_of_basket], minlength=len(cluster_names))
    keys = cluster_codes.astype(np.int64) * len(product_names) + product_codes
    _, item, freq = np.unique(keys, return_inverse=True, return_counts=True)
    keep = freq[item] >= np.maximum(min_abs_freq, min_freq_ratio * baskets[cluster_codes])
    return (presence[keep].assign(item=item[keep]),
            pd.Series(baskets, index=pd.Index(cluster_names, name="cluster_id")))


def count_pairs(frequent: pd.DataFrame) -> pd.DataFrame:
    """cluster_id, segment, product_a, product_b, pair_freq, weighted_pair_freq, product_a_freq, product_b_freq for
    every ordered pair of distinct products sharing a basket, by sparse matrix products (`frequent` as
    frequent_items returns it; items without rows are empty columns)."""
    columns = ["cluster_id", "segment", "product_a", "product_b", "pair_freq", "weighted_pair_freq",
               "product_a_freq", "product_b_freq"]
    if frequent.empty:
        return pd.DataFrame(columns=columns)
    item_codes = frequent["item"].to_numpy()
    basket_codes, baskets = pd.factorize(frequent["basket"])
    shape = (len(baskets), int(item_codes.max()) + 1)
    x = sparse.csr_matrix((np.ones(len(frequent)), (basket_codes, item_codes)), shape=shape)
    xw = sparse.csr_matrix((frequent["weight"].to_numpy(dtype=float), (basket_codes, item_codes)), shape=shape)
    counts = (x.T @ x).tocoo()
    weighted = (x.T @ xw).tocsr()
    item_freq = np.asarray(x.sum(axis=0)).ravel()
    off_diagonal = counts.row != counts.col
    a, b = counts.row[off_diagonal], counts.col[off_diagonal]
    if not len(a):
        return pd.DataFrame(columns=columns)
    present, first = np.unique(item_codes, return_index=True)

    def per_item(column: str) -> np.ndarray:
        values = np.empty(shape[1], dtype=object)
        values[present] = frequent[column].to_numpy()[first]
        return values

    cluster, segment, product = per_item("cluster_id"), per_item("segment"), per_item("product_id")
    return pd.DataFrame({
        "cluster_id": cluster[a], "segment": segment[a], "product_a": product[a], "product_b": product[b],
        "pair_freq": np.rint(counts.data[off_diagonal]).astype(np.int64),
        "weighted_pair_freq": np.asarray(weighted[a, b]).ravel(),
        "product_a_freq": np.rint(item_freq[a]).astype(np.int64),
        "product_b_freq": np.rint(item_freq[b]).astype(np.int64),
    }, columns=columns)


def rule_metrics(pairs: pd.DataFrame, baskets_per_cluster: pd.Series, min_lift: float) -> pd.DataFrame:
    """Support, weighted support, confidence and lift of counted pairs; the rules with lift >= min_lift, sorted."""
    total = baskets_per_cluster.reindex(pairs["cluster_id"]).to_numpy(dtype=float)
    pair = pairs["pair_freq"].to_numpy(dtype=float)
    freq_a = pairs["product_a_freq"].to_numpy(dtype=float)
    freq_b = pairs["product_b_freq"].to_numpy(dtype=float)
    if (pair > freq_a).any():
        raise AssertionError("confidence > 1: a pair counted more often than its trigger product in %s"
                             % pairs.loc[pair > freq_a, ["cluster_id", "product_a", "product_b"]].head(3)
                             .to_dict("records"))
    lift = pair * total / (freq_a * freq_b)
    keep = lift >= min_lift
    rules = pd.DataFrame({
        "cluster_id": pairs["cluster_id"].to_numpy()[keep], "segment": pairs["segment"].to_numpy()[keep],
        "product_a": pairs["product_a"].to_numpy()[keep], "product_b": pairs["product_b"].to_numpy()[keep],
        "pair_freq": pairs["pair_freq"].to_numpy()[keep], "product_a_freq": pairs["product_a_freq"].to_numpy()[keep],
        "product_b_freq": pairs["product_b_freq"].to_numpy()[keep], "total_baskets": total[keep].astype(np.int64),
        "support": (pair / total)[keep],
        "weighted_support": (pairs["weighted_pair_freq"].to_numpy(dtype=float) / total)[keep],
        "confidence": (pair / freq_a)[keep], "lift": lift[keep],
    }, columns=RULE_COLUMNS)
    return rules.sort_values(["cluster_id", "product_a", "lift", "product_b"], ascending=[True, True, False, True],
                             ignore_index=True)


def mine(lines: pd.DataFrame, clusters: pd.DataFrame, reference_date: pd.Timestamp, values: Dict[str, object]
         ) -> Tuple[pd.DataFrame, Dict[str, object]]:
    presence, info = basket_presence(lines, clusters, values["WindowDays"], reference_date, values["DecayLambda"])
    frequent, baskets_per_cluster = frequent_items(presence, values["MinAbsFreq"], values["MinFreqRatio"])
    rules = rule_metrics(count_pairs(frequent), baskets_per_cluster, values["MinLift"])
    info.update({
        "clusters": int(len(baskets_per_cluster)),
        "frequent_items": int(frequent[["cluster_id", "product_id"]].drop_duplicates().shape[0]),
        "rules": int(len(rules)),
        "clusters_with_rules": int(rules["cluster_id"].nunique()),
        "lift_range": [float(rules["lift"].min()), float(rules["lift"].max())] if len(rules) else None,
        "confidence_range": [float(rules["confidence"].min()), float(rules["confidence"].max())]
        if len(rules) else None,
    })
    return rules, info


def read_lines(path: Path) -> pd.DataFrame:
    lines = io_.read_csv_output(path, {"customer_id": str, "product_id": str, "invoice_date": str})
    if lines.empty:
        raise io_.StepError("%s has no rows" % path)
    lines["date"] = pd.to_datetime(lines["invoice_date"], format="%Y-%m-%d")
    return lines


def run(args: argparse.Namespace) -> Dict[str, object]:
    values = params.from_arguments(args, STEP)
    clusters = io_.read_customer_clusters(args.model_dir)
    lines = read_lines(args.invoices)
    reference_date = read_reference_date(args.reference)
    rules, info = mine(lines, clusters, reference_date, values)
    io_.write_csv(args.output_dir / "associations.csv", rules)
    report = dict(info, parameters=values, reference_date=reference_date.strftime("%Y-%m-%d"))
    io_.write_json(args.output_dir / "associations_report.json", report)
    io_.log("basket window %.4g days (%s); %d baskets in %d clusters; %d rules in %d clusters" % (
        info["window_days"], info["method"], info["baskets"], info["clusters"], info["rules"],
        info["clusters_with_rules"]))
    if info["lift_range"]:
        io_.log("lift %.3g..%.3g, confidence %.3g..%.3g" % tuple(info["lift_range"] + info["confidence_range"]))
    io_.metric(STEP, "AssociationRules", info["rules"])
    io_.metric(STEP, "BasketWindowDays", info["window_days"])
    return report


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return io_.run_step(STEP, lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
