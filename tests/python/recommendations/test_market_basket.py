"""MarketBasket and the input tables: every bad-row rule counted, the price under each alias, the reference date,
the filters and the per customer x product figures."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import pandas as pd
import pytest

import market_basket
import pipeline_io
from sample_data import b2b

CUSTOMERS = "customer_id,region,end_use\nC1,West,Plumbing\nC2,West,Plumbing\nC3,East,HVAC\n"
PRODUCTS = ("product_id,brand,l2_category,l3_category,functionality,in_stock,unit_price\n"
            "P1,B1,Valves,Ball valves,Flow,true,10\nP2,B2,Pipes,PVC,Flow,false,20\n"
            "P3,B1,Valves,Gate valves,Flow,yes,30\nP4,B3,Tools,Wrenches,Assembly,0,40\n")
INVOICES = ("invoice_date,customer_id,product_id,quantity\n"
            "2020-01-01,C1,P1,2\n2020-01-01,C1,P1,1\n2020-03-01,C1,P2,4\n2020-06-30,C1,P1,5\n"
            "2020-06-01,C2,P3,1\n2020-06-01,C2,P4,2\n2020-06-30,C3,P4,10\n2017-01-01,C3,P1,7\n")


def write_inputs(folder: Path, customers: str = CUSTOMERS, products: str = PRODUCTS, invoices: str = INVOICES
                 ) -> Dict[str, Path]:
    paths = {}
    for name, text in (("customers", customers), ("products", products), ("invoices", invoices)):
        (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / name / ("%s.csv" % name)).write_text(text, encoding="utf-8")
        paths[name] = folder / name
    return paths


def run_basket(tmp_path: Path, *extra: str, **texts: str) -> Dict[str, object]:
    paths = write_inputs(tmp_path / "in", **texts)
    args = market_basket.parse_args(["--customers", str(paths["customers"]), "--products", str(paths["products"]),
                                     "--invoices", str(paths["invoices"]), "--output-dir", str(tmp_path / "out"),
                                     "--failure-file", str(tmp_path / "failure"), *extra])
    report = market_basket.run(args)
    basket = pd.read_csv(tmp_path / "out" / "basket" / "market_basket.csv", dtype={"customer_id": str})
    return {"report": report, "basket": basket.set_index(["customer_id", "product_id"])}


def test_run_referenceDate_isLatestInvoiceNotTheClock(tmp_path):
    result = run_basket(tmp_path)
    assert result["report"]["reference_date"] == "2020-06-30"
    assert result["basket"].loc[("C1", "P2"), "recency_days"] == 121  # 2020-03-01 to 2020-06-30


def test_run_customerProductFigures(tmp_path):
    basket = run_basket(tmp_path)["basket"]
    c1p1 = basket.loc[("C1", "P1")]
    # Two rows on 2020-01-01 are one invoice (a customer's purchases on one day) with 3 units; 5 more on 2020-06-30.
    assert c1p1["purchase_frequency"] == 2
    assert c1p1["total_quantity"] == 8
    assert c1p1["total_spend"] == 80
    assert c1p1["recency_days"] == 0
    assert c1p1["median_order_quantity"] == 4  # median of 3 and 5
    assert c1p1["segment"] == "West_Plumbing"
    assert c1p1["l3_category"] == "Ball valves"


def test_run_inStock_isCarriedThrough(tmp_path):
    basket = run_basket(tmp_path)["basket"]
    assert basket.loc[("C1", "P1"), "in_stock"] == True  # noqa: E712 (a numpy bool)
    assert basket.loc[("C1", "P2"), "in_stock"] == False  # noqa: E712
    assert basket.loc[("C2", "P4"), "in_stock"] == False  # noqa: E712 ("0")


def test_run_rfmScores_areMinMaxNormalisedAtCustomerLevel(tmp_path):
    basket = run_basket(tmp_path)["basket"].reset_index().drop_duplicates("customer_id").set_index("customer_id")
    # Days since last purchase: C1 0, C2 29, C3 0; invoices: C1 3, C2 1, C3 1; spend: C1 160, C2 110, C3 400.
    assert basket["rfm_recency"].to_dict() == {"C1": 0, "C2": 29, "C3": 0}
    assert basket["rfm_recency_score"].to_dict() == {"C1": 1.0, "C2": 0.0, "C3": 1.0}
    assert basket["rfm_frequency_score"].to_dict() == {"C1": 1.0, "C2": 0.0, "C3": 0.0}
    np.testing.assert_allclose(basket.loc[["C1", "C2", "C3"], "rfm_monetary_score"], [50 / 290, 0.0, 1.0])


def test_run_recencyCutoff_dropsOlderInvoicesAndCountsThem(tmp_path):
    result = run_basket(tmp_path, "--recency-cutoff-days", "730")
    assert result["report"]["filters"]["invoice_rows_older_than_cutoff"] == 1  # C3's 2017 purchase
    assert ("C3", "P1") not in result["basket"].index
    assert ("C3", "P1") in run_basket(tmp_path / "long", "--recency-cutoff-days", "5000")["basket"].index


def test_run_minOrderCount_dropsCustomersWithFewerInvoices(tmp_path):
    result = run_basket(tmp_path, "--min-order-count", "2")
    assert sorted(result["basket"].index.get_level_values(0).unique()) == ["C1"]
    assert result["report"]["filters"]["customers_below_min_order_count"] == 2


def test_run_minOrderCountNobodyReaches_failsSayingWhy(tmp_path):
    with pytest.raises(pipeline_io.StepError) as error:
        run_basket(tmp_path, "--min-order-count", "4")
    assert str(error.value) == ("no customer has MinOrderCount=4 or more invoices in the RecencyCutoffDays=730 days "
                                "up to 2020-06-30 (the most any customer has is 3); lower MinOrderCount")


def test_price_bands_areTertilesWithinEachSegment():
    lines = pd.DataFrame({"segment": ["A"] * 6 + ["B"] * 3,
                          "product_id": ["p1", "p2", "p3", "p4", "p5", "p6", "p1", "p2", "p3"],
                          "price": [1, 2, 3, 4, 5, 6, 1, 2, 3]})
    bands = market_basket.price_bands(lines)
    # Segment A: tertiles at 2.67 and 4.33; segment B (local context, the same products) at 1.67 and 2.33.
    assert list(bands) == ["Low", "Low", "Mid", "Mid", "High", "High", "Low", "Mid", "High"]


@pytest.mark.parametrize("alias", ["unit_price", "price", "list_price", "unit_cost", "sale_price"])
def test_run_priceUnderAnyAlias_isFound(tmp_path, alias):
    # IPRE bug 2: products.csv had no unit_price column (KeyError); the price is looked up under every alias.
    result = run_basket(tmp_path, products=PRODUCTS.replace("unit_price", alias.upper()))
    assert result["report"]["price_column"] == alias.upper()
    assert result["basket"].loc[("C1", "P1"), "total_spend"] == 80
    assert result["basket"].loc[("C1", "P1"), "price_band"] in ("Low", "Mid", "High")


def test_run_noPriceColumn_spendEmptyMonetaryFromQuantity(tmp_path):
    products = "\n".join(line.rsplit(",", 1)[0] for line in PRODUCTS.strip().splitlines()) + "\n"
    result = run_basket(tmp_path, products=products)
    assert result["report"]["price_column"] is None
    assert result["report"]["monetary_basis"] == "total_quantity (no price column)"
    assert result["basket"]["total_spend"].isna().all()
    assert result["basket"].loc[("C3", "P4"), "rfm_monetary"] == 10


def test_run_twoPriceAliases_usesTheFirstInPriorityOrder(tmp_path):
    products = PRODUCTS.replace("unit_price\n", "sale_price,list_price\n").replace(",10\n", ",10,99\n") \
        .replace(",20\n", ",20,99\n").replace(",30\n", ",30,99\n").replace(",40\n", ",40,99\n")
    result = run_basket(tmp_path, products=products)
    assert result["report"]["price_column"] == "list_price"
    assert result["basket"].loc[("C1", "P1"), "total_spend"] == 8 * 99


def test_run_generatedBadRows_everyRuleCountedExactly(tmp_path):
    data = b2b.generate(invoices=1500, customers=120, products=60, seed=3, regions=2, end_uses=1, bad_rows=3)
    data.write(tmp_path / "in")
    args = market_basket.parse_args(["--customers", str(tmp_path / "in" / "customers"),
                                     "--products", str(tmp_path / "in" / "products"),
                                     "--invoices", str(tmp_path / "in" / "invoices"),
                                     "--output-dir", str(tmp_path / "out")])
    report = market_basket.run(args)
    for table in ("customers", "products", "invoices"):
        counted = {rule: n for rule, n in report["inputs"][table]["dropped_by_rule"].items() if n}
        assert counted == data.truth["bad_rows"][table], table
    invoices = report["inputs"]["invoices"]
    assert invoices["rows_kept"] == data.truth["good_invoice_rows"]
    assert report["filters"]["invoice_rows_older_than_cutoff"] == data.truth["invoice_rows_older_than_cutoff"]
    example = invoices["dropped_examples"]["unknown_customer"][0]
    line = (tmp_path / "in" / "invoices" / "invoices.csv").read_text().splitlines()[example["line"] - 1]
    assert example["value"] in line and example["file"] == "invoices.csv"
    saved = json.loads((tmp_path / "out" / "reference" / "basket_report.json").read_text())
    assert saved["inputs"]["invoices"]["dropped_by_rule"] == invoices["dropped_by_rule"]


@pytest.mark.parametrize("row,rule", [
    ("2020-06-30,C1,P1,", "missing_field"),
    ("NULL,C1,P1,1", "missing_field"),
    ("2020-02-30,C1,P1,1", "unparseable_date"),
    ("last week,C1,P1,1", "unparseable_date"),
    ("2020-06-30,C1,P1,three", "non_numeric_quantity"),
    ("2020-06-30,C1,P1,0", "non_positive_quantity"),
    ("2020-06-30,C1,P1,-1.5", "non_positive_quantity"),
    ("2020-06-30,C9,P1,1", "unknown_customer"),
    ("2020-06-30,C1,P9,1", "unknown_product"),
])
def test_load_invoices_badRow_countedUnderItsRule(tmp_path, row, rule):
    folder = tmp_path / "invoices"
    folder.mkdir()
    (folder / "invoices.csv").write_text("invoice_date,customer_id,product_id,quantity\n2020-06-30,C1,P1,1\n%s\n"
                                         % row)
    table = market_basket.load_invoices(folder, pd.Series(["C1"]), pd.Series(["P1"]))
    assert {r: n for r, n in table.report.dropped_by_rule.items() if n} == {rule: 1}
    assert table.report.examples[rule][0]["line"] == 3


def test_load_invoices_headerCaseAndSpacesAndZones(tmp_path):
    folder = tmp_path / "invoices"
    folder.mkdir()
    (folder / "invoices.csv").write_text(" Invoice Date ,Customer-ID,PRODUCT_ID,Quantity\n"
                                         "2020-06-30T23:30:00-02:00,C1,P1,1\n06/29/2020,C1,P1,2\n")
    table = market_basket.load_invoices(folder, pd.Series(["C1"]), pd.Series(["P1"]))
    # 23:30 at UTC-2 is 01:30 UTC the next day.
    assert [str(d.date()) for d in table.kept()["date"]] == ["2020-07-01", "2020-06-29"]


def test_read_table_missingRequiredColumn_failsNamingFileAndColumn(tmp_path):
    folder = tmp_path / "customers"
    folder.mkdir()
    (folder / "c.csv").write_text("customer_id,region\nC1,West\n")
    with pytest.raises(pipeline_io.StepError) as error:
        market_basket.load_customers(folder)
    assert str(error.value) == ("c.csv (customers input): header ['customer_id', 'region'] lacks required column(s) "
                                "end_use (names are case-insensitive)")


def test_run_noUsableInvoices_failureSaysWhy(tmp_path):
    invoices = "invoice_date,customer_id,product_id,quantity\nsoon,C1,P1,1\n2020-01-01,C7,P1,1\n"
    with pytest.raises(pipeline_io.StepError) as error:
        run_basket(tmp_path, invoices=invoices)
    assert str(error.value).startswith(
        "no usable rows in the invoices input (%s): invoices: rows read 2, kept 0, dropped 2 (unparseable_date=1, "
        "unknown_customer=1). Rules: missing_field: " % (tmp_path / "in" / "invoices"))


def test_load_products_badRows_countedOncePerRowUnderFirstRule(tmp_path):
    folder = tmp_path / "products"
    folder.mkdir()
    (folder / "p.csv").write_text("product_id,brand,l2_category,l3_category,functionality,in_stock,price\n"
                                  "P1,B,V,V1,F,true,1\nP2,,V,V1,F,maybe,x\nP3,B,V,V1,F,maybe,-1\n"
                                  "P4,B,V,V1,F,true,\nP1,B,V,V1,F,true,2\n")
    table = market_basket.load_products(folder)
    assert table.report.dropped_by_rule == {"missing_field": 1, "invalid_in_stock": 1, "invalid_price": 1,
                                            "duplicate_product_id": 1}
    assert table.kept()["product_id"].tolist() == ["P1"]


def test_segment_names_clash_fails():
    customers = pd.DataFrame({"region": ["A_B", "A"], "end_use": ["C", "B_C"]})
    with pytest.raises(pipeline_io.StepError) as error:
        market_basket.segment_names(customers)
    assert str(error.value).startswith("segments ['A_B_C'] come from different (region, end_use) pairs")


def test_chain_marketBasket_matchesGeneratedTruth(chain, small_data):
    truth = small_data["truth"]
    report = chain["basket_report"]
    assert report["reference_date"] == truth["reference_date"]
    assert report["filters"]["invoice_rows_older_than_cutoff"] == truth["invoice_rows_older_than_cutoff"]
    assert report["output"]["customers"] == truth["customers"]
    assert list(chain["basket"].columns) == market_basket.OUTPUT_COLUMNS
    outputs: List[str] = sorted(p.name for p in (chain["basket_out"] / "reference").iterdir())
    assert outputs == ["basket_report.json", "customers.csv", "products.csv"]
