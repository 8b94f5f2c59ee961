"""Seeded B2B data for the recommendations pipeline, at any size, with structure planted where tests can find it.

    cd scripts && python3 -m sample_data.b2b --invoices 50000 --customers 5000 --products 2000 --seed 7 --out DIR \
        [--regions 3] [--end-uses 3] [--price-column unit_price] [--bad-rows 2] [--feedback-rows 500]

Writes DIR/customers/customers.csv, DIR/products/products.csv, DIR/invoices/invoices.csv, DIR/feedback/feedback.csv
(with --feedback-rows) and DIR/truth.json (what was planted). `--invoices` is the number of invoice rows (order
lines) aimed at; the exact count is in truth.json. Same arguments, same bytes.

Planted structure:
- Segments (region x end_use), each with 2 or 3 designed clusters of customers that buy different category mixes
  (two dominant L2 categories per cluster, their brands and functionality following the category).
- Purchases come in sessions: one to three invoices within 7 days, sessions at least 91 days apart, so every basket
  window from 7 to 90 days (the range WindowDays=0 is clamped to) recovers exactly these sessions.
- Per segment two product pairs planted in one designed cluster only: product A in an exact share of that cluster's
  sessions, B in an exact share of the sessions with A and of those without; the lift this realises is in truth.json.
  The second pair's B is out of stock.
- Two universally popular products in 90% of every cluster's sessions: their lift with anything is at most
  1 / 0.9 < 1.2, so they never pass the default MinLift.
- Invoices older than the 730-day default cutoff (about a fifth of the customers have older sessions), one-time
  buyers (5% of customers with a single invoice), a few regular products out of stock, and the price under the
  alias chosen by --price-column (or no price column at all with `none`).
- `--bad-rows N` adds N rows per bad-row rule to each input (pipeline_io.RULES), so the counts in the run's report are
  known exactly; the bad customer and product rows come after the good ones, so the first occurrence of an id stays
  the good row.
"""
from __future__ import annotations

import argparse
import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

L2_CATEGORIES = ("Valves", "Pipes", "Fittings", "Fasteners", "Tools", "Electrical", "HVAC Parts", "Safety")
FUNCTIONALITY = {"Valves": "Flow control", "Pipes": "Flow control", "Fittings": "Flow control",
                 "Fasteners": "Assembly", "Tools": "Assembly", "Electrical": "Power", "HVAC Parts": "Climate",
                 "Safety": "Protection"}
REGIONS = ("West", "Southeast", "Midwest", "Northeast", "Southwest", "Northwest")
END_USES = ("Plumbing", "HVAC", "Electrical", "Industrial", "Construction", "Facilities")
PRICE_COLUMNS = ("unit_price", "price", "list_price", "unit_cost", "sale_price", "none")
POSITIVE_CODES = ("good_fit", "customer_interested")
NEGATIVE_CODES = ("not_relevant", "wrong_category", "price_too_high")
REFERENCE_DATE = datetime.date(2026, 1, 31)
CUTOFF_DAYS = 730
RECENT_SPAN = 720  # recent sessions lie within this many days of the reference date (inside the default cutoff)
OLD_START = 746  # old sessions end at least this many days before it (outside the cutoff)
SESSION_DAYS = 7  # the days of one session lie within 0..6 of its start
SESSION_GAP = 97  # start to start: 6 days of a session plus a 91-day quiet gap
MAX_SESSIONS = 7  # 6 * 97 + 6 <= 720
POPULAR_SHARE = 0.9
DOMINANT_SHARE = 0.85
ONE_TIME_SHARE = 0.05
OLD_HISTORY_SHARE = 0.2
OUT_OF_STOCK_SHARE = 0.05
MIX_LINES = (2, 6)  # regular lines per session, uniform, before scaling to the requested size
# (share of the cluster's sessions with A, share of A-sessions with B, share of the other sessions with B) per pair.
PLANTED_SHARES = ((0.30, 0.60, 0.02), (0.25, 0.70, 0.03))


@dataclass
class B2BData:
    customers: pd.DataFrame
    products: pd.DataFrame
    invoices: pd.DataFrame
    feedback: Optional[pd.DataFrame]
    truth: Dict[str, object]
    customer_truth: pd.DataFrame = field(default_factory=pd.DataFrame)  # customer_id, segment, designed_cluster

    def write(self, out: Path) -> None:
        out = Path(out)
        tables = [("customers", self.customers), ("products", self.products), ("invoices", self.invoices)]
        if self.feedback is not None:
            tables.append(("feedback", self.feedback))
        for name, frame in tables:
            (out / name).mkdir(parents=True, exist_ok=True)
            frame.to_csv(out / name / ("%s.csv" % name), index=False)
        self.customer_truth.to_csv(out / "customer_truth.csv", index=False)
        (out / "truth.json").write_text(json.dumps(self.truth, indent=2) + "\n", encoding="utf-8")


def _catalog(products: int, segments: List[str], rng: np.random.Generator, dominant: Dict[str, List[List[int]]]
             ) -> tuple:
    """Products with their category, brand, stock and price; which ids are popular and planted."""
    special = 2 + 4 * len(segments)
    regular = products - special
    if regular < 2 * len(L2_CATEGORIES):
        raise ValueError("--products %d is too few for %d segments: need at least %d"
                         % (products, len(segments), special + 2 * len(L2_CATEGORIES)))
    l2 = list(np.arange(regular) % len(L2_CATEGORIES))
    l2 += [L2_CATEGORIES.index("Safety")] * 2
    for segment in segments:
        first, second = dominant[segment][0], dominant[segment][1]
        l2 += [first[0], first[1], second[0], second[1]]
    l2 = np.asarray(l2)
    ids = np.array(["P%05d" % (i + 1) for i in rng.permutation(products)])
    in_stock = rng.random(products) >= OUT_OF_STOCK_SHARE
    in_stock[regular:] = True
    catalog = pd.DataFrame({
        "product_id": ids,
        "brand": ["Brand%02d" % (3 * c + b) for c, b in zip(l2, rng.integers(0, 3, size=products))],
        "l2_category": [L2_CATEGORIES[c] for c in l2],
        "l3_category": ["%s type %d" % (L2_CATEGORIES[c], t + 1)
                        for c, t in zip(l2, rng.integers(0, 3, size=products))],
        "functionality": [FUNCTIONALITY[L2_CATEGORIES[c]] for c in l2],
        "in_stock": in_stock,
        "price": np.round(np.exp(rng.normal(3.0 + 0.25 * l2, 0.6)), 2),
    })
    planted = {}
    for s, segment in enumerate(segments):
        base = regular + 2 + 4 * s
        planted[segment] = [(ids[base], ids[base + 1]), (ids[base + 2], ids[base + 3])]
        catalog.loc[base + 3, "in_stock"] = False
    regular_by_l2 = [np.flatnonzero(l2[:regular] == c) for c in range(len(L2_CATEGORIES))]
    return catalog, list(ids[regular:regular + 2]), planted, regular_by_l2


def generate(invoices: int, customers: int, products: int, seed: int, regions: int = 3, end_uses: int = 3,
             price_column: str = "unit_price", bad_rows: int = 0, feedback_rows: int = 0) -> B2BData:
    if not 1 <= regions <= len(REGIONS) or not 1 <= end_uses <= len(END_USES):
        raise ValueError("regions must be 1..%d and end uses 1..%d" % (len(REGIONS), len(END_USES)))
    if price_column not in PRICE_COLUMNS:
        raise ValueError("price column must be one of %s" % ", ".join(PRICE_COLUMNS))
    rng = np.random.default_rng(seed)
    segments = ["%s_%s" % (r, e) for r in REGIONS[:regions] for e in END_USES[:end_uses]]
    designed = {segment: 2 + s % 2 for s, segment in enumerate(segments)}
    if customers < 8 * sum(designed.values()):
        raise ValueError("--customers %d is too few: need 8 per designed cluster, %d"
                         % (customers, 8 * sum(designed.values())))
    # Two dominant L2 categories per designed cluster, different for every cluster of a segment.
    dominant = {segment: [[(2 * c + s) % 7, (2 * c + s + 1) % 7] for c in range(designed[segment])]
                for s, segment in enumerate(segments)}
    catalog, popular, planted, regular_by_l2 = _catalog(products, segments, rng, dominant)

    # Customers: segments and designed clusters balanced; customer 0 is a regular buyer.
    segment_of = rng.permutation(np.arange(customers) % len(segments))
    cluster_of = np.zeros(customers, dtype=int)
    for s, segment in enumerate(segments):
        members = np.flatnonzero(segment_of == s)
        cluster_of[members] = np.arange(len(members)) % designed[segment]
    one_time = rng.random(customers) < ONE_TIME_SHARE
    one_time[0] = False
    group_of = np.array([sum(designed[x] for x in segments[:s]) for s in range(len(segments))])[segment_of] \
        + cluster_of  # one index per (segment, designed cluster)
    groups = sum(designed.values())
    preference = np.full((groups, len(L2_CATEGORIES)), (1.0 - DOMINANT_SHARE) / (len(L2_CATEGORIES) - 2))
    g = 0
    for segment in segments:
        for pair in dominant[segment]:
            preference[g, pair] = DOMINANT_SHARE / 2
            g += 1

    # Size: lines per session are the regular mix plus the popular products plus a little planted.
    lines_per_session = np.mean(MIX_LINES) + 2 * POPULAR_SHARE + 0.2
    old_sessions_per_customer = OLD_HISTORY_SHARE * 1.5
    wanted_sessions = invoices / lines_per_session / customers - old_sessions_per_customer
    mean_sessions = float(np.clip(wanted_sessions, 1.0, MAX_SESSIONS - 1))
    mix_scale = max(1.0, wanted_sessions / mean_sessions)

    # Recent sessions, placed backwards from the reference date with at least SESSION_GAP days between starts.
    sessions = np.clip(1 + rng.poisson(max(mean_sessions - 1.0, 0.0), size=customers), 1, MAX_SESSIONS)
    sessions[one_time] = 1
    slack = RECENT_SPAN - (SESSION_DAYS - 1) - (sessions - 1) * SESSION_GAP
    weights = rng.random((customers, MAX_SESSIONS + 1))
    weights[np.arange(MAX_SESSIONS + 1)[None, :] > sessions[:, None]] = 0.0
    parts = weights / weights.sum(axis=1, keepdims=True) * slack[:, None]
    parts[0, 0] = 0.0
    back = np.cumsum(parts[:, :MAX_SESSIONS] + np.r_[0, [SESSION_GAP] * (MAX_SESSIONS - 1)][None, :], axis=1)
    starts_back = np.floor(back).astype(int) + (SESSION_DAYS - 1)  # days before the reference date
    taken = np.arange(MAX_SESSIONS)[None, :] < sessions[:, None]
    session_customer = np.repeat(np.arange(customers), sessions)
    session_start = starts_back[taken]
    session_old = np.zeros(len(session_customer), dtype=bool)
    # Old sessions, all outside the cutoff.
    old = np.where(rng.random(customers) < OLD_HISTORY_SHARE, 1 + (rng.random(customers) < 0.5), 0)
    old_customer = np.repeat(np.arange(customers), old)
    first_old = OLD_START + (SESSION_DAYS - 1) + rng.integers(0, 300, size=customers)
    old_rank = np.arange(len(old_customer)) - np.repeat(np.cumsum(old) - old, old)
    old_start = first_old[old_customer] + old_rank * (SESSION_GAP + rng.integers(0, 60, size=len(old_customer)))
    session_customer = np.r_[session_customer, old_customer]
    session_start = np.r_[session_start, old_start]
    session_old = np.r_[session_old, np.ones(len(old_customer), dtype=bool)]
    n_sessions = len(session_customer)

    # Invoice days of each session: 1..3 distinct offsets within 0..6 (one for one-time buyers); the session's start
    # counts back from the reference date, so offset 6 of customer 0's last session is the reference date itself.
    draw = rng.random(n_sessions)
    day_count = 1 + (draw < 0.3) + (draw < 0.1)
    day_count[one_time[session_customer]] = 1
    offsets = np.sort(np.argsort(rng.random((n_sessions, SESSION_DAYS)), axis=1)[:, :3], axis=1)
    offsets = np.where(np.arange(3)[None, :] < day_count[:, None], offsets, -1)
    offsets[0] = [SESSION_DAYS - 1, -1, -1]  # customer 0's most recent session: one invoice on the reference date
    day_count[0] = 1

    # Regular lines from the cluster's category mix.
    low, high = MIX_LINES
    mix_count = np.round(rng.integers(low, high + 1, size=n_sessions) * mix_scale).astype(int)
    line_session = np.repeat(np.arange(n_sessions), mix_count)
    cumulative = np.cumsum(preference[group_of[session_customer[line_session]]], axis=1)
    category = (rng.random(len(line_session))[:, None] > cumulative).sum(axis=1)
    category = np.minimum(category, len(L2_CATEGORIES) - 1)
    sizes = np.array([len(p) for p in regular_by_l2])
    pick = np.floor(rng.random(len(line_session)) * sizes[category]).astype(int)
    flat = np.concatenate(regular_by_l2)
    line_product = flat[np.r_[0, np.cumsum(sizes)[:-1]][category] + pick]
    product_index = {pid: i for i, pid in enumerate(catalog["product_id"])}

    # Popular and planted lines, placed in exact shares of each designed cluster's recent sessions.
    extra_session: List[np.ndarray] = []
    extra_product: List[np.ndarray] = []
    planted_truth = []
    g = 0
    for segment in segments:
        for cluster in range(designed[segment]):
            members = np.flatnonzero((group_of[session_customer] == g) & ~session_old)
            n = len(members)
            for pid in popular:
                chosen = rng.choice(members, size=int(round(POPULAR_SHARE * n)), replace=False)
                extra_session.append(chosen)
                extra_product.append(np.full(len(chosen), product_index[pid]))
            if cluster < len(PLANTED_SHARES):
                a_share, b_given_a, b_without_a = PLANTED_SHARES[cluster]
                a, b = planted[segment][cluster]
                shuffled = rng.permutation(members)
                n_a = int(round(a_share * n))
                n_ab = int(round(b_given_a * n_a))
                n_b_only = int(round(b_without_a * (n - n_a)))
                with_a, without_a = shuffled[:n_a], shuffled[n_a:]
                with_b = np.r_[with_a[:n_ab], without_a[:n_b_only]]
                extra_session += [with_a, with_b]
                extra_product += [np.full(n_a, product_index[a]), np.full(len(with_b), product_index[b])]
                confidence = n_ab / n_a
                planted_truth.append({
                    "segment": segment, "designed_cluster": cluster, "product_a": a, "product_b": b,
                    "b_in_stock": bool(catalog.loc[product_index[b], "in_stock"]), "sessions": n,
                    "sessions_with_a": n_a, "sessions_with_a_and_b": n_ab, "sessions_with_b": len(with_b),
                    "support": n_ab / n, "confidence": confidence, "lift": confidence / (len(with_b) / n)})
            g += 1
    # Old sessions buy the popular products too.
    old_sessions = np.flatnonzero(session_old)
    for pid in popular:
        chosen = old_sessions[rng.random(len(old_sessions)) < POPULAR_SHARE]
        extra_session.append(chosen)
        extra_product.append(np.full(len(chosen), product_index[pid]))
    line_session = np.r_[line_session, np.concatenate(extra_session)]
    line_product = np.r_[line_product, np.concatenate(extra_product)]

    # One line per session and product, on one of the session's invoice days.
    unique = pd.DataFrame({"s": line_session, "p": line_product}).drop_duplicates().to_numpy()
    line_session, line_product = unique[:, 0], unique[:, 1]
    day_pick = np.floor(rng.random(len(line_session)) * day_count[line_session]).astype(int)
    days_before = session_start[line_session] - offsets[line_session, day_pick]
    scale = np.exp(rng.normal(0.0, 0.5, size=customers))
    quantity = 1 + rng.poisson(2.5 * scale[session_customer[line_session]])
    dates = pd.to_datetime(REFERENCE_DATE) - pd.to_timedelta(days_before, unit="D")
    order = np.lexsort((line_product, session_customer[line_session], days_before.max() - days_before))
    customer_ids = np.array(["C%06d" % (i + 1) for i in range(customers)])
    invoice_frame = pd.DataFrame({
        "invoice_date": dates.strftime("%Y-%m-%d")[order],
        "customer_id": customer_ids[session_customer[line_session]][order],
        "product_id": catalog["product_id"].to_numpy()[line_product][order],
        "quantity": quantity[order].astype(str),
    })
    old_rows = int(session_old[line_session].sum())

    region_names = [s.split("_")[0] for s in segments]
    end_use_names = [s.split("_")[1] for s in segments]
    customer_frame = pd.DataFrame({"customer_id": customer_ids,
                                   "region": np.array(region_names)[segment_of],
                                   "end_use": np.array(end_use_names)[segment_of]})
    product_frame = catalog.copy()
    product_frame["in_stock"] = np.where(product_frame["in_stock"], "true", "false")
    product_frame["price"] = product_frame["price"].map("%.2f".__mod__)
    if price_column == "none":
        product_frame = product_frame.drop(columns="price")
    else:
        product_frame = product_frame.rename(columns={"price": price_column})
    feedback_frame = _feedback(feedback_rows, customer_ids, catalog, rng) if feedback_rows else None

    bad: Dict[str, Dict[str, int]] = {}
    if bad_rows:
        customer_frame, product_frame, invoice_frame, feedback_frame, bad = _add_bad_rows(
            bad_rows, customer_frame, product_frame, invoice_frame, feedback_frame, price_column, rng)

    truth = {
        "seed": seed, "reference_date": REFERENCE_DATE.isoformat(), "cutoff_days": CUTOFF_DAYS,
        "invoice_rows": int(len(invoice_frame)), "good_invoice_rows": int(len(line_session)),
        "invoice_rows_older_than_cutoff": old_rows,
        "customers": customers, "products": products, "one_time_buyers": int(one_time.sum()),
        "segments": {segment: {"designed_clusters": designed[segment],
                               "customers": int((segment_of == s).sum())} for s, segment in enumerate(segments)},
        "planted_pairs": planted_truth, "popular_products": popular,
        "out_of_stock_products": sorted(catalog.loc[~catalog["in_stock"], "product_id"]),
        "price_column": price_column, "bad_rows": bad,
        "feedback_rows": 0 if feedback_frame is None else int(len(feedback_frame)),
    }
    customer_truth = pd.DataFrame({"customer_id": customer_ids, "segment": np.array(segments)[segment_of],
                                   "designed_cluster": cluster_of, "one_time_buyer": one_time})
    return B2BData(customer_frame, product_frame, invoice_frame, feedback_frame, truth, customer_truth)


def _feedback(rows: int, customer_ids: np.ndarray, catalog: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Account-manager feedback on random customer x product pairs within the last 500 days."""
    rating = rng.choice(["High", "Medium", "Low"], size=rows, p=[0.4, 0.35, 0.25])
    sentiment = np.where(rating == "Medium", rng.choice(["positive", "negative", ""], size=rows), "")
    codes = np.array(POSITIVE_CODES + NEGATIVE_CODES + ("other",))
    reason = np.where(rating == "High", "", codes[rng.integers(0, len(codes), size=rows)])
    days = rng.integers(0, 500, size=rows)
    return pd.DataFrame({
        "customer_id": customer_ids[rng.integers(0, len(customer_ids), size=rows)],
        "product_id": catalog["product_id"].to_numpy()[rng.integers(0, len(catalog), size=rows)],
        "rating": rating, "reason_code": reason, "sentiment": sentiment,
        "feedback_date": (pd.to_datetime(REFERENCE_DATE) - pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
    })


def _insert(frame: pd.DataFrame, rows: List[Dict[str, str]], rng: np.random.Generator, at_end: bool) -> pd.DataFrame:
    extra = pd.DataFrame(rows, columns=frame.columns).fillna("")
    if at_end:
        return pd.concat([frame, extra], ignore_index=True)
    combined = pd.concat([frame, extra], ignore_index=True)
    positions = np.r_[np.arange(len(frame)), rng.integers(0, len(frame) + 1, size=len(extra)) - 0.5]
    return combined.iloc[np.argsort(positions, kind="stable")].reset_index(drop=True)


def _add_bad_rows(n: int, customers: pd.DataFrame, products: pd.DataFrame, invoices: pd.DataFrame,
                  feedback: Optional[pd.DataFrame], price_column: str, rng: np.random.Generator) -> tuple:
    good_customer, good_product = customers["customer_id"].iat[1], products["product_id"].iat[0]
    date = invoices["invoice_date"].iat[len(invoices) // 2]
    counts: Dict[str, Dict[str, int]] = {}

    customer_rows = [{"customer_id": "CBADMISS%d" % i, "region": "", "end_use": "Plumbing"} for i in range(n)]
    customer_rows += [{"customer_id": customers["customer_id"].iat[i], "region": "Elsewhere", "end_use": "Other"}
                      for i in range(n)]
    counts["customers"] = {"missing_field": n, "duplicate_customer_id": n}
    customers = _insert(customers, customer_rows, rng, at_end=True)

    base = products.iloc[0].to_dict()
    product_rows = [dict(base, product_id="PBADMISS%d" % i, brand="N/A") for i in range(n)]
    product_rows += [dict(base, product_id="PBADSTOCK%d" % i, in_stock="maybe") for i in range(n)]
    counts["products"] = {"missing_field": n, "invalid_in_stock": n, "duplicate_product_id": n}
    if price_column != "none":
        product_rows += [dict(base, product_id="PBADPRICE%d" % i, **{price_column: ["abc", "-5"][i % 2]})
                         for i in range(n)]
        counts["products"]["invalid_price"] = n
    product_rows += [dict(base, product_id=products["product_id"].iat[i + 1], brand="Duplicate") for i in range(n)]
    products = _insert(products, product_rows, rng, at_end=True)

    good = {"invoice_date": date, "customer_id": good_customer, "product_id": good_product, "quantity": "3"}
    kinds = {
        "missing_field": lambda i: dict(good, quantity=["", "NA"][i % 2]),
        "unparseable_date": lambda i: dict(good, invoice_date=["not-a-date", "2025-13-45"][i % 2]),
        "non_numeric_quantity": lambda i: dict(good, quantity=["x", "inf"][i % 2]),
        "non_positive_quantity": lambda i: dict(good, quantity=["0", "-2"][i % 2]),
        "unknown_customer": lambda i: dict(good, customer_id="CUNKNOWN%d" % i),
        "unknown_product": lambda i: dict(good, product_id="PBADMISS%d" % i),
    }
    invoices = _insert(invoices, [make(i) for make in kinds.values() for i in range(n)], rng, at_end=False)
    counts["invoices"] = {kind: n for kind in kinds}

    if feedback is not None:
        good = {"customer_id": good_customer, "product_id": good_product, "rating": "Low",
                "reason_code": "not_relevant", "sentiment": "", "feedback_date": date}
        kinds = {
            "missing_field": lambda i: dict(good, rating=""),
            "unparseable_date": lambda i: dict(good, feedback_date="someday"),
            "invalid_rating": lambda i: dict(good, rating="Great"),
            "missing_reason_code": lambda i: dict(good, rating=["Medium", "Low"][i % 2], reason_code=""),
            "unknown_customer": lambda i: dict(good, customer_id="CUNKNOWN%d" % i),
            "unknown_product": lambda i: dict(good, product_id="PUNKNOWN%d" % i),
        }
        feedback = _insert(feedback, [make(i) for make in kinds.values() for i in range(n)], rng, at_end=False)
        counts["feedback"] = {kind: n for kind in kinds}
    return customers, products, invoices, feedback, counts


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, required=True, help="invoice rows (order lines) to aim at")
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--end-uses", type=int, default=3)
    parser.add_argument("--price-column", default="unit_price", choices=PRICE_COLUMNS)
    parser.add_argument("--bad-rows", type=int, default=0, help="rows per bad-row rule added to each input")
    parser.add_argument("--feedback-rows", type=int, default=0)
    args = parser.parse_args(argv)
    data = generate(args.invoices, args.customers, args.products, args.seed, args.regions, args.end_uses,
                    args.price_column, args.bad_rows, args.feedback_rows)
    data.write(args.out)
    print("wrote %d invoice rows, %d customers, %d products%s to %s"
          % (len(data.invoices), len(data.customers), len(data.products),
             "" if data.feedback is None else ", %d feedback rows" % len(data.feedback), args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
