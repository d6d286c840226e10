"""nettrain.estimators: NettrainClassifier and NettrainRegressor, scikit-learn's estimator interface
over nettrain's own fit. The first part runs without scikit-learn (a CI venv has none); the second
imports it (pytest.importorskip) for clone, Pipeline, cross_val_score, GridSearchCV and
check_estimator."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import yaml

from nettrain import ConfigError, DataError, NettrainClassifier, NettrainRegressor, load_model
from nettrain.estimators import (
    PARAMS,
    NettrainConvergenceWarning,
    NettrainNotFittedError,
    NettrainWarning,
)
from tests.conftest import DATA, ROOT
from tests.helpers import ok, run, table

FAST = {"hidden_layers": (16,), "optimizer": "adam", "learning_rate": 0.01, "epochs": 5, "device": "cpu"}


@pytest.fixture(scope="module")
def digits():
    X, y = table("digits_train.csv")
    X_test, y_test = table("digits_test.csv")
    return X / 16, y.astype(int), X_test / 16, y_test.astype(int)


@pytest.fixture(scope="module")
def regression():
    X, y = table("regression_train.csv")
    X_test, y_test = table("regression_test.csv")
    return X[:600], y[:600], X_test, y_test


# -- without scikit-learn -----------------------------------------------------------------------------


def test_the_classifier_fits_predicts_and_scores_the_digits(digits):
    X, y, X_test, y_test = digits
    clf = NettrainClassifier(**FAST).fit(X, y)
    assert clf.n_features_in_ == 64
    assert list(clf.classes_) == list(range(10))
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)
    pred = clf.predict(X_test)
    assert pred.dtype == y.dtype
    np.testing.assert_array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    accuracy = clf.score(X_test, y_test)
    assert accuracy == np.mean(pred == y_test)
    assert accuracy > 0.9  # the digits are easy: 5 epochs of adam learn them
    assert clf.n_iter_ == 5 == len(clf.history_) == len(clf.loss_curve_)
    assert clf.loss_curve_ == [record["loss"] for record in clf.history_]
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert not hasattr(clf, "validation_loss_curve_")
    # the fitted model_ is nettrain's Model, answering in y's labels
    np.testing.assert_array_equal(clf.model_.predict(X_test), pred)


def test_coefs_and_intercepts_are_mlpclassifiers_layout_of_the_weights(digits):
    """coefs_[l] is W(l) transposed (fan_in, fan_out), intercepts_[l] is b(l), as MLPClassifier
    lays them out: the forward pass written with them gives predict_proba."""
    X, y, X_test, _ = digits
    unfitted = NettrainClassifier(**FAST)
    assert not hasattr(unfitted, "coefs_") and not hasattr(unfitted, "intercepts_")
    clf = NettrainClassifier(**{**FAST, "hidden_layers": (16, 8)}).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(64, 16), (16, 8), (8, 10)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (8,), (10,)]
    a = X_test.astype(np.float64)
    for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1], strict=True):
        a = np.maximum(a @ W + b, 0)  # relu, the default activation
    z = a @ clf.coefs_[-1] + clf.intercepts_[-1]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(axis=1, keepdims=True), clf.predict_proba(X_test), atol=1e-5)


def test_string_and_bool_labels_come_back_as_given(digits):
    X, y, X_test, _ = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = NettrainClassifier(**FAST).fit(X, names[y])
    assert list(clf.classes_) == sorted(names)  # np.unique's order
    pred = clf.predict(X_test)
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    assert clf.score(X, names[y]) > 0.9
    # a column of probabilities per class, in classes_' order: 'eight' is the first column
    eights = clf.predict_proba(X[y == 8])
    assert eights.argmax(axis=1).tolist().count(0) > 0.8 * len(eights)

    binary = NettrainClassifier(**FAST).fit(X, y >= 5)
    assert binary.classes_.tolist() == [False, True]
    assert binary.predict(X_test).dtype == bool
    assert binary.predict_proba(X_test).shape == (len(X_test), 2)  # two softmax outputs
    assert binary.model_.network.sizes[-1] == 2
    assert binary.score(X, y >= 5) > 0.85


def test_probabilities_are_float64_whatever_the_network_computes_in(digits, regression):
    """predict_proba is float64, as scikit-learn's classifiers give for float64 X (and as the
    regressor's predict): a float32 network's values exactly, cast; rows sum to 1 to float32
    rounding."""
    X, y, X_test, _ = digits
    clf = NettrainClassifier(**FAST).fit(X, y)
    assert clf.model_.network.dtype == np.float32
    proba = clf.predict_proba(X_test)
    assert proba.dtype == np.float64 and clf.predict_log_proba(X_test).dtype == np.float64
    np.testing.assert_array_equal(proba, clf.model_.predict_proba(X_test).astype(np.float64))
    assert np.allclose(proba.sum(axis=1), 1)
    Xr, yr, _, _ = regression
    assert NettrainRegressor(**FAST).fit(Xr, yr).predict(Xr).dtype == np.float64


def test_binary_cross_entropy_from_the_config_is_one_sigmoid_output(digits):
    X, y, X_test, _ = digits
    clf = NettrainClassifier(**FAST, config={"cost": "binary_cross_entropy"}).fit(
        X, np.where(y >= 5, "hi", "lo")
    )
    assert clf.model_.network.sizes[-1] == 1
    proba = clf.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_array_equal(clf.predict(X_test), clf.classes_[(proba[:, 1] >= 0.5).astype(int)])
    with pytest.raises(ConfigError, match="binary_cross_entropy is one sigmoid output for two classes"):
        NettrainClassifier(**FAST, config={"cost": "binary_cross_entropy"}).fit(X, y)


def test_the_model_answers_in_y_labels_saved_and_class_weight_names_them(tmp_path, digits):
    """model_ is a nettrain Model whose classes are y's labels: `nettrain predict` of the saved
    file gives them, and training.class_weight in the config names classes by them."""
    from nettrain import save_model

    X, y, X_test, _ = digits
    names = np.array(list("abcdefghij"))
    clf = NettrainClassifier(**FAST, config={"training": {"class_weight": {"c": 4.0}}}).fit(X, names[y])
    assert clf.model_.network.class_weight == (1.0, 1.0, 4.0, *[1.0] * 7)
    save_model(tmp_path / "m.npz", clf.model_)
    np.savetxt(tmp_path / "x.csv", X_test[:20], delimiter=",")
    out = ok(run("predict", tmp_path / "m.npz", tmp_path / "x.csv")).stdout.split()
    assert out == ["prediction", *clf.predict(X_test[:20])]
    with pytest.raises(ConfigError, match="'z' is not a class of the training data"):
        NettrainClassifier(**FAST, config={"training": {"class_weight": {"z": 2}}}).fit(X, names[y])


def test_the_regressor_fits_one_and_several_targets(regression):
    X, y, X_test, y_test = regression
    reg = NettrainRegressor(**{**FAST, "epochs": 30}).fit(X, y)
    pred = reg.predict(X_test)
    assert pred.shape == (len(X_test),)
    r2 = 1 - ((y_test - pred) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum()
    assert reg.score(X_test, y_test) == pytest.approx(r2)
    assert r2 > 0.5
    Y = np.column_stack([y, -2 * y])
    two = NettrainRegressor(**FAST).fit(X, Y)
    assert two.n_outputs_ == 2 and two.predict(X_test).shape == (len(X_test), 2)


def test_a_column_vector_y_warns_and_is_raveled_as_mlp_does(regression, digits):
    """y of shape (n, 1) is one target per row: a warning (scikit-learn's DataConversionWarning,
    a UserWarning) and the model of y (n,), predicting (n,) as MLPRegressor and MLPClassifier."""
    X, y, X_test, _ = regression
    flat = NettrainRegressor(**FAST).fit(X, y)
    with pytest.warns(UserWarning, match="A column-vector y was passed") as caught:
        column = NettrainRegressor(**FAST).fit(X, y[:, None])
    assert caught[0].filename == __file__  # (the caller's line, as scikit-learn's)
    assert column.n_outputs_ == 1
    np.testing.assert_array_equal(column.predict(X_test), flat.predict(X_test))  # (n,)
    with pytest.warns(UserWarning, match="A column-vector y was passed"):
        column.partial_fit(X, y[:, None])
    with pytest.warns(UserWarning, match="A column-vector y was passed"):
        started = NettrainRegressor(**FAST).partial_fit(X, y[:, None])
    assert started.predict(X_test).shape == (len(X_test),)
    Xd, yd, Xd_test, _ = digits
    with pytest.warns(UserWarning, match="A column-vector y was passed"):
        clf = NettrainClassifier(**FAST).fit(Xd, yd[:, None])
    assert clf.predict(Xd_test).shape == (len(Xd_test),)


def test_scores_weigh_rows_by_sample_weight(digits, regression):
    X, y, X_test, y_test = digits
    clf = NettrainClassifier(**FAST).fit(X, y)
    right = clf.predict(X_test) == y_test
    weights = np.where(right, 1.0, 3.0)  # misses count three times
    assert clf.score(X_test, y_test, sample_weight=weights) == pytest.approx(
        right.sum() / (right.sum() + 3 * (~right).sum())
    )
    Xr, yr, _, _ = regression
    reg = NettrainRegressor(**FAST).fit(Xr, yr)
    assert reg.score(Xr, yr, sample_weight=np.ones(len(yr))) == pytest.approx(reg.score(Xr, yr))


def test_get_params_and_set_params_round_trip_every_parameter():
    clf = NettrainClassifier()
    assert sorted(clf.get_params()) == sorted(PARAMS)
    assert all(value is None for value in clf.get_params().values())
    values = {name: f"value-of-{name}" for name in PARAMS}
    assert clf.set_params(**values) is clf
    assert clf.get_params() == values
    again = NettrainClassifier(**clf.get_params())
    assert again.get_params(deep=False) == values
    assert repr(NettrainRegressor(epochs=3)) == "NettrainRegressor(epochs=3)"
    with pytest.raises(
        ConfigError, match="'hidden_layer_sizes' is not a parameter \\(did you mean 'hidden_layers'"
    ):
        clf.set_params(hidden_layer_sizes=(10,))
    with pytest.raises(ValueError, match="did you mean 'epochs'"):  # (scikit-learn's kind too)
        clf.set_params(epoch=3)
    with pytest.raises(TypeError):  # keyword arguments only
        NettrainClassifier((10,))


def test_the_constructor_refuses_an_unknown_name_with_nettrains_name_for_it():
    """MLPClassifier's names given to the constructor (the first thing a user of MLPClassifier
    types) name nettrain's parameter, as set_params does; Python's own TypeError named the
    private base class (_NettrainEstimator.__init__()) and nothing to use instead."""
    with pytest.raises(TypeError) as caught:
        NettrainClassifier(max_iter=50)
    message = str(caught.value)
    assert message.startswith(
        "NettrainClassifier() got an unexpected keyword argument 'max_iter' (did you mean 'epochs'?); "
        "its parameters are: activation, batch_size,"
    )
    with pytest.raises(
        TypeError, match="^NettrainRegressor\\(\\) .* 'hiden_layers' \\(did you mean 'hidden_layers'"
    ):
        NettrainRegressor(hiden_layers=(4,))
    with pytest.raises(TypeError, match="'momentum' \\(nettrain's: optimizer=\\{'name': 'momentum'"):
        NettrainClassifier(momentum=0.9)
    with pytest.raises(ConfigError, match="'tol' is not a parameter \\(nettrain's: early_stopping="):
        NettrainClassifier().set_params(tol=1e-4)
    with pytest.raises(
        TypeError, match="'class_weight' \\(nettrain's: config=\\{'training': \\{'class_weight'"
    ):
        NettrainClassifier(class_weight="balanced")  # (Keras's fit and LogisticRegression take it)
    import inspect  # (help() and scikit-learn's checks see the parameters only, not **unknown)

    assert list(inspect.signature(NettrainClassifier).parameters) == list(PARAMS)


def test_an_array_where_a_number_goes_is_the_config_error(digits):
    """An array given as learning_rate or batch_size (a grid's list passed whole) is nettrain's
    ConfigError naming the parameter, not NumPy's 'truth value of an array is ambiguous'."""
    X, y, _, _ = digits
    for param in ("learning_rate", "batch_size"):
        with pytest.raises(ConfigError, match=param):
            NettrainClassifier(**{**FAST, param: np.array([1, 2])}).fit(X[:50], y[:50])


def test_mlpclassifiers_values_under_nettrains_names_say_what_to_give():
    """learning_rate='adaptive' and batch_size='auto' are MLPClassifier's values for parameters
    that nettrain names alike with another meaning: the refusal says nettrain's way."""
    clf = NettrainClassifier(learning_rate="adaptive", batch_size="auto")
    with pytest.raises(ConfigError) as caught:
        clf.fit(np.eye(4), [0, 1, 0, 1])
    problems = caught.value.problems
    assert problems == [
        "NettrainClassifier: learning_rate (training.learning_rate): 'adaptive' is not a number; "
        "MLPClassifier's learning_rate='adaptive' is a schedule, nettrain's schedule='plateau' (the "
        "nearest); learning_rate= is the number (MLPClassifier's learning_rate_init)",
        "NettrainClassifier: batch_size (training.batch_size): 'auto' is not an integer; "
        "MLPClassifier's 'auto' is min(200, rows of X): give that number",
    ]
    with pytest.raises(ConfigError) as caught:  # (other values: the problem alone)
        NettrainRegressor(learning_rate="fast").fit(np.eye(4), [0.0, 1.0, 0.0, 1.0])
    assert caught.value.problems == [
        "NettrainRegressor: learning_rate (training.learning_rate): 'fast' is not a number"
    ]
    with pytest.raises(
        ConfigError,
        match="random_state \\(training.seed\\): RandomState.* is not an "
        "integer; nettrain takes an integer seed only, not a generator",
    ):
        NettrainClassifier(random_state=np.random.RandomState(0)).fit(np.eye(4), [0, 1, 0, 1])


def test_the_constructor_stores_parameters_unchanged_and_checks_nothing():
    layers, config = [8, 4], {"training": {"epochs": 2}}
    clf = NettrainClassifier(hidden_layers=layers, activation="no such thing", config=config)
    assert clf.hidden_layers is layers and clf.config is config and clf.activation == "no such thing"
    with pytest.raises(
        ConfigError, match="activation \\(network.activation\\): 'no such thing' is not known"
    ):
        clf.fit(np.eye(4), [0, 1, 0, 1])
    assert config == {"training": {"epochs": 2}}  # the base config is not changed by fit


def test_parameters_become_the_config_keys(digits):
    X, y, _, _ = digits
    clf = NettrainClassifier(
        hidden_layers=(12, 6),
        activation="tanh",
        optimizer="momentum",
        learning_rate=0.05,
        epochs=3,
        batch_size=64,
        weight_decay=1e-4,
        dropout=0.1,
        schedule="cosine",
        validation=0.2,
        init="glorot_normal",
        random_state=7,
        dtype="float64",
        device="cpu",
    ).fit(X, y)
    c = clf.config_
    assert c.network.layers == (64, 12, 6, 10)
    assert set(c.network.activation) == {"tanh"} and c.network.init == "glorot_normal"
    t = c.training
    assert (t.optimizer, t.learning_rate, t.epochs, t.batch_size) == ("momentum", 0.05, 3, 64)
    assert (t.weight_decay, set(t.dropout), t.schedule, t.seed) == (1e-4, {0.1}, "cosine", 7)
    assert (c.data.validation, c.dtype, c.device, c.cost) == (0.2, "float64", "cpu", "cross_entropy")
    assert clf.model_.network.dtype == np.float64
    assert len(clf.validation_loss_curve_) == 3
    # the defaults: MLPClassifier's one hidden layer of 100, the rest nettrain's
    for sizes in (7, np.array([7, 3]), [7]):  # one size, an array (a grid's values), a list
        layers = NettrainClassifier(hidden_layers=sizes, epochs=1).fit(X, y).config_.network.layers
        assert layers == (64, *np.atleast_1d(sizes), 10)
    default = NettrainClassifier(epochs=1).fit(X, y).config_
    assert default.network.layers == (64, 100, 10)
    assert (default.training.optimizer, default.training.learning_rate, default.training.seed) == (
        "sgd",
        0.01,
        0,
    )


def test_a_config_file_is_the_base_and_parameters_override_it(tmp_path, digits):
    X, y, _, _ = digits
    path = tmp_path / "base.yaml"
    path.write_text(
        "network: {layers: [auto, 20, auto], activation: sigmoid}\n"
        "training: {epochs: 2, optimizer: {name: momentum, momentum: 0.8}, clip_norm: 1.0}\n"
        "data: {train: no-such-file.csv}\n"  # (not read: the estimator's X and y are the data)
    )
    clf = NettrainClassifier(config=str(path), epochs=3).fit(X, y)
    c = clf.config_
    assert c.network.layers == (64, 20, 10) and set(c.network.activation) == {"sigmoid"}
    assert c.training.epochs == 3 and clf.n_iter_ == 3  # the parameter wins
    assert c.training.optimizer_params == {"momentum": 0.8} and c.training.clip_norm == 1.0
    path.write_text("training: {epochs: 2, optimiser: adam}\n")
    with pytest.raises(ConfigError, match="did you mean 'optimizer'"):
        NettrainClassifier(config=path).fit(X, y)
    with pytest.raises(ConfigError, match="not a config"):
        NettrainClassifier(config=3).fit(X, y)
    with pytest.raises(ValueError, match="not found"):  # (a ConfigError, raised as a ValueError too)
        NettrainClassifier(config=tmp_path / "missing.yaml").fit(X, y)
    with pytest.raises(ConfigError, match="cost: \\['mse'\\] is not"):
        NettrainClassifier(config={"cost": ["mse"]}).fit(X, y)
    with pytest.raises(ConfigError, match="'mse' is not a classification cost"):
        NettrainClassifier(config={"cost": "mse"}).fit(X, y)
    with pytest.raises(ConfigError, match="'cross_entropy' is not a regression cost"):
        NettrainRegressor(config={"cost": "cross_entropy"}).fit(X, y)


def test_config_errors_begin_as_the_estimators_other_errors(tmp_path, digits):
    """A config problem begins with the estimator's name, as its other errors do (it began
    '<NettrainClassifier>:', config_from_dict's form for a mapping); one from a config file with
    the file's name."""
    X, y, _, _ = digits
    cases = [
        (
            NettrainClassifier(learning_rate=-1.0),
            "NettrainClassifier: learning_rate (training.learning_rate): ",
        ),
        (NettrainClassifier(config={"training": {"epoch": 3}}), "NettrainClassifier: training.epoch: "),
        (NettrainClassifier(config={"cost": "mse"}), "NettrainClassifier: cost: 'mse' is not"),
        (NettrainRegressor(config={"cost": "cross_entropy"}), "NettrainRegressor: cost: 'cross_entropy'"),
        (NettrainClassifier(**FAST, config={"data": {"test": "t.csv"}}), "NettrainClassifier: data.test: "),
    ]
    path = tmp_path / "base.yaml"
    path.write_text("training: {epoch: 3}\n")
    cases.append((NettrainClassifier(config=path), f"{path}: training.epoch: "))
    for estimator, start in cases:
        with pytest.raises(ConfigError) as caught:
            estimator.fit(X, y if isinstance(estimator, NettrainClassifier) else y * 1.0)
        assert str(caught.value).startswith(start), str(caught.value)
        assert "<" not in str(caught.value)


def test_a_device_that_cannot_be_used_is_a_value_error_and_a_backend_error(monkeypatch, regression):
    """device='gpu' without CuPy (made so on any machine): scikit-learn's ValueError for a bad
    parameter at fit, and nettrain's BackendError, named as the estimators' other errors; the
    estimator is left unfitted, and a fitted one's partial_fit leaves it as it was."""
    from nettrain import BackendError, backend

    X, y, X_test, _ = regression
    monkeypatch.setattr(
        backend, "gpu_problem", lambda index=0: 'CuPy is not installed (pip install "nettrain[gpu]")'
    )
    reg = NettrainRegressor(**{**FAST, "device": "gpu"})
    for error in (ValueError, BackendError):
        with pytest.raises(
            error, match="^NettrainRegressor: device 'gpu' cannot be used: CuPy is not installed"
        ):
            reg.fit(X, y)
        assert not hasattr(reg, "model_")
    fitted = NettrainRegressor(**FAST).fit(X, y)
    before = fitted.predict(X_test)
    with pytest.raises(ValueError, match="device 'gpu' cannot be used"):
        fitted.set_params(device="gpu").partial_fit(X, y)
    np.testing.assert_array_equal(fitted.predict(X_test), before)


def test_a_config_naming_validation_or_test_files_is_refused_and_fractions_are_held_out(tmp_path, digits):
    """X and y are the data: a config's data.validation or data.test file would not be read, so
    it is a ConfigError naming the key and validation=; the fractions are held out of X."""
    X, y, _, _ = digits
    path = tmp_path / "base.yaml"
    path.write_text("data: {validation: val.csv, test: test.csv}\n")
    with pytest.raises(ConfigError) as caught:
        NettrainClassifier(**FAST, config=path).fit(X, y)
    problems = caught.value.problems
    assert len(problems) == 2 and isinstance(caught.value, ValueError)
    assert (
        "data.validation: '" in problems[0] and "val.csv' is a file, which NettrainClassifier" in problems[0]
    )
    assert "give validation= the fraction of X to hold out" in problems[0]
    assert "data.test: '" in problems[1] and "score(X_test, y_test)" in problems[1]
    reg = NettrainRegressor(**FAST, config={"data": {"validation": "v.npz"}})
    with pytest.raises(ConfigError, match="data.validation: .* is a file, which NettrainRegressor"):
        reg.fit(X, y * 1.0)
    assert not hasattr(reg, "model_")
    # the validation= parameter overrides the config's file; fractions of the config are held out
    only_test = {"data": {"test": str(tmp_path / "test.csv")}}
    with pytest.raises(ConfigError, match="data.test"):
        NettrainClassifier(**FAST, validation=0.2, config=only_test).fit(X, y)
    clf = NettrainClassifier(**FAST, validation=0.2, config={"data": {"validation": "v.csv", "test": 0.1}})
    clf.fit(X, y)
    training = clf.model_.meta["training"]
    n_test = round(0.1 * len(X))
    assert abs(training["n_train"] - (len(X) - n_test) * 0.8) < 10  # (stratified: per-class rounding)
    assert 0 < training["test_accuracy"] <= 1 and len(clf.validation_loss_curve_) == FAST["epochs"]


def test_early_stopping_without_validation_names_the_validation_parameter(digits):
    """early_stopping=True watches val_loss: without validation rows it is refused before
    training, in the estimator's terms (validation=, not data.validation); no fraction is held
    out on its own (MLPClassifier's validation_fraction); monitor 'loss' needs none."""
    X, y, _, _ = digits
    for params, key in (
        ({"early_stopping": True}, "early_stopping (training.early_stopping.monitor)"),
        ({"schedule": {"name": "plateau", "monitor": "val_loss"}}, "schedule (training.schedule.monitor)"),
    ):
        with pytest.raises(ConfigError) as caught:
            NettrainClassifier(**{**FAST, **params}).fit(X, y)
        message = str(caught.value)
        assert f"{key}: val_loss needs validation data: set validation= (the fraction" in message, message
        assert "data.validation" not in message and isinstance(caught.value, ValueError)
    with pytest.warns(_convergence_warning(), match="early stopping had not stopped"):  # (5 epochs)
        clf = NettrainClassifier(**{**FAST, "early_stopping": True, "validation": 0.1}).fit(X, y)
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    with pytest.warns(_convergence_warning(), match="early stopping had not stopped"):
        on_loss = NettrainClassifier(**{**FAST, "early_stopping": {"monitor": "loss"}}).fit(X, y)
    assert not hasattr(on_loss, "validation_loss_curve_")


def test_the_same_seed_is_the_same_training_as_nettrain_fit(tmp_path, digits):
    """The estimator trains with nettrain's fit: `nettrain fit` of the equivalent config, on a
    CSV of the same numbers (not standardized, as the estimator does not), gives the same model,
    and the same held-out validation rows."""
    X, y, X_test, _ = digits
    X = X * 16  # whole numbers: exactly the same in a CSV
    params = dict(hidden_layers=(12,), optimizer="adam", learning_rate=0.01, epochs=3, validation=0.2)
    clf = NettrainClassifier(**params, random_state=3, device="cpu").fit(X, y)
    header = ",".join([*(f"f{j}" for j in range(64)), "label"])
    np.savetxt(
        tmp_path / "train.csv", np.column_stack([X, y]), delimiter=",", fmt="%d", header=header, comments=""
    )
    config = {
        "data": {"train": "train.csv", "target": "label", "validation": 0.2, "standardize": False},
        "network": {"layers": ["auto", 12, "auto"]},
        "cost": "cross_entropy",
        "training": {"optimizer": "adam", "learning_rate": 0.01, "epochs": 3, "seed": 3},
        "device": "cpu",
    }
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    ok(run("fit", tmp_path / "c.yaml", "-q", "-o", tmp_path / "run"))
    model = load_model(tmp_path / "run" / "model.npz")
    for W_cli, W_est in zip(model.network.W, clf.model_.network.W):
        np.testing.assert_array_equal(W_cli, W_est)
    np.testing.assert_array_equal(model.predict_proba(X_test * 16), clf.predict_proba(X_test * 16))
    history = [line for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [yaml.safe_load(line)["val_loss"] for line in history] == clf.validation_loss_curve_
    # and another seed is another model
    other = NettrainClassifier(**params, random_state=4, device="cpu").fit(X, y)
    assert not np.array_equal(other.model_.network.W[0], clf.model_.network.W[0])


def test_bad_inputs_are_nettrain_data_errors(digits):
    X, y, _, _ = digits
    clf = NettrainClassifier(**FAST)
    cases = [
        (X[:, 0], y, "Expected 2D array, got 1D array"),
        (np.where(np.arange(64) == 3, "red", "1").repeat(2).reshape(2, 64), [0, 1], "OneHotEncoder"),
        (np.full((2, 3), np.nan), [0, 1], "NaN or infinity"),
        (X[:, :0], y, "0 feature\\(s\\)"),
        (X, y[:10], "X has 1347 rows but y has shape \\(10,\\)"),
        (X, np.zeros(len(y)), "one class only \\('0'\\)"),
        (X, y + 0.5, "Unknown label type: continuous"),
        (X, None, "requires y to be passed"),
    ]
    for X_bad, y_bad, message in cases:
        with pytest.raises(DataError, match=message):
            clf.fit(X_bad, y_bad)
        assert not hasattr(clf, "model_")
    clf.fit(X, y)
    with pytest.raises(DataError, match="X has 3 features, but NettrainClassifier is expecting 64 features"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError):  # DataError raised as a ValueError too, as scikit-learn's tools expect
        clf.predict_proba(np.full((1, 64), np.inf))
    for method in (clf.predict, clf.predict_proba):  # finite, but beyond the model's float32
        with pytest.raises(ValueError, match="too large for the model"):
            method(np.full((1, 64), 1e300))
    with pytest.raises(ValueError, match="Y holds 1e\\+300 .* too large for float32"):
        NettrainRegressor(**FAST).fit(X, np.full(len(X), 1e300))


class NAType:
    """What NumPy sees of pandas' missing value pd.NA (a nullable Int64 column's)."""

    def __float__(self):
        raise TypeError("float() argument must be a string or a real number, not 'NAType'")


def test_a_missing_value_of_pandas_is_missing_not_text(digits):
    X, y, _, _ = digits
    holed = X.astype(object)
    holed[5, 3] = NAType()
    with pytest.raises(DataError, match="contains NaN or infinity; fill or drop the missing values"):
        NettrainClassifier(**FAST).fit(holed, y)
    with pytest.raises(DataError, match="y must hold numbers"):
        NettrainRegressor(**FAST).fit(X, np.array(["a"] * len(X)))


def test_a_refit_that_fails_leaves_no_model(digits, regression):
    """A failed refit does not leave the earlier model answering in the new y's classes (or
    shape): the estimator is unfitted, as before its first fit."""
    X, y, _, _ = digits
    clf = NettrainClassifier(**FAST).fit(X, y)
    with pytest.raises(DataError, match="continuous"):
        clf.fit(X[:, :3], y + 0.5)
    with pytest.raises(ValueError, match="not fitted"):
        clf.predict(X)
    assert not hasattr(clf, "model_") and not hasattr(clf, "classes_")
    clf.fit(X, y)
    with pytest.raises(ValueError, match="diverged"):  # the new classes_ were set before training
        clf.set_params(learning_rate=1e30, epochs=1, batch_size=len(X)).fit(X, y % 3 + 7)
    assert not hasattr(clf, "classes_") and not hasattr(clf, "model_")
    Xr, yr, _, _ = regression
    reg = NettrainRegressor(**FAST).fit(Xr, np.c_[yr, yr])
    with pytest.raises(DataError, match="NaN"):
        reg.fit(Xr, np.full(len(yr), np.nan))
    with pytest.raises(ValueError, match="not fitted"):
        reg.predict(Xr)


def test_predict_before_fit_is_a_not_fitted_error_without_scikit_learn(monkeypatch, digits):
    X = digits[0]
    for name in ("sklearn", "sklearn.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # `import sklearn` raises ImportError
    for estimator in (NettrainClassifier(), NettrainRegressor()):
        for method in ("predict", "score"):
            args = (X,) if method == "predict" else (X, digits[1])
            with pytest.raises(NettrainNotFittedError, match="is not fitted yet") as caught:
                getattr(estimator, method)(*args)
            assert isinstance(caught.value, ValueError) and isinstance(caught.value, AttributeError)
    with pytest.raises(NettrainNotFittedError):
        NettrainClassifier().predict_proba(X)


class Frame:
    """What the estimators see of a pandas DataFrame: ``columns`` and ``__array__``."""

    def __init__(self, values, columns):
        self.values, self.columns = np.asarray(values), list(columns)

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)

    def __len__(self):
        return len(self.values)


def test_a_data_frame_gives_feature_names_in(digits):
    X, y, X_test, _ = digits
    names = [f"pixel{j}" for j in range(64)]
    clf = NettrainClassifier(**FAST).fit(Frame(X, names), y)
    np.testing.assert_array_equal(clf.feature_names_in_, names)
    np.testing.assert_array_equal(clf.predict(Frame(X_test, names)), clf.model_.predict(X_test))
    with pytest.raises(DataError, match="feature names should match"):
        clf.predict(Frame(X_test, names[::-1]))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X_test)
    clf.fit(X, y)  # refitted on an array: the names are gone
    assert not hasattr(clf, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names"):
        clf.predict(Frame(X_test, names))
    # column names that are not all text (a DataFrame's default 0, 1, ...) are no feature names
    assert not hasattr(NettrainClassifier(**FAST).fit(Frame(X, range(64)), y), "feature_names_in_")


def test_training_diverged_reaches_the_caller(regression):
    from nettrain import TrainingDiverged

    X, y, _, _ = regression
    reg = NettrainRegressor(optimizer="sgd", learning_rate=1e6, epochs=3, device="cpu")
    with pytest.raises(TrainingDiverged) as caught:
        reg.fit(X, y * 1e6)
    # a ValueError too (MLPClassifier's for non-finite weights), in the estimator's terms
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert "e.g. learning_rate=100000)" in message and "--set" not in message, message
    assert "TransformedTargetRegressor" in message and "nothing was written" not in message
    assert not hasattr(reg, "model_")


def test_a_last_step_that_leaves_no_finite_output_is_divergence(digits):
    """One step (one batch, one epoch) at a learning rate that leaves weights finite but outputs
    NaN: fit raises, rather than keeping a model whose every prediction fails."""
    X, y, _, _ = digits
    clf = NettrainClassifier(hidden_layers=(16,), learning_rate=1e30, epochs=1, batch_size=len(X))
    with pytest.raises(ValueError, match="the network's output became NaN or infinite in epoch 1"):
        clf.fit(X, y)


def test_warm_start_goes_on_from_the_fitted_weights():
    """warm_start=True: a second fit starts from model_'s weights, through nettrain's
    fit(config, warm_start=model_). What restarts is what nettrain's warm start restarts: the
    optimizer's state, the schedule and the shuffles (the seed's first permutations again). So
    with full batches of plain SGD (no state; the order of rows changes only the rounding of
    the gradient's sum), two warm fits of 3 epochs are one fit of 6; with Adam they are not, but
    the second fit's first loss (one batch: measured before its step) is the first model's log
    loss on X."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    full = dict(hidden_layers=(8,), optimizer="sgd", learning_rate=0.5, batch_size=len(X), dtype="float64")
    warm = NettrainClassifier(**full, epochs=3, warm_start=True, device="cpu").fit(X, y)
    first = warm.model_
    warm.fit(X, y)
    assert warm.model_ is not first and warm.n_iter_ == 3 == len(warm.history_)
    once = NettrainClassifier(**full, epochs=6, device="cpu").fit(X, y)
    assert len(warm.loss_curve_) == 6  # (continued, as MLPClassifier's loss_curve_)
    np.testing.assert_allclose(warm.loss_curve_, once.loss_curve_, rtol=1e-12)
    for W_warm, W_once in zip(warm.model_.network.W, once.model_.network.W):
        np.testing.assert_allclose(W_warm, W_once, rtol=1e-10, atol=1e-12)

    adam = {**full, "optimizer": "adam", "learning_rate": 0.01}
    warm = NettrainClassifier(**adam, epochs=3, warm_start=True, device="cpu").fit(X, y)
    log_loss = -np.mean(np.log(warm.predict_proba(X)[np.arange(len(y)), y]))
    warm.fit(X, y)
    assert warm.loss_curve_[3] == pytest.approx(log_loss, rel=1e-12)
    once = NettrainClassifier(**adam, epochs=6, device="cpu").fit(X, y)
    assert not np.allclose(warm.loss_curve_[3:], once.loss_curve_[3:])  # (Adam's moments restart)
    # warm_start=False (and None): each fit from fresh weights, the same fit again
    fresh = NettrainClassifier(**adam, epochs=3, warm_start=False, device="cpu")
    assert fresh.fit(X, y).loss_curve_ == fresh.fit(X, y).loss_curve_ == warm.loss_curve_[:3]


def test_warm_start_needs_the_same_classes_features_and_network(regression):
    """As MLPClassifier's: other classes (or a regressor's outputs) or features are a ValueError
    saying so, and so is another network; each leaves the estimator unfitted. Unfitted,
    warm_start=True is a fresh fit."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 4))
    y = np.arange(90) % 3
    params = {**FAST, "warm_start": True}
    assert (
        NettrainClassifier(**params).fit(X, y).loss_curve_ == NettrainClassifier(**FAST).fit(X, y).loss_curve_
    )
    cases = [
        (X, y % 2, {}, "the same classes as in the previous call to fit. Previously got \\[0 1 2\\]"),
        (X[:, :3], y, {}, "takes 4 features; X has 3"),
        (X, y, {"hidden_layers": (4,)}, "but the fitted model_ has \\[4, 16, 3\\]"),
    ]
    for X_new, y_new, change, message in cases:
        clf = NettrainClassifier(**params).fit(X, y)
        with pytest.raises(ValueError, match=message) as caught:
            clf.set_params(**change).fit(X_new, y_new)
        assert "set warm_start=False to fit afresh" in str(caught.value)
        assert not hasattr(clf, "model_") and not hasattr(clf, "classes_")
    Xr, yr, _, _ = regression
    reg = NettrainRegressor(**params).fit(Xr, yr)
    with pytest.raises(DataError, match="the same outputs .* Previously got 1, `y` has 2"):
        reg.fit(Xr, np.c_[yr, yr])
    reg = NettrainRegressor(**{**params, "epochs": 30}).fit(Xr, yr)
    assert reg.set_params(epochs=2).fit(Xr, yr).n_iter_ == 2 and len(reg.loss_curve_) == 32


def _convergence_warning():
    try:
        from sklearn.exceptions import ConvergenceWarning
    except ImportError:
        return NettrainConvergenceWarning
    return ConvergenceWarning


def test_fits_notices_are_python_warnings(digits, regression):
    """What fit notes about a run reaches the caller as a warning (as MLPClassifier's
    ConvergenceWarning), pointing at the caller's line: a loss that ends above a constant
    prediction's is a ConvergenceWarning, a fraction that held out more rows than asked a
    NettrainWarning; the echo of class weights is none."""
    Xr, yr, _, _ = regression
    with pytest.warns(_convergence_warning()) as caught:
        NettrainRegressor(**{**FAST, "epochs": 1}).fit(Xr, yr)
    (warning,) = caught
    message = str(warning.message)
    assert message.startswith("NettrainRegressor: the training loss ends at "), message
    # one epoch: fit's note names both causes, in the estimator's parameters
    assert "epochs (1) may be too few for learning_rate (0.01), or that rate too high" in message
    assert "training." not in message and message.endswith(
        "or X or y is unscaled (X: a StandardScaler in the Pipeline; y: a TransformedTargetRegressor)"
    )  # (not 'X is unscaled': a Pipeline's scaled X with y as it came is the common case)
    assert warning.filename == __file__ and issubclass(warning.category, UserWarning)
    # many small classes: the stratified validation fraction holds out one row of each
    X = np.random.default_rng(0).standard_normal((60, 3))
    with pytest.warns(
        NettrainWarning, match="NettrainClassifier: the validation fraction 0.1 holds out 30 of 60"
    ):
        NettrainClassifier(**FAST, validation=0.1).fit(X, np.arange(60) // 2)
    X, y, _, _ = digits
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (whatever pytest's filters say)
        clf = NettrainClassifier(**FAST, config={"training": {"class_weight": "balanced"}}).fit(X, y)
    assert clf.model_.network.class_weight is not None


def test_a_loss_still_falling_is_told_more_epochs_not_a_lower_rate(regression):
    """fit's note follows the losses: falling every epoch at a small rate, the warning says the
    epochs were too few for that rate (in the estimator's parameter names), not that it is too
    high."""
    X, y, _, _ = regression
    est = NettrainRegressor(**{**FAST, "optimizer": "sgd", "learning_rate": 1e-4, "epochs": 3})
    with pytest.warns(_convergence_warning(), match="the training loss ends at") as caught:
        est.fit(X, y)
    assert est.loss_curve_[0] > est.loss_curve_[1] > est.loss_curve_[2]
    (message,) = [str(w.message) for w in caught]
    assert (
        "still falling over the last 3 epochs: epochs (3) may be too few for learning_rate (0.0001)"
        in message
    )
    assert "too high" not in message and "training." not in message


def test_without_scikit_learn_the_convergence_warning_is_nettrains(monkeypatch, regression):
    X, y, _, _ = regression
    for name in ("sklearn", "sklearn.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # `import sklearn` raises ImportError
    with pytest.warns(NettrainConvergenceWarning, match="the training loss ends at") as caught:
        NettrainRegressor(**{**FAST, "epochs": 1}).fit(X, y)
    assert issubclass(caught[0].category, NettrainWarning) and issubclass(caught[0].category, UserWarning)


def test_early_stopping_that_never_stopped_is_a_convergence_warning(digits):
    """MLPClassifier warns when max_iter ends training before its tol criterion; early stopping
    is nettrain's criterion: a run it did not stop warns, one it stopped does not, and a run
    without it (a fixed number of epochs) does not either."""
    X, y, _, _ = digits
    still = {**FAST, "early_stopping": {"monitor": "loss", "patience": 10}}
    with pytest.warns(_convergence_warning(), match="epochs \\(5\\) reached and early stopping had not"):
        clf = NettrainClassifier(**still).fit(X, y)
    assert clf.n_iter_ == 5
    stopped = {**FAST, "epochs": 30, "early_stopping": {"monitor": "loss", "patience": 1, "min_delta": 1.0}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert NettrainClassifier(**stopped).fit(X, y).n_iter_ < 30
        NettrainClassifier(**FAST).fit(X, y)


def test_importing_the_estimators_does_not_import_scikit_learn():
    code = (
        "import nettrain, sys; nettrain.NettrainClassifier, nettrain.NettrainRegressor; "
        "assert 'sklearn' not in sys.modules, 'sklearn imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# -- with scikit-learn -----------------------------------------------------------------------------------


@pytest.fixture
def sklearn():
    return pytest.importorskip("sklearn")


def test_clone_is_classifier_and_is_regressor(sklearn):
    from sklearn.base import clone, is_classifier, is_regressor

    clf = NettrainClassifier(hidden_layers=(8,), config={"training": {"epochs": 2}})
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == clf.get_params()
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_regressor(NettrainRegressor()) and not is_classifier(NettrainRegressor())


def test_a_pipeline_cross_val_score_and_grid_search(sklearn, digits):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, X_test, y_test = digits
    X, y = X[:400], y[:400]
    pipe = make_pipeline(StandardScaler(), NettrainClassifier(**FAST))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.8
    # a classifier gets stratified folds: the same scores as StratifiedKFold's, by hand
    folds = StratifiedKFold(3).split(X, y)
    by_hand = [pipe.fit(X[a], y[a]).score(X[b], y[b]) for a, b in folds]
    np.testing.assert_array_equal(scores, by_hand)

    grid = {
        "nettrainclassifier__learning_rate": [1e-5, 0.01],
        "nettrainclassifier__hidden_layers": [(4,), (16,)],
    }
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_params_ == {
        "nettrainclassifier__learning_rate": 0.01,
        "nettrainclassifier__hidden_layers": (16,),
    }
    assert search.best_estimator_[-1].model_.network.sizes == [64, 16, 10]
    assert search.score(X_test, y_test) > 0.8


def test_a_column_vector_y_gives_mlp_regressors_warning_and_shape(sklearn, regression):
    from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
    from sklearn.neural_network import MLPRegressor

    X, y, X_test, _ = regression
    X, y = X[:100], y[:100, None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # (a few iterations are enough here)
        with pytest.warns(DataConversionWarning) as theirs:
            mlp = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1).fit(X, y)
        with pytest.warns(DataConversionWarning) as ours:
            reg = NettrainRegressor(**FAST).fit(X, y)
    assert str(ours[0].message) == str(theirs[0].message)
    assert reg.predict(X_test).shape == mlp.predict(X_test).shape == (len(X_test),)


def test_a_regressor_in_a_grid_search(sklearn, regression):
    from sklearn.model_selection import GridSearchCV

    X, y, _, _ = regression
    with pytest.warns(_convergence_warning(), match="NettrainRegressor: the training loss ends at"):
        search = GridSearchCV(NettrainRegressor(**FAST), {"epochs": [1, 30]}, cv=2).fit(X, y)  # (1 is few)
    assert search.best_params_ == {"epochs": 30}
    assert search.best_score_ == pytest.approx(search.cv_results_["mean_test_score"].max())


@pytest.mark.filterwarnings(
    "ignore:Estimator Nettrain\\w+ does not inherit from `sklearn.base.BaseEstimator`"
)
@pytest.mark.filterwarnings("ignore:Skipping check")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", [NettrainClassifier, NettrainRegressor])
def test_scikit_learns_estimator_checks_pass(sklearn, kind, dtype):
    """Every check of check_estimator passes in float64 (none is expected to fail); the ones it
    skips need pandas or SCIPY_ARRAY_API. In float32 (the default) one check cannot: sample
    weights equal to repeating rows, compared to rtol 1e-7, below float32's rounding (eps 1.2e-7:
    the weighted and the repeated fits sum their rows in other orders, and differ in the last
    bit). Its float64 run passes, so the weights do what the check asks."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.utils.estimator_checks import check_estimator

    expected = {}
    if dtype == "float32":
        expected["check_sample_weight_equivalence_on_dense_data"] = (
            "float32 rounding: the check's rtol 1e-7 is below float32's eps (the float64 run passes it)"
        )
    with warnings.catch_warnings():  # (as scikit-learn's own common tests ignore it)
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = check_estimator(
            kind(**{**FAST, "epochs": 30, "dtype": dtype}), on_fail=None, expected_failed_checks=expected
        )
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) > 40
    ran = {r["check_name"] for r in results}
    assert "check_sample_weight_equivalence_on_dense_data" in ran  # (fit takes sample_weight)


def test_the_readme_example_runs(sklearn, tmp_path, monkeypatch, capsys):
    """README's "scikit-learn estimators" block, run where the repository's data/ is."""
    import re

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### scikit-learn estimators") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "data").symlink_to(DATA)
    monkeypatch.chdir(tmp_path)
    exec(code, {})
    mean, best, proba = capsys.readouterr().out.split("\n", 2)
    assert float(mean) > 0.9
    assert "nettrainclassifier__learning_rate" in best and float(best.rsplit(" ", 1)[1]) > 0.9
    assert proba.count("[") == 3  # the two rows of probabilities
