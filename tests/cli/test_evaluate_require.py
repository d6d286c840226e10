"""`nettrain evaluate --require 'METRIC OP NUMBER'`: a score gate for CI (README, "evaluate").

The output (table or --json) is what it is without --require; each bound that does not hold adds
one `evaluate FAILED: ...` line on stderr and the exit code is 1; all holding is exit 0 with one
`evaluate passed: ...` line (not with -q). A malformed bound, or a score the model's evaluation
does not report, is one `Error:` line and exit 2, before the data is read. A score that is not a
number (ROC AUC of data holding one class) fails its bound.
"""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import DATA
from tests.helpers import assert_error, fitted, nettrain, run, write_rows

DIGITS_TEST = DATA / "digits_test.csv"
REGRESSION_TEST = DATA / "regression_test.csv"


@pytest.fixture(scope="module")
def digits(digits_run):
    return digits_run


@pytest.fixture(scope="module")
def regression(regression_run):
    return regression_run


@pytest.fixture(scope="module")
def xor(tmp_path_factory):
    return fitted(tmp_path_factory, "xor", 500)


def scores(model, data) -> dict:
    r = run("evaluate", model, data, "--json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def failed_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("evaluate FAILED")]


# -- pass and fail --------------------------------------------------------------------------------


def test_bounds_that_hold_exit_0_with_the_output_unchanged(digits):
    plain = run("evaluate", digits, DIGITS_TEST)
    accuracy = scores(digits, DIGITS_TEST)["accuracy"]
    r = run("evaluate", digits, DIGITS_TEST, "--require", "accuracy>=0.5", "--require", "log_loss <= 5")
    assert r.exit_code == 0, r.stderr
    assert r.stdout == plain.stdout
    assert r.stderr == f"evaluate passed: accuracy {accuracy:.4g} >= 0.5, log_loss {_log_loss(digits)} <= 5\n"
    quiet = run("evaluate", digits, DIGITS_TEST, "--require", "accuracy>=0.5", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == plain.stdout


def _log_loss(model) -> str:
    return f"{scores(model, DIGITS_TEST)['log_loss']:.4g}"


def test_a_bound_that_fails_exits_1_with_one_line_each(digits):
    report = scores(digits, DIGITS_TEST)
    plain = run("evaluate", digits, DIGITS_TEST)
    for quiet in ([], ["-q"]):  # (-q: the verdict stays, as gradcheck's FAILED line does)
        r = run(
            "evaluate", digits, DIGITS_TEST, *quiet,
            "--require", "accuracy>=0.999", "--require", "macro_f1>0", "--require", "log_loss<0.0001",
        )  # fmt: skip
        assert r.exit_code == 1, r.stderr
        assert r.stdout == plain.stdout  # the table, unchanged
        assert "Traceback" not in r.stderr and "Error" not in r.stderr
        assert r.stderr.splitlines() == [
            f"evaluate FAILED: accuracy {report['accuracy']:.4g}, required >= 0.999",
            f"evaluate FAILED: log_loss {report['log_loss']:.4g}, required < 0.0001",
        ]


def test_the_bound_itself_passes_and_strict_comparisons_do_not(xor):
    assert scores(xor, DATA / "xor.csv")["accuracy"] == 1.0
    assert run("evaluate", xor, DATA / "xor.csv", "--require", "accuracy>=1", "-q").exit_code == 0
    assert run("evaluate", xor, DATA / "xor.csv", "--require", "accuracy<=1", "-q").exit_code == 0
    r = run("evaluate", xor, DATA / "xor.csv", "--require", "accuracy>1")
    assert r.exit_code == 1 and failed_lines(r.stderr) == ["evaluate FAILED: accuracy 1, required > 1"]
    r = run("evaluate", xor, DATA / "xor.csv", "--require", "accuracy < 1.0")
    assert r.exit_code == 1 and failed_lines(r.stderr) == ["evaluate FAILED: accuracy 1, required < 1.0"]


def test_json_has_the_requirements_only_when_asked(digits):
    plain = run("evaluate", digits, DIGITS_TEST, "--json")
    report = json.loads(plain.stdout)
    assert "requirements" not in report  # the default object is as it was
    r = run(
        "evaluate", digits, DIGITS_TEST, "--json", "--require", "accuracy>=0.5", "--require", "macro_f1>=1"
    )
    assert r.exit_code == 1
    gated = json.loads(r.stdout)
    assert gated.pop("requirements") == [
        {
            "require": "accuracy>=0.5",
            "metric": "accuracy",
            "op": ">=",
            "threshold": 0.5,
            "value": report["accuracy"],
            "passed": True,
        },
        {
            "require": "macro_f1>=1",
            "metric": "macro_f1",
            "op": ">=",
            "threshold": 1.0,
            "value": report["macro_f1"],
            "passed": False,
        },
    ]
    assert gated == report  # every other key as without --require
    assert failed_lines(r.stderr) == [f"evaluate FAILED: macro_f1 {report['macro_f1']:.4g}, required >= 1"]


def test_regression_scores(regression):
    report = scores(regression, REGRESSION_TEST)
    r = run(
        "evaluate", regression, REGRESSION_TEST, "--json",
        "--require", "r2>=0.1", "--require", "mse<1e9", "--require", "rmse>=0", "--require", "mae<0.0001",
    )  # fmt: skip
    assert r.exit_code == 1
    results = json.loads(r.stdout)["requirements"]
    assert [(x["metric"], x["value"], x["passed"]) for x in results] == [
        ("r2", report["r2"], True),
        ("mse", report["mse"], True),
        ("rmse", report["rmse"], True),
        ("mae", report["mae"], False),
    ]
    assert failed_lines(r.stderr) == [f"evaluate FAILED: mae {report['mae']:.4g}, required < 0.0001"]


def test_a_score_that_is_not_a_number_fails(xor, tmp_path):
    """ROC AUC of data holding one class is undefined (null in JSON): its bound fails, whichever
    way it points, and says why."""
    one_class = write_rows(tmp_path / "zeros.csv", ["x1", "x2", "label"], [[0, 0, 0], [1, 1, 0]])
    for bound in ("roc_auc>=0.5", "roc_auc<=0.5"):
        r = run("evaluate", xor, one_class, "--json", "--require", bound, "--require", "accuracy>=0.5")
        assert r.exit_code == 1, r.stderr
        report = json.loads(r.stdout)
        assert report["roc_auc"] is None
        assert report["requirements"][0]["value"] is None and report["requirements"][0]["passed"] is False
        assert report["requirements"][1]["passed"] is True
        assert failed_lines(r.stderr) == [
            f"evaluate FAILED: roc_auc is not a number (the data holds one class only), "
            f"required {bound[7:9]} 0.5"
        ]
    # with both classes it is a number, and the bound is checked as any other
    assert run("evaluate", xor, DATA / "xor.csv", "--require", "roc_auc>=0.5", "-q").exit_code == 0


@pytest.mark.parametrize("op", [">=", "<=", ">", "<"])
def test_nan_never_meets_a_bound(op):
    from nettrain.metrics import Requirement

    r = Requirement.parse(f"r2{op}0")
    assert not r.holds(math.nan) and not r.holds(None)
    assert r.holds(1.0) != r.holds(-1.0)


def test_a_score_is_shown_with_the_digits_that_keep_it_on_its_side():
    """0.94996 against >= 0.95 is not shown as 0.95, which would read as passing."""
    from nettrain.cli import _score_shown
    from nettrain.metrics import Requirement

    bound = Requirement.parse("accuracy>=0.95")
    assert _score_shown(bound, 0.94996) == "accuracy 0.94996"
    below = math.nextafter(0.95, 0)  # the float just under 0.95: every digit it takes
    assert _score_shown(bound, below) == f"accuracy {below!r}" and float(repr(below)) < 0.95
    assert _score_shown(bound, 0.928888) == "accuracy 0.9289"
    assert _score_shown(Requirement.parse("mse<=0.3"), 0.30000001) == "mse 0.30000001"
    assert _score_shown(bound, math.nan) == "accuracy is not a number"


# -- refusals: one Error line, exit 2, before the data (or the model) is read ---------------------


@pytest.mark.parametrize(
    "expr, needles",
    [
        ("accuracy", ["no comparison", "in quotes", "redirections"]),  # `--require accuracy>=0.95` unquoted
        ("accuracy 0.95", ["no comparison"]),
        ("accuracy=0.95", ["'=' is not a comparison", ">=, <=, >, <"]),
        ("accuracy==0.95", ["'==' is not a comparison"]),
        ("accuracy!=0.95", ["'!=' is not a comparison"]),
        ("accuracy=>0.95", ["did you mean '>='?"]),
        ("accuracy>=", ["no number after '>='"]),
        ("accuracy>=high", ["'high' is not a number"]),
        ("accuracy>=95%", ["scores are fractions, write 0.95"]),
        ("accuracy>=nan", ["'nan' is not a finite number"]),
        ("accuracy>=inf", ["'inf' is not a finite number"]),
        ("log_loss<=-Infinity", ["not a finite number"]),
        ("accuracy>=1e999", ["'1e999' is not a finite number"]),
        ("accuracy>=1_0", ["'1_0' is not a number"]),
        (">=0.9", ["expected METRIC OP NUMBER"]),
        ("", ["expected METRIC OP NUMBER"]),
    ],
)
def test_malformed_bounds_are_refused_before_anything_is_read(tmp_path, expr, needles):
    r = run("evaluate", tmp_path / "no-model.npz", tmp_path / "no-data.csv", "--require", expr)
    line = assert_error(r, f"--require '{expr}'", *needles)
    assert "no-model" not in line and "no-data" not in line


@pytest.mark.parametrize(
    "model, expr, needles",
    [
        ("regression", "accuracy>=0.9", ["'accuracy' is a classification score", "mse, rmse, mae, r2"]),
        ("regression", "log_loss<=0.3", ["classification score", "this regression model"]),
        ("digits", "r2>=0.9", ["'r2' is a regression score", "accuracy, macro_f1, log_loss"]),
        ("digits", "roc_auc>=0.9", ["'roc_auc' is for two classes, and this model has 10"]),
        ("digits", "f1>=0.9", ["'f1' is not a score (did you mean 'macro_f1'?)"]),
        ("digits", "loss<=0.3", ["did you mean 'log_loss'?"]),
        ("digits", "Accuracy>=0.9", ["did you mean 'accuracy'?"]),
        ("regression", "R2>=0.9", ["did you mean 'r2'?"]),
        ("digits", "n>=100", ["'n' is not a score"]),
        (
            "xor",
            "r2>0",
            ["this classification model's evaluation has: accuracy, macro_f1, log_loss, roc_auc"],
        ),
    ],
)
def test_a_score_the_model_does_not_report_is_refused_before_the_data_is_read(
    request, tmp_path, model, expr, needles
):
    r = run("evaluate", request.getfixturevalue(model), tmp_path / "no-data.csv", "--require", expr)
    line = assert_error(r, f"--require '{expr}'", *needles)
    assert "no-data" not in line


def test_score_names_are_the_reports_keys():
    """What --require accepts is what evaluate --json reports (the numbers among its keys)."""
    import numpy as np

    from nettrain import metrics

    y = np.array([0, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]])
    for k, classes in ((2, ["a", "b"]), (3, ["a", "b", "c"])):
        p = np.hstack([proba, np.zeros((4, k - 2))])
        report = metrics.classification_report(y, p.argmax(axis=1), classes, p)
        numbers = [key for key, v in report.items() if isinstance(v, float)]
        assert sorted(numbers) == sorted(metrics.score_names("classification", k))
    report = metrics.regression_report(np.array([1.0, 2.0, 3.0]), np.array([1.1, 2.0, 2.5]))
    numbers = [key for key, v in report.items() if isinstance(v, float)]
    assert numbers == metrics.score_names("regression")


def test_the_exit_code_in_a_real_process(digits):
    """`evaluate ... --require ... && deploy` in a CI script: 1 stops it, 0 lets it through."""
    bad = nettrain("evaluate", digits, DIGITS_TEST, "--require", "accuracy>=1.01")
    assert bad.returncode == 1 and bad.stderr.startswith("evaluate FAILED: accuracy ")
    assert "450 rows, accuracy" in bad.stdout.splitlines()[0]  # (the table, on stdout)
    good = nettrain("evaluate", digits, DIGITS_TEST, "--require", "accuracy>=0", "-q", "--json")
    assert good.returncode == 0 and good.stderr == ""
    assert json.loads(good.stdout)["requirements"][0]["passed"] is True
