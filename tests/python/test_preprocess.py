"""Feature recipe, row validation and the deterministic split (segments.py + preprocess.py, in process)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import preprocess
import segments
from sample_data.customers import generate


def write(folder: Path, text: str, name: str = "customers.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def run_preprocess(tmp_path: Path, *extra: str) -> dict:
    args = preprocess.parse_args(["--input-dir", str(tmp_path / "in"), "--output-dir", str(tmp_path / "out"),
                                  "--failure-file", str(tmp_path / "failure"), *extra])
    return preprocess.run(args)


def test_parse_features_mixedCase_returnsCanonicalNamesInOrder():
    assert segments.parse_features(" spendingpower, AGE ") == ["SpendingPower", "Age"]


def test_parse_features_unknownName_errorListsValidNames():
    with pytest.raises(segments.DataError) as error:
        segments.parse_features("Age,Gender")
    assert str(error.value) == ("unknown feature(s) 'Gender' in --features 'Age,Gender'; "
                                "valid features: Age, Income, Purchases, SpendingPower")


def test_parse_features_duplicate_errorNamesIt():
    with pytest.raises(segments.DataError) as error:
        segments.parse_features("Age,age")
    assert str(error.value) == "feature(s) Age listed more than once in --features 'Age,age'"


def test_parse_features_empty_errorListsValidNames():
    with pytest.raises(segments.DataError) as error:
        segments.parse_features(" , ")
    assert str(error.value) == "--features is empty; valid features: Age, Income, Purchases, SpendingPower"


def test_load_customers_spendingPower_isIncomeOverPurchases(tmp_path):
    folder = write(tmp_path, "Age,Gender,Income,Purchases\n30,Male,60000,12\n50,Female,1000,4\n")
    data = segments.load_customers(folder, ["Age", "SpendingPower"])
    matrix = segments.compute_features(data.frame, ["Age", "SpendingPower"])
    np.testing.assert_allclose(matrix, [[30, 5000], [50, 250]])


def test_load_customers_headerCaseAndSpacesAndIdAlias_areRecognised(tmp_path):
    folder = write(tmp_path, " customer_id , AGE,gender , InCoMe,PURCHASES \nA1, 30 ,M, 60000 ,12\nA2,40,F,7000,3\n")
    data = segments.load_customers(folder, ["Age", "Income", "Purchases"])
    assert data.has_ids
    assert list(data.frame.columns) == ["CustomerID", "Age", "Income", "Purchases"]
    assert data.frame["CustomerID"].tolist() == ["A1", "A2"]
    assert data.frame["Age"].tolist() == [30.0, 40.0]


def test_load_customers_utf8ByteOrderMark_headerStillRecognised(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "customers.csv").write_bytes("\ufeffAge,Income,Purchases\n30,1,2\n".encode("utf-8"))
    assert segments.load_customers(folder, ["Age"]).frame["Age"].tolist() == [30.0]


def test_load_customers_noIdColumn_hasIdsFalse(tmp_path):
    data = segments.load_customers(write(tmp_path, "Age,Income,Purchases\n30,1,2\n"), ["Age"])
    assert not data.has_ids
    assert list(data.frame.columns) == ["Age"]


def test_load_customers_missingNeededColumn_errorNamesFileAndColumn(tmp_path):
    folder = write(tmp_path, "Age,Gender,Income\n30,M,1\n")
    with pytest.raises(segments.DataError) as error:
        segments.load_customers(folder, ["Age", "SpendingPower"])
    assert str(error.value) == ("customers.csv: header ['Age', 'Gender', 'Income'] lacks column(s) Purchases needed "
                                "by the features (names are case-insensitive)")


def test_load_customers_twoColumnsForOneName_errorNamesIt(tmp_path):
    folder = write(tmp_path, "Age,age,Income,Purchases\n1,2,3,4\n")
    with pytest.raises(segments.DataError) as error:
        segments.load_customers(folder, ["Age"])
    assert "customers.csv: more than one column maps to Age" in str(error.value)


def test_load_customers_columnNotNeeded_isNotValidated(tmp_path):
    folder = write(tmp_path, "Age,Income,Purchases\n30,5000,\n40,6000,abc\n")
    data = segments.load_customers(folder, ["Age", "Income"])
    assert data.report.rows_dropped == 0
    assert len(data.frame) == 2


BAD_ROWS = {
    "missing_value": ["30,M,,5", "30,M,NA,5", " ,M,100,5", "30,M,100,null"],
    "non_numeric": ["abc,M,100,5", "30,M,1e,5", "30,M,inf,5"],
    "age_out_of_range": ["-1,M,100,5", "121,F,100,5"],
    "negative_income": ["30,M,-0.01,5"],
    "negative_purchases": ["30,M,100,-1"],
    "zero_purchases": ["30,M,100,0", "31,M,100,0.0"],
}
GOOD_ROWS = ["0,M,0,1", "120,F,100,5", "45,F,52000.5,7"]


def bad_rows_csv() -> str:
    lines = [row for rows in BAD_ROWS.values() for row in rows]
    return "Age,Gender,Income,Purchases\n" + "\n".join(GOOD_ROWS + lines) + "\n"


def test_load_customers_eachRuleWithSpendingPower_countsExactly(tmp_path):
    data = segments.load_customers(write(tmp_path, bad_rows_csv()), ["Age", "Income", "SpendingPower"])
    assert data.report.dropped_by_rule == {rule: len(rows) for rule, rows in BAD_ROWS.items()}
    assert data.report.rows_read == len(GOOD_ROWS) + sum(len(rows) for rows in BAD_ROWS.values())
    assert len(data.frame) == len(GOOD_ROWS)


def test_load_customers_zeroPurchasesWithoutSpendingPower_isKept(tmp_path):
    data = segments.load_customers(write(tmp_path, bad_rows_csv()), ["Age", "Income", "Purchases"])
    assert data.report.dropped_by_rule["zero_purchases"] == 0
    assert len(data.frame) == len(GOOD_ROWS) + len(BAD_ROWS["zero_purchases"])


def test_load_customers_examples_nameFileLineColumnValue(tmp_path):
    data = segments.load_customers(write(tmp_path, "Age,Income,Purchases\n30,1,2\n30,-5,2\n"), ["Age", "Income"])
    assert data.report.examples["negative_income"] == [
        {"file": "customers.csv", "line": 3, "column": "Income", "value": "-5"}]


def test_load_customers_sampleDataBadRows_countMatchesGenerator(tmp_path):
    write(tmp_path / "in", generate(rows=300, seed=5, segments=3, bad_rows=4).frame.to_csv(index=False))
    data = segments.load_customers(tmp_path / "in", ["Age", "Income", "Purchases", "SpendingPower"])
    assert data.report.dropped_by_rule == {rule: 4 for rule in segments.RULES}
    assert len(data.frame) == 300


def test_load_customers_severalFiles_readsAllInNameOrder(tmp_path):
    write(tmp_path, "Age,Income,Purchases\n30,1,2\n", "b.csv")
    write(tmp_path, "AGE,INCOME,PURCHASES,id\n40,1,2,x\n", "a.csv")
    data = segments.load_customers(tmp_path, ["Age"])
    assert data.frame["Age"].tolist() == [40.0, 30.0]
    assert data.frame["CustomerID"].tolist() == ["x", ""]
    assert data.report.files == [{"file": "a.csv", "rows_read": 1}, {"file": "b.csv", "rows_read": 1}]


def test_load_customers_noUsableRows_errorSaysWhy(tmp_path):
    folder = write(tmp_path, "Age,Income,Purchases\n-4,1,2\nx,1,2\n")
    with pytest.raises(segments.DataError) as error:
        segments.load_customers(folder, ["Age"])
    assert str(error.value).startswith("no usable rows in %s: rows read 2, kept 0, dropped 2 "
                                       "(non_numeric=1, age_out_of_range=1). Rules: missing_value:" % folder)


def test_load_customers_noCsv_errorNamesFolder(tmp_path):
    with pytest.raises(segments.DataError) as error:
        segments.load_customers(tmp_path, ["Age"])
    assert str(error.value) == "no *.csv file found in %s" % tmp_path


def test_load_customers_headerOnly_noUsableRows(tmp_path):
    with pytest.raises(segments.DataError, match="no usable rows"):
        segments.load_customers(write(tmp_path, "Age,Income,Purchases\n"), ["Age"])


def test_load_customers_emptyFile_errorNamesExpectedHeader(tmp_path):
    with pytest.raises(segments.DataError) as error:
        segments.load_customers(write(tmp_path, ""), ["Age"])
    assert str(error.value) == "customers.csv is empty: expected a header like 'Age, Gender, Income, Purchases'"


def test_run_sameInput_writesIdenticalSplit(tmp_path):
    write(tmp_path / "in", generate(rows=500, seed=1, segments=3).frame.to_csv(index=False))
    run_preprocess(tmp_path)
    first = (tmp_path / "out" / "validation" / "validation.csv").read_bytes()
    run_preprocess(tmp_path)
    assert (tmp_path / "out" / "validation" / "validation.csv").read_bytes() == first


def split_ids(tmp_path: Path, frame: pd.DataFrame, seed: int = 42) -> set:
    folder = tmp_path / ("run%d" % len(list(tmp_path.glob("run*"))))
    write(folder / "in", frame.to_csv(index=False))
    run_preprocess(folder, "--random-seed", str(seed))
    return set(pd.read_csv(folder / "out" / "validation" / "validation.csv")["CustomerID"])


def test_run_shuffledRows_sameCustomersInValidation(tmp_path):
    frame = generate(rows=1000, seed=2, segments=3).frame
    shuffled = frame.sample(frac=1.0, random_state=9)
    assert split_ids(tmp_path, frame) == split_ids(tmp_path, shuffled)


def test_split_fraction_keys_noIdShuffledRows_sameRowsInValidation(tmp_path):
    frame = generate(rows=500, seed=6, segments=3).frame.drop(columns=["CustomerID"])
    write(tmp_path / "a", frame.to_csv(index=False))
    write(tmp_path / "b", frame.iloc[::-1].to_csv(index=False))

    def validation_rows(folder: Path) -> set:
        data = segments.load_customers(folder, ["Age", "Income", "Purchases"])
        chosen = data.frame[segments.split_fraction_keys(data, 42) < 0.3]
        return set(map(tuple, chosen.to_numpy()))

    rows = validation_rows(tmp_path / "a")
    assert 100 < len(rows) < 200
    assert validation_rows(tmp_path / "b") == rows


def test_report_failure_writesOnlyWhereFolderExists(tmp_path, capsys):
    (tmp_path / "output").mkdir()
    segments.report_failure("x" * 2000, [tmp_path / "output" / "failure", tmp_path / "absent" / "failure"])
    assert (tmp_path / "output" / "failure").read_text() == "x" * 1024
    assert not (tmp_path / "absent").exists()
    assert capsys.readouterr().err == "ERROR: %s\n" % ("x" * 2000)


def test_run_newRowsAdded_existingCustomersKeepTheirSide(tmp_path):
    frame = generate(rows=1000, seed=2, segments=3).frame
    before = split_ids(tmp_path, frame.iloc[:600])
    after = split_ids(tmp_path, frame)
    assert before == after & set(frame["CustomerID"].iloc[:600])


def test_run_otherSeed_otherSplit(tmp_path):
    frame = generate(rows=1000, seed=2, segments=3).frame
    assert split_ids(tmp_path, frame, seed=1) != split_ids(tmp_path, frame, seed=2)


def test_run_validationFraction_isRespectedApproximately(tmp_path):
    write(tmp_path / "in", generate(rows=5000, seed=3, segments=3).frame.to_csv(index=False))
    profile = run_preprocess(tmp_path, "--validation-fraction", "0.2")
    assert profile["split"]["train_rows"] + profile["split"]["validation_rows"] == 5000
    assert 900 <= profile["split"]["validation_rows"] <= 1100


def test_run_profile_countsRulesAndStats(tmp_path):
    write(tmp_path / "in", bad_rows_csv())
    profile = run_preprocess(tmp_path, "--features", "Age,SpendingPower", "--validation-fraction", "0.5")
    written = json.loads((tmp_path / "out" / "profile" / "data_profile.json").read_text())
    assert written == profile
    assert (profile["rows_read"], profile["rows_kept"], profile["rows_dropped"]) == (16, 3, 13)
    assert profile["dropped_by_rule"] == {rule: len(rows) for rule, rows in BAD_ROWS.items()}
    assert profile["feature_stats"]["SpendingPower"]["max"] == pytest.approx(52000.5 / 7)
    assert profile["feature_stats"]["Age"]["min"] == 0.0
    assert profile["features"] == ["Age", "SpendingPower"]


def test_run_splitFilesHoldIdAndNeededInputs(tmp_path):
    write(tmp_path / "in", generate(rows=200, seed=4, segments=2).frame.to_csv(index=False))
    run_preprocess(tmp_path, "--features", "Age,SpendingPower")
    header = (tmp_path / "out" / "train" / "train.csv").read_text().splitlines()[0]
    assert header == "CustomerID,Age,Income,Purchases"


def test_run_validationFractionOutOfRange_errors(tmp_path):
    write(tmp_path / "in", "Age,Income,Purchases\n1,2,3\n")
    with pytest.raises(segments.DataError) as error:
        run_preprocess(tmp_path, "--validation-fraction", "1")
    assert str(error.value) == "--validation-fraction must be > 0 and < 1, got 1.0"


def test_run_tooFewRowsForSplit_errorNamesEmptySide(tmp_path):
    write(tmp_path / "in", "Age,Income,Purchases\n1,2,3\n")
    with pytest.raises(segments.DataError, match=r"left the (train|validation) set empty; provide more rows"):
        run_preprocess(tmp_path)
