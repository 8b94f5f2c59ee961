"""The 32 pipeline parameters: names and defaults of the specification, validation naming the parameter, the value and
what is valid, and each step failing on a bad value of its own parameters."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import associations
import feedback_calibration
import market_basket
import pipeline_parameters as params
import ranking
import train_clustering

README = Path(__file__).resolve().parents[3] / "scripts" / "recommendations" / "README.md"

# The specification's section 5, in its order (the input URIs are placeholders there: s3://.../customer.csv).
SPEC_DEFAULTS = {
    "MinOrderCount": "1", "RecencyCutoffDays": "730",
    "MaxK": "8", "MinClusterCustomers": "6", "ElbowThreshold": "10.0",
    "FeatureGroups": "l2_qty,brand,functionality,rfm",
    "RandomState": "42", "NInit": "15",
    "WindowDays": "0", "MinLift": "1.2", "MinAbsFreq": "2", "MinFreqRatio": "0.03", "DecayLambda": "0.001",
    "MinSupport": "0.01", "MinConfidence": "0.05", "TopK": "5", "WConf": "0.45", "WSupp": "0.20", "WLift": "0.20",
    "WRecency": "0.15", "MaxLiftNormalise": "5.0", "L3TiebreakMargin": "0.02",
    "WeightHigh": "1.3", "WeightMedPos": "1.0", "WeightMedNeg": "0.4", "WeightLow": "0.1", "ScoreCutoff": "0.08",
    "FeedbackRecencyDays": "365",
}
SPEC_ORDER = ["InputCustomers", "InputProducts", "InputInvoices", "ModelApprovalStatus"] + list(SPEC_DEFAULTS)

# One invalid value per parameter: wrong type, out of range or not an allowed word.
BAD_VALUES = {
    "InputCustomers": "customers.csv", "InputProducts": "s3://Upper_Case/x", "InputInvoices": "",
    "ModelApprovalStatus": "approved", "MinOrderCount": "0", "RecencyCutoffDays": "2.5", "MaxK": "1",
    "MinClusterCustomers": "1", "ElbowThreshold": "100", "FeatureGroups": "l2_qty,price", "RandomState": "-1",
    "NInit": "0", "WindowDays": "-3", "MinLift": "abc", "MinAbsFreq": "0", "MinFreqRatio": "1.5",
    "DecayLambda": "-0.1", "MinSupport": "2", "MinConfidence": "-0.01", "TopK": "0", "WConf": "1.1", "WSupp": "nan",
    "WLift": "inf", "WRecency": "-1", "MaxLiftNormalise": "1", "L3TiebreakMargin": "1.5", "WeightHigh": "11",
    "WeightMedPos": "x", "WeightMedNeg": "-0.4", "WeightLow": "", "ScoreCutoff": "1.01", "FeedbackRecencyDays": "0",
}


def test_parameters_are_the_specifications_32_in_order_with_its_defaults():
    assert [p.name for p in params.PARAMETERS] == SPEC_ORDER
    assert len(params.PARAMETERS) == 32
    assert {p.name: p.default for p in params.PARAMETERS if p.name in SPEC_DEFAULTS} == SPEC_DEFAULTS
    assert params.BY_NAME["ModelApprovalStatus"].default == "Approved"


def test_validate_everyDefault_parsesToItsType():
    typed = params.validate({p.name: p.default for p in params.PARAMETERS if "<" not in p.default})
    assert typed["MaxK"] == 8 and isinstance(typed["MaxK"], int)
    assert typed["MinLift"] == 1.2 and isinstance(typed["MinLift"], float)
    assert typed["FeatureGroups"] == ["l2_qty", "brand", "functionality", "rfm"]


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_parse_value_badValue_messageNamesParameterValueAndWhatIsValid(name):
    parameter = params.BY_NAME[name]
    with pytest.raises(params.ParameterError) as error:
        params.parse_value(name, BAD_VALUES[name])
    label = name if parameter.group == "A" else "%s (%s)" % (name, parameter.option)
    assert str(error.value) == "%s = %r is invalid: expected %s" % (label, BAD_VALUES[name], parameter.valid)


def test_parse_value_minLiftText_exactMessage():
    with pytest.raises(params.ParameterError) as error:
        params.parse_value("MinLift", "abc")
    assert str(error.value) == "MinLift (--min-lift) = 'abc' is invalid: expected a number >= 0"


def test_parse_value_integerRenderedAsFloatText_isAccepted():
    # IPRE bug 7: parameters reach the jobs as text; a typed parameter joined into a string may render 8 as "8.0".
    assert params.parse_value("MaxK", "8.0") == 8
    assert params.parse_value("TopK", " 5 ") == 5
    with pytest.raises(params.ParameterError):
        params.parse_value("MaxK", "8.5")


def test_parse_value_featureGroups_caseInsensitiveInGivenOrder():
    assert params.parse_value("FeatureGroups", " RFM, l2_qty ") == ["rfm", "l2_qty"]


@pytest.mark.parametrize("text", ["", " , ", "rfm,rfm", "colour"])
def test_parse_value_featureGroups_emptyRepeatedOrUnknown_fails(text):
    with pytest.raises(params.ParameterError) as error:
        params.parse_value("FeatureGroups", text)
    assert "FeatureGroups (--feature-groups) = %r is invalid" % text in str(error.value)


def test_validate_allScoreWeightsZero_failsNamingThem():
    with pytest.raises(params.ParameterError) as error:
        params.validate({"WConf": "0", "WSupp": "0.0", "WLift": "0", "WRecency": "0"})
    assert str(error.value) == ("WConf='0', WSupp='0.0', WLift='0', WRecency='0' are all 0: at least one score "
                                "weight must be > 0")


def test_validate_severalProblems_reportsEveryOne():
    with pytest.raises(params.ParameterError) as error:
        params.validate({"TopK": "0", "MinLift": "-1", "Nope": "1"})
    message = str(error.value)
    assert "TopK (--top-k) = '0'" in message and "MinLift (--min-lift) = '-1'" in message
    assert "unknown parameter 'Nope'" in message


def test_options_areKebabCaseOfTheName():
    options = {p.name: p.option for p in params.PARAMETERS}
    assert options["WConf"] == "--w-conf"
    assert options["NInit"] == "--n-init"
    assert options["L3TiebreakMargin"] == "--l3-tiebreak-margin"
    assert options["MaxLiftNormalise"] == "--max-lift-normalise"


def test_everyScriptParameter_isConsumedByAStep():
    steps = {"MarketBasket", "TrainClustering", "Associations", "Ranking", "FeedbackCalibration"}
    for parameter in params.PARAMETERS:
        assert parameter.group == "A" or set(parameter.steps) <= steps, parameter.name


@pytest.mark.parametrize("module,step,option,value,expected", [
    (market_basket, "MarketBasket", "--recency-cutoff-days", "-5",
     "RecencyCutoffDays (--recency-cutoff-days) = '-5' is invalid: expected an integer >= 1"),
    (train_clustering, "TrainClustering", "--elbow-threshold", "0",
     "ElbowThreshold (--elbow-threshold) = '0' is invalid: expected a number > 0 and < 100 (percent)"),
    (associations, "Associations", "--decay-lambda", "fast",
     "DecayLambda (--decay-lambda) = 'fast' is invalid: expected a number >= 0"),
    (ranking, "Ranking", "--max-lift-normalise", "0.5",
     "MaxLiftNormalise (--max-lift-normalise) = '0.5' is invalid: expected a number > 1"),
    (feedback_calibration, "FeedbackCalibration", "--weight-low", "-1",
     "WeightLow (--weight-low) = '-1' is invalid: expected a number from 0 to 10"),
])
def test_step_main_badParameterOfItsGroup_exits2WithFailureNamingIt(tmp_path, capsys, module, step, option, value,
                                                                    expected):
    failure = tmp_path / "failure"
    extra = ["--model-dir", str(tmp_path / "model")] if module is train_clustering else []
    assert module.main([option, value, "--failure-file", str(failure), *extra]) == 2
    assert failure.read_text() == "%s failed: %s" % (step, expected)
    assert "ERROR: %s failed: %s" % (step, expected) in capsys.readouterr().err


def test_cli_checksNameValuePairs(capsys):
    assert params.main(["MinLift=1.5", "TopK=10"]) == 0
    assert "valid: MinLift=1.5, TopK=10" in capsys.readouterr().out
    assert params.main(["ModelApprovalStatus=Maybe"]) == 2
    assert capsys.readouterr().err.strip() == ("ERROR: ModelApprovalStatus = 'Maybe' is invalid: expected one of "
                                               "Approved, PendingManualApproval, Rejected")


def test_readme_holdsTheGeneratedParameterTable():
    text = README.read_text(encoding="utf-8")
    assert params.markdown() in text, "regenerate with: python3 scripts/recommendations/pipeline_parameters.py " \
                                      "--markdown"
    assert len(re.findall(r"^\| `[A-Za-z0-9]+` \|", text, re.MULTILINE)) >= 32
