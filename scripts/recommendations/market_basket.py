"""MarketBasket step (SageMaker Processing): validates customers, products and invoices and writes one row per
customer x product with frequency, quantity, spend, recency, customer RFM scores and the price band.

    market_basket.py --min-order-count 1 --recency-cutoff-days 730

Inputs (every *.csv under each folder): <processing>/input/customers (customer_id, region, end_use),
<processing>/input/products (product_id, brand, l2_category, l3_category, functionality, in_stock and optionally a
price under one of unit_price, price, list_price, unit_cost, sale_price), <processing>/input/invoices
(invoice_date, customer_id, product_id, quantity). <processing> is /opt/ml/processing in the container.

Outputs: <processing>/output/basket/market_basket.csv, <processing>/output/invoices/invoices.csv (the usable order
lines after the filters: customer_id, product_id, invoice_date, quantity, one row per customer, product and day),
<processing>/output/reference/ customers.csv, products.csv (the usable master rows) and basket_report.json (bad rows
by table and rule, filters, the reference date).

An invoice is a customer's purchases on one calendar day (the inputs carry no invoice number). The reference date is
the latest invoice date, never the clock, so a rerun on the same data gives the same result.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

import pipeline_io as io_
import pipeline_parameters as params

STEP = "MarketBasket"
# Looked up in this order; the first one a products file has is the price (IPRE bug 2: the column is not always
# called unit_price).
PRICE_ALIASES = ("unit_price", "price", "list_price", "unit_cost", "sale_price")
CUSTOMER_RULES = ("missing_field", "duplicate_customer_id")
PRODUCT_RULES = ("missing_field", "invalid_in_stock", "invalid_price", "duplicate_product_id")
INVOICE_RULES = ("missing_field", "unparseable_date", "non_numeric_quantity", "non_positive_quantity",
                 "unknown_customer", "unknown_product")
PRODUCT_COLUMNS = ["product_id", "brand", "l2_category", "l3_category", "functionality", "in_stock"]
OUTPUT_COLUMNS = ["customer_id", "segment", "product_id", "brand", "l2_category", "l3_category", "functionality",
                  "in_stock", "purchase_frequency", "total_quantity", "total_spend", "recency_days", "rfm_recency",
                  "rfm_frequency", "rfm_monetary", "rfm_recency_score", "rfm_frequency_score", "rfm_monetary_score",
                  "price_band", "median_order_quantity"]
PRICE_BANDS = ("Low", "Mid", "High")


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    root = io_.processing_root(Path(__file__))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    params.add_arguments(parser, STEP)
    parser.add_argument("--customers", type=Path, default=root / "input" / "customers")
    parser.add_argument("--products", type=Path, default=root / "input" / "products")
    parser.add_argument("--invoices", type=Path, default=root / "input" / "invoices")
    parser.add_argument("--output-dir", type=Path, default=root / "output",
                        help="basket/, invoices/ and reference/ are created under it")
    parser.add_argument("--failure-file", type=Path, action="append",
                        help="where the failure reason goes (repeatable); default <ml>/output/message and "
                             "<ml>/output/failure")
    args = parser.parse_args(argv)
    if args.failure_file is None:
        args.failure_file = io_.default_failure_files(root)
    return args


def first_occurrence_duplicates(table: io_.Table, column: str) -> np.ndarray:
    """Rows repeating the id of an earlier usable row."""
    duplicated = np.zeros(len(table.frame), dtype=bool)
    good = table.good
    duplicated[good] = table.frame.loc[good, column].duplicated().to_numpy()
    return duplicated


def load_customers(location: Path) -> io_.Table:
    table = io_.read_table(location, "customers", ["customer_id", "region", "end_use"], CUSTOMER_RULES)
    table.drop("duplicate_customer_id", first_occurrence_duplicates(table, "customer_id"), "customer_id")
    return table


def segment_names(customers: pd.DataFrame) -> pd.Series:
    """region_end_use; two different (region, end_use) pairs that would share a name fail the step."""
    names = customers["region"] + "_" + customers["end_use"]
    pairs = customers[["region", "end_use"]].assign(segment=names).drop_duplicates()
    clashing = pairs[pairs["segment"].duplicated(keep=False)]
    if len(clashing):
        raise io_.StepError("segments %s come from different (region, end_use) pairs %s; rename a region or end_use"
                            % (sorted(set(clashing["segment"])),
                               sorted(zip(clashing["region"], clashing["end_use"]))))
    return names


def load_products(location: Path) -> io_.Table:
    table = io_.read_table(location, "products", PRODUCT_COLUMNS, PRODUCT_RULES, alternatives={"price": PRICE_ALIASES})
    frame = table.frame
    in_stock = io_.parse_bool(frame["in_stock"])
    table.drop("invalid_in_stock", in_stock.isna().to_numpy(), "in_stock")
    frame["in_stock"] = in_stock.fillna(0.0).astype(bool)
    if "price" in table.report.columns:
        price = pd.to_numeric(frame["price"], errors="coerce").to_numpy(dtype=float)
        table.drop("invalid_price", ~np.isfinite(price) | (price < 0), "price")
        frame["price"] = price
    else:
        frame["price"] = np.nan
    table.drop("duplicate_product_id", first_occurrence_duplicates(table, "product_id"), "product_id")
    return table


def load_invoices(location: Path, customer_ids: pd.Series, product_ids: pd.Series) -> io_.Table:
    table = io_.read_table(location, "invoices", ["invoice_date", "customer_id", "product_id", "quantity"],
                           INVOICE_RULES)
    frame = table.frame
    frame["date"] = io_.parse_dates(frame["invoice_date"])
    table.drop("unparseable_date", frame["date"].isna().to_numpy(), "invoice_date")
    quantity = pd.to_numeric(frame["quantity"], errors="coerce").to_numpy(dtype=float)
    table.drop("non_numeric_quantity", ~np.isfinite(quantity), "quantity")
    table.drop("non_positive_quantity", quantity <= 0, "quantity")
    frame["quantity"] = quantity
    table.drop("unknown_customer", ~frame["customer_id"].isin(customer_ids).to_numpy(), "customer_id")
    table.drop("unknown_product", ~frame["product_id"].isin(product_ids).to_numpy(), "product_id")
    return table


def min_max(values: pd.Series) -> pd.Series:
    """(x - min) / (max - min); a constant column is 0, as scikit-learn's MinMaxScaler gives it."""
    low, high = values.min(), values.max()
    if high == low:
        return pd.Series(0.0, index=values.index)
    return (values - low) / (high - low)


def price_bands(lines: pd.DataFrame) -> pd.Series:
    """Low / Mid / High tertile of each (segment, product)'s price among the distinct products bought in that
    segment (local pricing context, not global): Low up to the first tertile, Mid up to the second, High above."""
    products = lines[["segment", "product_id", "price"]].drop_duplicates(["segment", "product_id"])
    grouped = products.groupby("segment")["price"]
    first = grouped.transform(lambda p: np.quantile(p.to_numpy(), 1.0 / 3.0))
    second = grouped.transform(lambda p: np.quantile(p.to_numpy(), 2.0 / 3.0))
    band = np.where(products["price"] <= first, "Low", np.where(products["price"] <= second, "Mid", "High"))
    keyed = pd.Series(band, index=pd.MultiIndex.from_frame(products[["segment", "product_id"]]))
    return keyed.reindex(pd.MultiIndex.from_frame(lines[["segment", "product_id"]])).to_numpy()


def build_basket(order_lines: pd.DataFrame, customers: pd.DataFrame, products: pd.DataFrame,
                 reference_date: pd.Timestamp, has_price: bool) -> pd.DataFrame:
    """One row per customer x product from order lines (one row per customer, product and day)."""
    order_lines = order_lines.assign(age=(reference_date - order_lines["date"]).dt.days)
    grouped = order_lines.groupby(["customer_id", "product_id"], sort=True)
    basket = pd.DataFrame({
        "purchase_frequency": grouped.size(),
        "total_quantity": grouped["quantity"].sum(),
        "recency_days": grouped["age"].min(),
        "median_order_quantity": grouped["quantity"].median(),
    }).reset_index()
    basket = basket.merge(customers[["customer_id", "segment"]], on="customer_id", how="left")
    basket = basket.merge(products[PRODUCT_COLUMNS + ["price"]], on="product_id", how="left")
    basket["total_spend"] = basket["total_quantity"] * basket["price"] if has_price else np.nan

    per_customer = order_lines.groupby("customer_id")
    rfm = pd.DataFrame({
        "rfm_recency": per_customer["age"].min(),
        "rfm_frequency": per_customer["date"].nunique(),
        "rfm_monetary": basket.groupby("customer_id")["total_spend" if has_price else "total_quantity"].sum(),
    })
    rfm["rfm_recency_score"] = min_max(-rfm["rfm_recency"])
    rfm["rfm_frequency_score"] = min_max(rfm["rfm_frequency"].astype(float))
    rfm["rfm_monetary_score"] = min_max(rfm["rfm_monetary"])
    basket = basket.merge(rfm, left_on="customer_id", right_index=True, how="left")
    basket["price_band"] = price_bands(basket) if has_price else ""
    return basket[OUTPUT_COLUMNS]


def run(args: argparse.Namespace) -> Dict[str, object]:
    values = params.from_arguments(args, STEP)
    min_orders, cutoff_days = values["MinOrderCount"], values["RecencyCutoffDays"]

    customer_table = load_customers(args.customers)
    customers = customer_table.kept(["customer_id", "region", "end_use"])
    customers["segment"] = segment_names(customers)
    product_table = load_products(args.products)
    products = product_table.kept(PRODUCT_COLUMNS + ["price"])
    has_price = "price" in product_table.report.columns
    invoice_table = load_invoices(args.invoices, customers["customer_id"], products["product_id"])
    invoices = invoice_table.kept(["customer_id", "product_id", "date", "quantity"])
    for table in (customer_table, product_table, invoice_table):
        io_.log("validation: %s" % table.report.summary())

    reference_date = invoices["date"].max()
    age = (reference_date - invoices["date"]).dt.days
    recent = invoices[age <= cutoff_days]
    order_lines = recent.groupby(["customer_id", "product_id", "date"], sort=False)["quantity"].sum().reset_index()
    orders = order_lines.groupby("customer_id")["date"].nunique()
    regular = orders.index[orders >= min_orders]
    if len(regular) == 0:
        raise io_.StepError("no customer has MinOrderCount=%d or more invoices in the RecencyCutoffDays=%d days up "
                            "to %s (the most any customer has is %d); lower MinOrderCount"
                            % (min_orders, cutoff_days, reference_date.date(), int(orders.max())))
    kept_lines = order_lines[order_lines["customer_id"].isin(regular)]
    basket = build_basket(kept_lines, customers, products, reference_date, has_price)

    out = args.output_dir
    io_.write_csv(out / "basket" / "market_basket.csv", basket)
    lines_out = kept_lines.sort_values(["customer_id", "date", "product_id"])
    io_.write_csv(out / "invoices" / "invoices.csv", pd.DataFrame({
        "customer_id": lines_out["customer_id"], "product_id": lines_out["product_id"],
        "invoice_date": lines_out["date"].dt.strftime("%Y-%m-%d"), "quantity": lines_out["quantity"]}))
    io_.write_csv(out / "reference" / "customers.csv", customers)
    io_.write_csv(out / "reference" / "products.csv", products)

    report = {
        "reference_date": reference_date.strftime("%Y-%m-%d"),
        "parameters": values,
        "price_column": product_table.report.columns.get("price"),
        "monetary_basis": "total_spend" if has_price else "total_quantity (no price column)",
        "inputs": {t.report.table: t.report.as_dict() for t in (customer_table, product_table, invoice_table)},
        "rules": {rule: io_.RULES[rule] for rule in dict.fromkeys(CUSTOMER_RULES + PRODUCT_RULES + INVOICE_RULES)},
        "filters": {
            "invoice_rows_older_than_cutoff": int((age > cutoff_days).sum()),
            "customers_below_min_order_count": int((orders < min_orders).sum()),
            "order_lines_of_customers_below_min_order_count": int(len(order_lines) - len(kept_lines)),
        },
        "output": {
            "rows": int(len(basket)),
            "customers": int(basket["customer_id"].nunique()),
            "products": int(basket["product_id"].nunique()),
            "segments": int(basket["segment"].nunique()),
            "order_lines": int(len(kept_lines)),
            "invoices": int(orders[orders >= min_orders].sum()),
        },
    }
    io_.write_json(out / "reference" / "basket_report.json", report)
    io_.log("reference date %s; %d invoice rows older than %d days dropped; %d customers below %d invoices dropped"
            % (report["reference_date"], report["filters"]["invoice_rows_older_than_cutoff"], cutoff_days,
               report["filters"]["customers_below_min_order_count"], min_orders))
    io_.log("market basket: %d rows, %d customers, %d products, %d segments"
            % tuple(report["output"][k] for k in ("rows", "customers", "products", "segments")))
    io_.metric(STEP, "BasketCustomers", report["output"]["customers"])
    io_.metric(STEP, "BadInputRows", sum(t.report.rows_dropped for t in (customer_table, product_table,
                                                                          invoice_table)))
    return report


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    return io_.run_step(STEP, lambda: run(args), args.failure_file)


if __name__ == "__main__":
    sys.exit(main())
