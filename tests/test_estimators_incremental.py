"""The estimators' partial_fit (one epoch a call, going on with the run's weights, optimizer,
schedule and shuffles), verbose (a line per epoch to the 'nettrain.estimators' logger), and
MLPClassifier's best_loss_, validation_scores_ and best_validation_score_. Without
scikit-learn, but for the last test."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest

from nettrain import ConfigError, NettrainClassifier, NettrainRegressor
from nettrain.estimators import NettrainWarning
from tests.conftest import DATA
from tests.helpers import table

FAST = {"hidden_layers": (16,), "batch_size": 16, "device": "cpu"}
ADAM = {**FAST, "optimizer": "adam", "learning_rate": 0.01, "dropout": 0.1}


@pytest.fixture(scope="module")
def digits():
    X, y = table("digits_train.csv")
    return X[:300] / 16, y[:300].astype(int)


@pytest.fixture(scope="module")
def regression():
    X, y = table("regression_train.csv")
    return X[:200], y[:200]


def same(a, b) -> bool:
    """Two fitted estimators hold the same weights, bit for bit."""
    return all(np.array_equal(x, y) for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_))


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():  # (a few epochs: 'loss above a constant prediction')
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# -- partial_fit: the same run as fit -------------------------------------------------------------------


def test_k_partial_fits_are_fit_with_k_epochs(digits):
    """Each call is the next epoch of one run: its shuffle, Adam's moments and step count and
    the dropout masks go on, so three calls on the same rows are fit(epochs=3), bit for bit."""
    X, y = digits
    fitted = quiet(NettrainClassifier(**ADAM, epochs=3).fit, X, y)
    clf = NettrainClassifier(**ADAM)
    for k in range(1, 4):
        assert quiet(clf.partial_fit, X, y, classes=np.arange(10)) is clf
        assert clf.n_iter_ == k and len(clf.loss_curve_) == k
    assert clf.loss_curve_ == fitted.loss_curve_
    assert [r["loss"] for r in clf.history_] == [r["loss"] for r in fitted.history_]
    assert same(clf, fitted)
    assert np.array_equal(clf.predict_proba(X), fitted.predict_proba(X))


def test_a_regressors_partial_fits_are_fit_with_k_epochs(regression):
    X, y = regression
    params = {**FAST, "optimizer": {"name": "momentum", "momentum": 0.9}, "learning_rate": 0.001}
    fitted = quiet(NettrainRegressor(**params, epochs=2).fit, X, y)
    reg = NettrainRegressor(**params)
    quiet(reg.partial_fit, X, y)
    quiet(reg.partial_fit, X, y)
    assert reg.n_outputs_ == 1 and reg.predict(X[:3]).shape == (3,)
    assert reg.loss_curve_ == fitted.loss_curve_ and same(reg, fitted)


def test_partial_fit_after_fit_is_the_next_epoch_of_its_run(digits):
    X, y = digits
    clf = quiet(NettrainClassifier(**ADAM, epochs=2).fit, X, y)
    quiet(clf.partial_fit, X, y)  # (classes: fit's)
    longer = quiet(NettrainClassifier(**ADAM, epochs=3).fit, X, y)
    assert clf.n_iter_ == 3 and clf.loss_curve_ == longer.loss_curve_ and same(clf, longer)


def test_the_optimizers_state_goes_on_unlike_a_warm_start(digits):
    """Momentum carried over: two partial_fit calls are fit(epochs=2), and differ from a fit of
    one epoch and a warm_start fit of one more (a fresh optimizer: velocity zero). On full
    batches the shuffle does not matter, so the optimizer's state is the difference."""
    X, y = digits
    params = {**FAST, "batch_size": len(X), "optimizer": {"name": "momentum", "momentum": 0.9}}
    params["learning_rate"] = 0.5
    inc = NettrainClassifier(**params)
    quiet(inc.partial_fit, X, y, classes=np.arange(10))
    quiet(inc.partial_fit, X, y)
    two = quiet(NettrainClassifier(**params, epochs=2).fit, X, y)
    warm = quiet(NettrainClassifier(**params, epochs=1, warm_start=True).fit, X, y)
    quiet(warm.fit, X, y)
    assert same(inc, two)
    gap = max(np.abs(a - b).max() for a, b in zip(inc.coefs_, warm.coefs_))
    assert gap > 1e-3  # (0.9 times the first step's velocity, not float rounding)


def test_the_shuffles_go_on_per_call_and_repeat_from_random_state(digits):
    """Plain SGD (no optimizer state) on batches of 16: the only thing a fresh start of the
    second epoch changes is its shuffle. partial_fit draws the run's next permutation (so it
    differs from a warm start, which draws the seed's first again); the same random_state gives
    the same calls, another one others."""
    X, y = digits
    params = {**FAST, "learning_rate": 0.1}

    def calls(seed):
        clf = NettrainClassifier(**params, random_state=seed)
        quiet(clf.partial_fit, X, y, classes=np.arange(10))
        quiet(clf.partial_fit, X, y)
        return clf

    warm = quiet(NettrainClassifier(**params, random_state=0, epochs=1, warm_start=True).fit, X, y)
    quiet(warm.fit, X, y)
    assert same(calls(0), calls(0))
    assert not same(calls(0), warm)
    assert not same(calls(0), calls(1))


def test_fit_starts_afresh_after_partial_fit(digits):
    X, y = digits
    clf = NettrainClassifier(**ADAM, epochs=2)
    quiet(clf.partial_fit, X, y, classes=np.arange(10))
    quiet(clf.partial_fit, X, y)
    quiet(clf.fit, X, y)
    fresh = quiet(NettrainClassifier(**ADAM, epochs=2).fit, X, y)
    assert clf.n_iter_ == 2 and clf.loss_curve_ == fresh.loss_curve_ and same(clf, fresh)


def test_a_fitted_estimator_holds_its_weights_once(digits):
    """The run kept for partial_fit shares model_'s weights (a fit that can be gone on from
    ends at the weights the model keeps), so a pickled fit with plain SGD, which has no
    optimizer state, is about the size of its weights, not twice it; and it still goes on."""
    import pickle

    X, y = digits
    clf = quiet(NettrainClassifier(hidden_layers=(256, 256), batch_size=64, device="cpu", epochs=1).fit, X, y)
    weights = sum(w.nbytes + v.nbytes for w, v in zip(clf.model_.network.W, clf.model_.network.b))
    blob = pickle.dumps(clf)
    assert len(blob) < 1.3 * weights
    again = pickle.loads(blob)
    quiet(again.partial_fit, X, y)
    quiet(clf.partial_fit, X, y)
    assert same(again, clf)
    fitted = quiet(
        NettrainClassifier(hidden_layers=(256, 256), batch_size=64, device="cpu", epochs=2).fit, X, y
    )
    assert same(clf, fitted)


def test_a_partial_fit_copies_only_its_own_epochs_record_into_the_run(regression):
    """The run kept for the next call holds the earlier calls' history records as they were,
    not new copies of them: a copy of every record at every call made 10,000 calls quadratic.
    The call's own record is a copy (the run does not share it with history_)."""
    X, y = regression
    reg = NettrainRegressor(**FAST)
    quiet(reg.partial_fit, X, y)
    quiet(reg.partial_fit, X, y)
    before = reg._run_state.state["history"]
    quiet(reg.partial_fit, X, y)
    after = reg._run_state.state["history"]
    assert len(before) == 2 and len(after) == 3
    assert all(a is b for a, b in zip(after, before))
    assert after[2] == reg.history_[2] and after[2] is not reg.history_[2]
    assert [r["loss"] for r in after] == reg.loss_curve_


# -- partial_fit: classes, shapes, refusals -------------------------------------------------------------


def test_classes_are_needed_on_the_first_call_and_later_batches_may_hold_a_subset(digits):
    X, y = digits
    clf = NettrainClassifier(**FAST)
    with pytest.raises(ValueError, match=r"classes must be passed on the first call to partial_fit\."):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "n_features_in_")
    some = y < 3  # a batch of classes 0, 1, 2 only: the network keeps its ten outputs
    quiet(clf.partial_fit, X[some], y[some], classes=np.arange(10))
    quiet(clf.partial_fit, X[~some], y[~some])
    assert list(clf.classes_) == list(range(10)) and clf.predict_proba(X[:2]).shape == (2, 10)
    with pytest.raises(ValueError, match=r"`classes=\[0, 1\]` is not the same as on last call"):
        clf.partial_fit(X, y, classes=[0, 1])


def test_a_label_outside_classes_is_refused_and_the_estimator_stays_as_it_was(digits):
    X, y = digits
    clf = NettrainClassifier(**FAST)
    quiet(clf.partial_fit, X, y, classes=np.arange(10))
    before = [w.copy() for w in clf.coefs_]
    with pytest.raises(ValueError, match=r"`y` has classes not in `self.classes_`.*'y' has \[ 0 .* 10\]"):
        clf.partial_fit(X, np.where(y == 9, 10, y))
    assert clf.n_iter_ == 1 and all(np.array_equal(a, b) for a, b in zip(before, clf.coefs_))
    quiet(clf.partial_fit, X, y)  # (the run goes on from where it was)
    assert clf.n_iter_ == 2


def test_string_labels_and_binary_cross_entropy(digits):
    X, y = digits
    labels = np.where(y < 5, "low", "high")
    clf = NettrainClassifier(**FAST, config={"cost": "binary_cross_entropy"})
    quiet(clf.partial_fit, X, labels, classes=["low", "high"])
    quiet(clf.partial_fit, X[y < 5], labels[y < 5])
    assert clf.model_.network.sizes[-1] == 1
    assert list(clf.classes_) == ["high", "low"] and set(clf.predict(X)) <= {"high", "low"}


def test_the_first_call_fixes_the_features_and_outputs(regression):
    X, y = regression
    reg = NettrainRegressor(**FAST)
    quiet(reg.partial_fit, X, y)
    expecting = rf"X has 3 features, but NettrainRegressor is expecting {X.shape[1]} features"
    with pytest.raises(ValueError, match=expecting):
        reg.partial_fit(X[:, :3], y)
    with pytest.raises(ValueError, match=r"y has 2 outputs, but the fitted model predicts 1"):
        reg.partial_fit(X, np.c_[y, y])
    assert reg.n_iter_ == 1


def test_a_diverged_call_leaves_the_fitted_estimator_as_it_was(regression):
    X, y = regression
    reg = NettrainRegressor(**FAST, learning_rate=0.01)
    quiet(reg.partial_fit, X, y)
    before = reg.predict(X[:5])
    with pytest.raises(ValueError, match=r"diverged|NaN or infinite"):
        quiet(reg.partial_fit, X * 1e6, y * 1e6)
    assert reg.n_iter_ == 1 and np.array_equal(reg.predict(X[:5]), before)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"early_stopping": {"monitor": "loss"}}, "partial_fit does no early stopping"),
        ({"validation": 0.2}, "partial_fit holds no rows out"),
        ({"schedule": "cosine"}, "anneals over epochs"),
        ({"config": {"training": {"class_weight": "balanced"}}}, "each batch's classes"),
    ],
)
def test_what_partial_fit_cannot_go_on_with_is_a_config_error(digits, params, says):
    X, y = digits
    clf = NettrainClassifier(**FAST, **params)
    with pytest.raises(ConfigError, match=says) as raised:
        clf.partial_fit(X, y, classes=np.arange(10))
    assert isinstance(raised.value, ValueError) and "NettrainClassifier: partial_fit: " in str(raised.value)
    assert not hasattr(clf, "classes_")  # (unfitted, as before the call)


def test_partial_fit_does_not_warn_that_it_resumes(digits):
    """Each call after the first resumes the run in memory: fit's 'resuming from ...' notice is
    not a warning there (nor the one-epoch run's 'loss above a constant')."""
    X, y = digits
    clf = NettrainClassifier(**FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            clf.partial_fit(X, y, classes=np.arange(10))
    assert clf.n_iter_ == 2
    assert [str(w.message) for w in caught] == []


def test_after_a_fit_that_kept_no_run_partial_fit_says_so(digits):
    X, y = digits
    clf = quiet(NettrainClassifier(**FAST, validation=0.2, epochs=1).fit, X, y)
    with pytest.raises(ConfigError, match="partial_fit holds no rows out"):
        clf.partial_fit(X, y)
    clf.set_params(validation=None)
    with pytest.raises(ConfigError, match="goes on with the run of the last fit, which kept none"):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 1


def test_a_parameter_changed_between_calls_is_refused(digits):
    X, y = digits
    clf = NettrainClassifier(**FAST)
    quiet(clf.partial_fit, X, y, classes=np.arange(10))
    clf.set_params(learning_rate=0.5)
    with pytest.raises(ConfigError, match=r"changed: training.learning_rate 0.01 -> 0.5\); set them back"):
        clf.partial_fit(X, y)
    clf.set_params(learning_rate=None, epochs=50)  # (epochs is not part of the run's identity)
    quiet(clf.partial_fit, X, y)
    assert clf.n_iter_ == 2


# -- verbose ---------------------------------------------------------------------------------------------


def test_verbose_logs_a_line_per_epoch_and_prints_nothing(digits, caplog, capsys):
    X, y = digits
    caplog.set_level(logging.INFO, logger="nettrain.estimators")
    clf = quiet(NettrainClassifier(**FAST, epochs=2, verbose=True).fit, X, y)
    quiet(clf.partial_fit, X, y)
    lines = [r.getMessage() for r in caplog.records if r.name == "nettrain.estimators"]
    assert lines == [
        f"NettrainClassifier: Iteration {k}, loss = {loss:.8f}" for k, loss in enumerate(clf.loss_curve_, 1)
    ]
    assert capsys.readouterr() == ("", "")


def test_verbose_with_validation_logs_its_score(digits, caplog):
    X, y = digits
    caplog.set_level(logging.INFO, logger="nettrain.estimators")
    clf = quiet(NettrainClassifier(**FAST, epochs=1, validation=0.2, verbose=1).fit, X, y)
    [line] = [r.getMessage() for r in caplog.records if r.name == "nettrain.estimators"]
    assert line.endswith(f"validation score = {clf.validation_scores_[0]:.6f}")


def test_verbose_off_logs_nothing(digits, caplog):
    X, y = digits
    caplog.set_level(logging.INFO, logger="nettrain.estimators")
    quiet(NettrainClassifier(**FAST, epochs=1).fit, X, y)
    quiet(NettrainClassifier(**FAST, epochs=1, verbose=False).fit, X, y)
    assert not [r for r in caplog.records if r.name == "nettrain.estimators"]


def test_verbose_where_logging_shows_nothing_is_a_warning(digits):
    X, y = digits
    logger = logging.getLogger("nettrain.estimators")
    assert not logger.isEnabledFor(logging.INFO)  # (Python's default: WARNING and above)
    with pytest.warns(NettrainWarning, match=r"logging.basicConfig\(level=logging.INFO\)"):
        NettrainClassifier(**FAST, epochs=1, verbose=True).fit(X, y)


def test_verbose_of_another_kind_is_a_config_error(digits):
    X, y = digits
    with pytest.raises(ConfigError, match=r"verbose='yes' is not True, False, None or an integer >= 0"):
        NettrainClassifier(**FAST, verbose="yes").fit(X, y)


def test_verbose_takes_numpy_bools_and_ints_as_scikit_learn_does(digits, caplog):
    """scikit-learn's verbose takes bool, numpy.bool_ and integers >= 0 (a GridSearchCV grid
    made with numpy gives numpy.bool_); a negative integer is an error, as there."""
    X, y = digits
    caplog.set_level(logging.INFO, logger="nettrain.estimators")
    quiet(NettrainClassifier(**FAST, epochs=1, verbose=np.False_).fit, X, y)
    assert not [r for r in caplog.records if r.name == "nettrain.estimators"]
    quiet(NettrainClassifier(**FAST, epochs=1, verbose=np.True_).fit, X, y)
    quiet(NettrainClassifier(**FAST, epochs=1, verbose=np.int64(2)).fit, X, y)
    assert len([r for r in caplog.records if r.name == "nettrain.estimators"]) == 2
    with pytest.raises(ConfigError, match=r"verbose=-1 is not True, False, None or an integer >= 0"):
        NettrainClassifier(**FAST, verbose=-1).fit(X, y)


# -- best_loss_, validation_scores_, best_validation_score_ -----------------------------------------------


def test_without_validation_best_loss_is_the_lowest_loss(digits):
    X, y = digits
    clf = quiet(NettrainClassifier(**FAST, epochs=3, learning_rate=0.1).fit, X, y)
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    inc = NettrainClassifier(**FAST, learning_rate=0.1)
    for _ in range(3):
        quiet(inc.partial_fit, X, y, classes=np.arange(10))
    assert inc.best_loss_ == min(inc.loss_curve_) == clf.best_loss_


def test_best_loss_is_the_lowest_loss_not_the_last(digits):
    X, y = digits
    clf = quiet(NettrainClassifier(**FAST, epochs=4, learning_rate=1.0).fit, X, y)  # (a step too far)
    assert min(clf.loss_curve_) < clf.loss_curve_[-1]  # (else the test shows nothing)
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_validation_scores_are_the_epochs_validation_accuracy(digits):
    X, y = digits
    clf = quiet(NettrainClassifier(**FAST, epochs=3, validation=0.2).fit, X, y)
    assert clf.validation_scores_ == [r["val_accuracy"] for r in clf.history_]
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ == min(clf.loss_curve_)  # (no early stopping: the training loss's)
    stopping = quiet(NettrainClassifier(**FAST, epochs=3, validation=0.2, early_stopping=True).fit, X, y)
    assert stopping.best_loss_ is None  # (MLPClassifier's, when early stopping watches validation)
    assert stopping.best_validation_score_ == max(stopping.validation_scores_)


def test_a_regressors_validation_scores_are_r2(regression):
    X, y = regression
    reg = quiet(NettrainRegressor(**FAST, epochs=2, validation=0.25).fit, X, y)
    assert reg.validation_scores_ == [r["val_r2"] for r in reg.history_]
    assert reg.best_validation_score_ == max(reg.validation_scores_)


def test_a_warm_starts_validation_scores_go_on(digits):
    X, y = digits
    clf = quiet(NettrainClassifier(**FAST, epochs=2, validation=0.2, warm_start=True).fit, X, y)
    first = list(clf.validation_scores_)
    quiet(clf.fit, X, y)
    assert clf.validation_scores_[:2] == first and len(clf.validation_scores_) == 4
    assert clf.best_validation_score_ == max(clf.validation_scores_)


# -- with scikit-learn -------------------------------------------------------------------------------------


def test_partial_fit_of_a_clone_in_a_pipeline_of_fixed_scaling(digits):
    """A Pipeline has no partial_fit; a scaler fitted once and a cloned estimator do."""
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.preprocessing import StandardScaler

    X, y = digits
    scaler = StandardScaler().fit(X)
    clf = clone(NettrainClassifier(**ADAM))
    for part in np.array_split(np.arange(len(X)), 3):
        quiet(clf.partial_fit, scaler.transform(X[part]), y[part], classes=np.arange(10))
    assert clf.n_iter_ == 3 and clf.score(scaler.transform(X), y) > 0.5


def test_the_readme_partial_fit_example_runs(tmp_path, monkeypatch, capsys):
    """README's partial_fit block, run where the repository's data/ is."""
    import re

    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("#### partial_fit: one epoch a call") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "data").symlink_to(DATA)
    monkeypatch.chdir(tmp_path)
    quiet(exec, code, {})
    calls, best = capsys.readouterr().out.split()
    assert calls == "4" and 0 < float(best) < 2.3  # (below a uniform guess's log(10))


# -- partial_fit's sample_weight ------------------------------------------------------------------------


def test_partial_fit_takes_sample_weight_in_mlpclassifiers_order(digits):
    """partial_fit(X, y, sample_weight, classes), as MLPClassifier.partial_fit: weights all 3
    are no weights (normalized over the call's rows), bit for bit, and the third positional
    argument is the weights, not the classes."""
    X, y = digits
    plain = NettrainClassifier(**ADAM)
    quiet(plain.partial_fit, X, y, classes=np.arange(10))
    equal = NettrainClassifier(**ADAM)
    quiet(equal.partial_fit, X, y, np.full(len(y), 3.0), np.arange(10))
    assert same(plain, equal)
    skewed = NettrainClassifier(**ADAM)
    quiet(skewed.partial_fit, X, y, np.where(y == 3, 10.0, 1.0), classes=np.arange(10))
    assert not same(plain, skewed)


def test_regressor_partial_fit_weights_each_call(regression):
    X, y = regression
    w = np.linspace(0.0, 2.0, len(y))
    a, b = NettrainRegressor(**FAST), NettrainRegressor(**FAST)
    for _ in range(2):
        quiet(a.partial_fit, X, y, sample_weight=w)
        quiet(b.partial_fit, X, y)
    assert not same(a, b)
    fitted = [c.copy() for c in a.coefs_]
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        a.partial_fit(X, y, sample_weight=-w)
    assert all(np.array_equal(c, d) for c, d in zip(fitted, a.coefs_))  # (the failed call learned nothing)
