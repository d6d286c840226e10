"""scikit-learn estimators over nettrain's training: ``NettrainClassifier`` and ``NettrainRegressor``.

They follow scikit-learn's estimator rules, so that they go into a ``Pipeline``,
``cross_val_score`` and ``GridSearchCV``, without importing scikit-learn (nettrain does not depend
on it; ``__sklearn_tags__`` imports it when scikit-learn itself asks):

- the constructor takes keyword arguments only and stores them unchanged; ``get_params`` and
  ``set_params`` work over exactly those names. Every parameter defaults to None, which means
  "the ``config``'s value, else nettrain's default", so that ``config`` (a YAML file or a dict)
  can be the base that explicit parameters override (``clone`` passes every parameter, so a
  parameter left at a value like ``epochs=30`` could not be told from one set on purpose);
- ``fit(X, y)`` builds the config with ``config_from_dict`` (nettrain's validation and
  ``ConfigError``) and trains with ``fit(config, data=RunData.from_arrays(X, Y), save=False)``:
  the same training as ``nettrain fit`` of that config on the same numbers;
- no standardization inside (as MLPClassifier): put a ``StandardScaler`` in the Pipeline.

Errors are nettrain's: ``ConfigError`` for parameters, ``BackendError`` for a ``device`` that
cannot be used (``device='gpu'`` without CuPy), ``DataError`` for X and y. All are raised as
subclasses that are also ``ValueError``, as scikit-learn's tools expect of bad input.
"""

from __future__ import annotations

import copy
import logging
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from .errors import BackendError, ConfigError, DataError, NettrainError, TrainingDiverged, did_you_mean

#: The parameters in the order of the constructor; each maps onto a config key (hidden_layers
#: onto network.layers between the two 'auto' sizes).
PARAMS = (
    "hidden_layers",
    "activation",
    "optimizer",
    "learning_rate",
    "epochs",
    "batch_size",
    "weight_decay",
    "dropout",
    "schedule",
    "early_stopping",
    "validation",
    "init",
    "random_state",
    "warm_start",
    "dtype",
    "device",
    "verbose",
    "config",
)
KEYS = {
    "hidden_layers": ("network", "layers"),
    "activation": ("network", "activation"),
    "init": ("network", "init"),
    "optimizer": ("training", "optimizer"),
    "learning_rate": ("training", "learning_rate"),
    "epochs": ("training", "epochs"),
    "batch_size": ("training", "batch_size"),
    "weight_decay": ("training", "weight_decay"),
    "dropout": ("training", "dropout"),
    "schedule": ("training", "schedule"),
    "early_stopping": ("training", "early_stopping"),
    "random_state": ("training", "seed"),
    "validation": ("data", "validation"),
    "dtype": ("dtype",),
    "device": ("device",),
}
#: MLPClassifier's (and Keras's) names for the same things, for the 'did you mean' of the
#: constructor and set_params: nettrain's parameter, or how to say it
SKLEARN_NAMES = {
    "hidden_layer_sizes": "hidden_layers",
    "learning_rate_init": "learning_rate",
    "max_iter": "epochs",
    "alpha": "weight_decay",
    "solver": "optimizer",
    "validation_fraction": "validation",
    "validation_split": "validation",
    "seed": "random_state",
    "kernel_initializer": "init",
    "momentum": "optimizer={'name': 'momentum', 'momentum': 0.9}",
    "nesterovs_momentum": "optimizer={'name': 'nesterov', 'momentum': 0.9}",
    "beta_1": "optimizer={'name': 'adam', 'beta1': 0.9}",
    "beta_2": "optimizer={'name': 'adam', 'beta2': 0.999}",
    "epsilon": "optimizer={'name': 'adam', 'eps': 1e-8}",
    "n_iter_no_change": "early_stopping={'patience': n_iter_no_change + 1}",
    "tol": "early_stopping={'min_delta': tol}",
    "power_t": "schedule={'name': 'invscaling', 'power_t': 0.5}",
    "class_weight": "config={'training': {'class_weight': 'balanced'}}",
}
#: X with NaN, infinities or pandas' missing values (pd.NA)
MISSING = (
    "Input X contains NaN or infinity; fill or drop the missing values first (a SimpleImputer in the "
    "Pipeline)"
)
#: hidden layers when neither the parameter nor the config gives network.layers (MLPClassifier's)
DEFAULT_HIDDEN = (100,)
#: where ``verbose=True`` reports each epoch, at level INFO ('nettrain.estimators'): the library
#: never prints (only the CLI talks to the user), so the caller's logging config decides where
#: the lines go (``logging.basicConfig(level=logging.INFO)``: standard error)
LOG = logging.getLogger(__name__)
#: a set_{method}_request argument left as it is (scikit-learn's metadata_routing.UNCHANGED)
UNCHANGED = "$UNCHANGED$"


class _Requests(dict):
    """The metadata requests that set_{method}_request made: {method: {name: request}}, a request
    being True (route it to the method), False (do not), None (giving it is an error) or an alias.
    scikit-learn's ``clone`` copies it (``__sklearn_clone__``), as it copies its own estimators'
    ``_metadata_request``, so that GridSearchCV's and cross_validate's clones route alike."""

    def __sklearn_clone__(self) -> _Requests:
        return _Requests({method: dict(names) for method, names in self.items()})


class EstimatorConfigError(ConfigError, ValueError):
    """A parameter (or the ``config`` under it) that nettrain's config validation refuses; a
    ValueError too, as scikit-learn's tools expect of a bad parameter."""


class EstimatorBackendError(BackendError, ValueError):
    """A ``device`` that cannot be used (``'gpu'`` without CuPy or a usable GPU); a ValueError
    too, as scikit-learn's tools expect of a bad parameter found at fit."""


class EstimatorDataError(DataError, ValueError):
    """X or y that cannot be trained on or predicted; a ValueError too, as scikit-learn's input
    checks raise."""


class EstimatorTypeError(DataError, TypeError):
    """X holding something that is no number at all (a dict, None): a TypeError too, as NumPy's
    conversion raises."""


class EstimatorDiverged(TrainingDiverged, ValueError):
    """Training diverged (a loss, weight or output became NaN or infinite): no model is kept; a
    ValueError too, as MLPClassifier's 'non-finite parameter weights'."""


class NettrainWarning(UserWarning):
    """What nettrain's fit noted about a run (a validation fraction that held out more rows than
    asked, a GPU not usable, an early-stopped cosine schedule), passed on as a Python warning."""


class NettrainConvergenceWarning(NettrainWarning):
    """Training that did not converge, where scikit-learn is not installed; scikit-learn's own
    ConvergenceWarning (a UserWarning too, the class its users filter) is raised where it is."""


class NettrainNotFittedError(NettrainError, ValueError, AttributeError):
    """predict (or score) before fit, where scikit-learn is not installed; scikit-learn's own
    NotFittedError is raised where it is (it is a ValueError and an AttributeError too)."""


def _hint(name: str, valid) -> str:
    """' (did you mean ...?)' for a parameter name that is not one: nettrain's name for
    MLPClassifier's, else the nearest valid name, else ''."""
    if name in SKLEARN_NAMES:
        said = SKLEARN_NAMES[name]
        return f" (did you mean '{said}'?)" if said in PARAMS else f" (nettrain's: {said})"
    return did_you_mean(name, list(valid))


def _sklearn_value_hint(param: str, value) -> str:
    """'; ...' for a parameter refused with the value MLPClassifier takes under the same name
    (learning_rate='adaptive' is its schedule, batch_size='auto' its min(200, rows), a
    RandomState as random_state), else ''."""
    if not isinstance(value, str) and param != "random_state":
        return ""  # (an array or a number: no value of MLPClassifier's; `in` would compare it elementwise)
    if param == "learning_rate" and value in ("constant", "invscaling", "adaptive"):
        nearest = {
            "constant": "'constant'",
            "invscaling": "'invscaling'",
            "adaptive": "'plateau' (the nearest)",
        }
        return (
            f"; MLPClassifier's learning_rate={value!r} is a schedule, nettrain's schedule={nearest[value]}; "
            "learning_rate= is the number (MLPClassifier's learning_rate_init)"
        )
    if param == "batch_size" and value == "auto":
        return "; MLPClassifier's 'auto' is min(200, rows of X): give that number"
    if param == "random_state" and isinstance(value, (np.random.RandomState, np.random.Generator)):
        return (
            "; nettrain takes an integer seed only, not a generator (its runs repeat from the seed): "
            "e.g. random_state=0"
        )
    return ""


def _not_fitted(estimator) -> Exception:
    message = (
        f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
        "appropriate arguments before using this estimator."
    )
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:
        return NettrainNotFittedError(message)
    return NotFittedError(message)


def _convergence_warning() -> type[Warning]:
    """scikit-learn's ConvergenceWarning where scikit-learn is installed, else nettrain's."""
    try:
        from sklearn.exceptions import ConvergenceWarning
    except ImportError:
        return NettrainConvergenceWarning
    return ConvergenceWarning


def _label_text(label) -> str:
    """A class label as nettrain writes labels (3 and 3.0 -> '3'), which is how
    training.class_weight names them."""
    if isinstance(label, (float, np.floating)) and np.isfinite(label) and label == int(label):
        return str(int(label))
    return str(label.item() if isinstance(label, np.generic) else label)


class _NettrainEstimator:
    """What both estimators share: parameters, the config, input checks, fitted state."""

    _kind = ""  # 'classifier' or 'regressor'
    _default_cost = ""

    def __init__(
        self,
        *,
        hidden_layers=None,
        activation=None,
        optimizer=None,
        learning_rate=None,
        epochs=None,
        batch_size=None,
        weight_decay=None,
        dropout=None,
        schedule=None,
        early_stopping=None,
        validation=None,
        init=None,
        random_state=None,
        warm_start=None,
        dtype=None,
        device=None,
        verbose=None,
        config=None,
        **unknown,
    ):
        if unknown:  # (Python's own TypeError names _NettrainEstimator.__init__ and no equivalent)
            name = next(iter(unknown))
            raise TypeError(
                f"{type(self).__name__}() got an unexpected keyword argument '{name}'"
                f"{_hint(name, PARAMS)}; its parameters are: {', '.join(sorted(PARAMS))}"
            )
        self.hidden_layers = hidden_layers
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.schedule = schedule
        self.early_stopping = early_stopping
        self.validation = validation
        self.init = init
        self.random_state = random_state
        self.warm_start = warm_start
        self.dtype = dtype
        self.device = device
        self.verbose = verbose
        self.config = config

    # -- parameters (scikit-learn's estimator interface) -----------------------------------------

    @classmethod
    def _get_param_names(cls) -> list[str]:
        return sorted(PARAMS)

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's parameters as they were given (``deep``: also the parameters of any
        that are estimators themselves, as ``name__param``)."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params):
        """Set parameters by name (``name__param`` for a parameter's own); returns self. An unknown
        name is a ConfigError (a ValueError too) with a 'did you mean'."""
        valid = self._get_param_names()
        nested: dict[str, dict] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise EstimatorConfigError(
                    f"{type(self).__name__}: '{name}' is not a parameter{_hint(name, valid)}; valid "
                    "parameters are: " + ", ".join(valid)
                )
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        given = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items() if v is not None)
        return f"{type(self).__name__}({given})"

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        tags = Tags(
            estimator_type=self._kind,
            target_tags=TargetTags(required=True),
            input_tags=InputTags(two_d_array=True),
        )
        if self._kind == "classifier":
            tags.classifier_tags = ClassifierTags(multi_label=False)
        else:
            tags.regressor_tags = RegressorTags()
            tags.target_tags.multi_output = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    # -- scikit-learn's metadata routing ----------------------------------------------------------

    #: the metadata each method takes, which scikit-learn's metadata routing can pass on to it
    _metadata = {"fit": ("sample_weight",), "partial_fit": ("sample_weight",), "score": ("sample_weight",)}

    def set_fit_request(self, *, sample_weight=UNCHANGED):
        """Whether a meta-estimator (GridSearchCV, cross_validate, a Pipeline) passes
        ``sample_weight`` on to ``fit`` under scikit-learn's metadata routing
        (``sklearn.set_config(enable_metadata_routing=True)``): True, False, None (giving it is an
        error: the default) or the name it is given by; returns self. As scikit-learn's own."""
        return self._set_request("fit", sample_weight=sample_weight)

    def set_score_request(self, *, sample_weight=UNCHANGED):
        """``set_fit_request`` for ``score``."""
        return self._set_request("score", sample_weight=sample_weight)

    def _set_request(self, method: str, **requests):
        from sklearn import get_config

        if not get_config().get("enable_metadata_routing", False):
            raise RuntimeError(
                "This method is only available when metadata routing is enabled. You can enable it "
                "using sklearn.set_config(enable_metadata_routing=True)."
            )
        old = getattr(self, "_metadata_request", None)
        made = _Requests() if old is None else old.__sklearn_clone__()
        for name, request in requests.items():
            if not (isinstance(request, str) and request == UNCHANGED):
                made.setdefault(method, {})[name] = request
        self._metadata_request = made
        try:
            self.get_metadata_routing()  # (scikit-learn's checks of each request)
        except Exception:
            if old is None:
                del self._metadata_request
            else:
                self._metadata_request = old
            raise
        return self

    def get_metadata_routing(self):
        """The metadata ``fit``, ``partial_fit`` and ``score`` take, as requested by
        set_{method}_request (scikit-learn's ``MetadataRequest``)."""
        from sklearn.utils.metadata_routing import MetadataRequest

        routing = MetadataRequest(owner=type(self).__name__)
        made = getattr(self, "_metadata_request", None) or {}
        for method, names in self._metadata.items():
            for name in names:
                getattr(routing, method).add_request(param=name, alias=made.get(method, {}).get(name))
        return routing

    # -- the config -------------------------------------------------------------------------------

    def _base_config(self) -> tuple[dict, Path, str]:
        """(the ``config`` parameter as a mapping, the folder its relative paths are in, its name)."""
        name = type(self).__name__
        if self.config is None:
            return {}, Path.cwd(), name
        if isinstance(self.config, dict):
            return copy.deepcopy(self.config), Path.cwd(), name
        if isinstance(self.config, (str, Path)):
            from .config import _folder_of, parse_yaml, read_text

            try:
                text = read_text(self.config)
            except ConfigError as exc:  # (not found, unreadable)
                raise EstimatorConfigError(exc.problems) from None
            raw, _, problems = parse_yaml(text, str(self.config))
            if problems:
                raise EstimatorConfigError(problems)
            if raw is None:
                raw = {}
            if not isinstance(raw, dict):
                raise EstimatorConfigError(
                    f"{self.config}: a config is a mapping of sections (data, network, ...)"
                )
            return raw, _folder_of(Path(self.config)) or Path.cwd(), str(self.config)
        raise EstimatorConfigError(
            f"{name}: config={self.config!r} is not a config: give a YAML file's path or a dict"
        )

    def _config(self, cost: str | None = None):
        """The nettrain Config of these parameters over ``config``: validated by config_from_dict
        (each problem names the parameter it came from). ``cost`` replaces the config's."""
        from .config import config_from_dict

        raw, base, name = self._base_config()
        set_by: dict[str, str] = {}
        for param, path in KEYS.items():
            value = getattr(self, param)
            if value is None:
                continue
            if param == "hidden_layers":  # (100, 50), [100, 50], an array, or one size: 100
                sizes = list(value) if np.ndim(value) == 1 else [value]
                value = ["auto", *sizes, "auto"]
            section = raw
            for key in path[:-1]:
                if not isinstance(section.get(key), dict):
                    section[key] = {}
                section = section[key]
            section[path[-1]] = value
            set_by[".".join(path)] = param
        network = raw.get("network")
        if not isinstance(network, dict):
            network = raw["network"] = {}
        network.setdefault("layers", ["auto", *DEFAULT_HIDDEN, "auto"])
        if cost is not None:
            raw["cost"] = cost
        try:
            return config_from_dict(raw, base=base, name=name, origin=name)
        except ConfigError as exc:
            problems = []
            for line in exc.problems:
                for key, param in set_by.items():
                    if f" {key}:" in line:
                        line = line.replace(f" {key}:", f" {param} ({key}):", 1)
                        line += _sklearn_value_hint(param, getattr(self, param))
                problems.append(line)
            raise EstimatorConfigError(problems) from None

    def _cost(self, n_classes: int = 0) -> str:
        """The cost: the config's, when it is one for this kind of estimator, else the default."""
        from .costs import COSTS

        raw, _, name = self._base_config()
        cost = raw.get("cost", self._default_cost)
        if not isinstance(cost, str) or cost not in COSTS:
            return cost  # (config_from_dict words the problem)
        wanted = self._kind == "classifier"
        if COSTS[cost].classification != wanted:
            task = "classification" if wanted else "regression"
            raise EstimatorConfigError(
                f"{name}: cost: '{cost}' is not a {task} cost; a {type(self).__name__} trains with "
                + ("cross_entropy or binary_cross_entropy" if wanted else "mse")
            )
        if cost == "binary_cross_entropy" and n_classes > 2:
            raise EstimatorConfigError(
                f"{name}: cost: binary_cross_entropy is one sigmoid output for two classes; y has "
                f"{n_classes}: use cross_entropy"
            )
        return cost

    # -- inputs -------------------------------------------------------------------------------------

    def _inputs(self, X, fitting: bool) -> np.ndarray:
        """X as a float64 matrix (n, features), checked the way scikit-learn checks inputs; on
        ``fitting``, n_features_in_ and feature_names_in_ are set from it."""
        who = type(self).__name__
        names = _feature_names(X)
        if hasattr(X, "tocsr") or hasattr(X, "toarray") and hasattr(X, "nnz"):
            raise EstimatorDataError(
                f"{who}: sparse input is not supported: give a dense array (X.toarray()) or a "
                "dense-output transformer in the Pipeline"
            )
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as exc:
            raise EstimatorDataError(f"{who}: X is not an array of numbers ({exc})") from None
        if array.ndim != 2:
            raise EstimatorDataError(
                f"{who}: Expected 2D array, got {array.ndim}D array instead: X must be (samples, "
                "features). Reshape your data: X.reshape(-1, 1) for one feature, X.reshape(1, -1) "
                "for one sample"
            )
        if np.iscomplexobj(array):
            raise EstimatorDataError(f"{who}: Complex data not supported; X must hold real numbers")
        if array.dtype.kind not in "biuf":
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError) as exc:
                if array.dtype.kind == "O" and any(type(v).__name__ == "NAType" for v in array.flat):
                    raise EstimatorDataError(f"{who}: {MISSING}") from None  # pandas' pd.NA
                kind = EstimatorTypeError if isinstance(exc, TypeError) else EstimatorDataError
                raise kind(
                    f"{who}: X must hold numbers, and a column holds text ({exc}): encode it in the "
                    "Pipeline (OneHotEncoder), or train from the CSV file with nettrain's config "
                    "(data.categorical one-hot encodes text columns)"
                ) from None
        array = array.astype(np.float64, copy=False)
        if array.shape[0] < 1:
            raise EstimatorDataError(
                f"{who}: Found array with 0 sample(s) (shape={array.shape}) while a minimum of 1 is required."
            )
        if array.shape[1] < 1:
            raise EstimatorDataError(
                f"{who}: Found array with 0 feature(s) (shape={array.shape}) while a minimum of 1 is "
                "required."
            )
        if not np.isfinite(array).all():
            raise EstimatorDataError(f"{who}: {MISSING}")
        if fitting:
            self.n_features_in_ = array.shape[1]
            if names is not None:
                self.feature_names_in_ = names
            elif hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            return array
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is None:
            warnings.warn(
                f"X has feature names, but {who} was fitted without feature names", UserWarning, stacklevel=3
            )
        elif names is None and fitted_names is not None:
            warnings.warn(
                f"X does not have valid feature names, but {who} was fitted with feature names",
                UserWarning,
                stacklevel=3,
            )
        elif names is not None and list(names) != list(fitted_names):
            raise EstimatorDataError(
                f"{who}: The feature names should match those that were passed during fit: "
                f"fitted with {list(fitted_names)}, given {list(names)}"
            )
        if array.shape[1] != self.n_features_in_:
            raise EstimatorDataError(
                f"X has {array.shape[1]} features, but {who} is expecting {self.n_features_in_} "
                "features as input."
            )
        return array

    def _forget(self) -> None:
        """Drop what an earlier fit left (the attributes whose names end in '_', and _run_state:
        the state of the run that partial_fit goes on with), so that a refit that fails leaves
        the estimator unfitted, not the old model answering with the new classes_ or the new
        number of outputs."""
        names = [n for n in vars(self) if n.endswith("_") and not n.startswith("_")]
        for name in names + ["_run_state"]:
            if hasattr(self, name):
                delattr(self, name)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise _not_fitted(self)

    @property
    def coefs_(self) -> list[np.ndarray]:
        """MLPClassifier's name for the weights: W(l) of each layer as (fan_in, fan_out), the
        transpose of nettrain's W(l) (fan_out, fan_in: z(l+1) = W(l) a(l) + b(l)), on the host.
        Read from ``model_``, not a copy kept beside it."""
        from .backend import to_host

        self._check_fitted()
        return [to_host(W).T for W in self.model_.network.W]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """MLPClassifier's name for the biases: b(l) of each layer, (fan_out,), on the host."""
        from .backend import to_host

        self._check_fitted()
        return [to_host(b) for b in self.model_.network.b]

    def _warm(self) -> dict | None:
        """What a ``warm_start`` fit goes on from: the fitted model and what must match it (the
        attributes ending in '_'), or None for a fresh fit (warm_start false, or not fitted)."""
        if not self.warm_start or not hasattr(self, "model_"):
            return None
        return {n: v for n, v in vars(self).items() if n.endswith("_") and not n.startswith("_")}

    def _check_warm(self, warm: dict | None, n_features: int, what: str, then, now) -> None:
        """A ValueError (as MLPClassifier's) when a warm_start fit's X or y does not match the
        model it would go on from: the number of features, and ``what`` (the classes, the
        outputs) of y, ``then`` and ``now``."""
        if warm is None:
            return
        who = type(self).__name__
        fresh = "; set warm_start=False to fit afresh"
        if n_features != warm["n_features_in_"]:
            raise EstimatorDataError(
                f"{who}: warm_start=True goes on from the fitted model, which takes "
                f"{warm['n_features_in_']} features; X has {n_features}{fresh}"
            )
        if not np.array_equal(then, now):
            raise EstimatorDataError(
                f"{who}: warm_start can only be used where `y` has the same {what} as in the previous "
                f"call to fit. Previously got {then}, `y` has {now}{fresh}"
            )

    def _train(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        cost: str,
        warm: dict | None = None,
        partial: bool = False,
        sample_weight=None,
    ) -> None:
        """Train with nettrain's fit on the encoded arrays and keep what it made; with ``warm``
        (``_warm``), from its model's weights (fit's warm_start: the optimizer, schedule,
        shuffles and early stopping start afresh), its loss curves continued. ``partial``
        (partial_fit): one epoch more of the run held in ``_run_state`` (the state the last fit
        or partial_fit ended in: weights, optimizer, schedule, shuffles), resumed in memory as
        ``--resume`` resumes a checkpoint, or the first epoch of a new run. A fit or partial_fit
        that can be gone on from keeps its end state for the next partial_fit. A partial_fit
        that fails leaves a fitted estimator as it was (the batch is not learned).
        ``sample_weight`` (n,) float64 (``_sample_weight``'s), or None: unweighted."""
        from .config import with_data_sizes
        from .data import RunData
        from .train import RESUME_NOTE, WORSE_THAN_A_CONSTANT, fit

        fitted = hasattr(self, "model_")
        state = getattr(self, "_run_state", None) if partial else None
        before = (warm or {}) if not partial else {k: v for k, v in vars(self).items() if k.endswith("_")}
        try:
            verbose = self._verbose()
            config = self._config(cost)
            self._no_data_files(config)
            go_on = self._partial_problem(config) is None  # (a run partial_fit can go on with)
            if partial:
                self._check_partial(config, fitted and state is None)
                done = state.state["epoch"] if state is not None else 0
                config = replace(config, training=replace(config.training, epochs=done + 1))
            try:
                data = RunData.from_arrays(X, Y, cost, dtype=config.dtype, sample_weight=sample_weight)
            except DataError as exc:
                raise EstimatorDataError(str(exc)) from None
            data = self._named(data)
            notes: list[str] = []
            iteration = [len(before.get("loss_curve_", []))]  # (MLPClassifier's count: n_iter_)

            def on_event(kind: str, info: dict) -> None:
                if kind in ("notice", "warning"):
                    notes.append(info["message"])
                elif kind == "epoch" and verbose:
                    iteration[0] += 1
                    self._log_epoch(iteration[0], info)

            try:
                start = warm["model_"] if warm is not None else None
                result = fit(
                    config,
                    on_event=on_event,
                    data=data,
                    save=False,
                    warm_start=start,
                    resume=state,
                    keep_state=go_on,
                )
            except ConfigError as exc:
                problems = [self._in_our_terms(line) for line in exc.problems]
                if warm is not None:  # (the network differs from the fitted model's)
                    problems = [
                        line.replace("the warm-start model the model given to fit", "the fitted model_")
                        + ("; set warm_start=False to fit afresh" if "warm-start" in line else "")
                        for line in problems
                    ]
                if state is not None:  # (a parameter changed since the run began)
                    problems = [self._partial_terms(line) for line in problems]
                raise EstimatorConfigError(problems) from None
            except DataError as exc:
                raise EstimatorDataError(str(exc)) from None
            except BackendError as exc:
                raise EstimatorBackendError(f"{type(self).__name__}: {exc}") from None
            except TrainingDiverged as exc:
                raise EstimatorDiverged(self._diverged_advice(str(exc))) from None
        except BaseException:
            if not (partial and fitted):
                self._forget()  # (classes_ or n_outputs_ were set for this fit, which made no model)
            raise
        self.config_ = with_data_sizes(config, data.encoding.n_inputs, data.encoding.n_outputs)
        self.model_ = result.model
        self.history_ = result.history
        self._run_state = result.state
        # a warm start's curves go on from the earlier fits' (MLPClassifier's loss_curve_ too);
        # partial_fit's from the earlier calls', one epoch each
        new = result.history[-1:] if partial else result.history
        self.n_iter_ = before.get("n_iter_", 0) + 1 if partial else len(result.history)
        self.loss_curve_ = before.get("loss_curve_", []) + [record["loss"] for record in new]
        score = "val_accuracy" if self._kind == "classifier" else "val_r2"
        if new and "val_loss" in new[-1]:
            curve = [record.get("val_loss") for record in new]
            earlier = before.get("validation_loss_curve_")
            self.validation_loss_curve_ = earlier + curve if earlier is not None else curve
            scores = [record.get(score) for record in new]
            earlier = before.get("validation_scores_")
            self.validation_scores_ = earlier + scores if earlier is not None else scores
        else:
            if hasattr(self, "validation_loss_curve_"):
                del self.validation_loss_curve_
            self.validation_scores_ = None
        # MLPClassifier's: the lowest training loss, None where early stopping watches the
        # validation rows (whose best score is then best_validation_score_)
        seen = [v for v in self.validation_scores_ or [] if v is not None and np.isfinite(v)]
        self.best_validation_score_ = max(seen) if seen else None
        es = config.training.early_stopping
        on_validation = bool(es) and str(es.get("monitor", "")).startswith("val_")
        self.best_loss_ = None if on_validation else min(self.loss_curve_)
        if partial:  # (one epoch asked for: 'too few epochs' advice and the resume echo say nothing)
            notes = [n for n in notes if not n.startswith((WORSE_THAN_A_CONSTANT, RESUME_NOTE))]
        self._warn(notes, result.summary)

    def _verbose(self) -> bool:
        """Whether ``verbose`` asks for a line per epoch (None, a bool or an int >= 0, as
        MLPClassifier's); a ConfigError for another value. A NettrainWarning when the lines
        would go nowhere (the logger has no handler, or INFO is below its level)."""
        value = self.verbose
        if value is None:
            return False
        # (scikit-learn's verbose constraint: bool, numpy.bool_ or an integer >= 0)
        if not isinstance(value, (bool, np.bool_)) and not (
            isinstance(value, (int, np.integer)) and value >= 0
        ):
            raise EstimatorConfigError(
                f"{type(self).__name__}: verbose={value!r} is not True, False, None or an integer >= 0"
            )
        if value and not (LOG.isEnabledFor(logging.INFO) and LOG.hasHandlers()):
            warnings.warn(
                f"{type(self).__name__}: verbose=True logs each epoch to the logger "
                f"'{LOG.name}' at level INFO, which shows nothing until logging is set up: "
                "logging.basicConfig(level=logging.INFO) shows them on standard error",
                NettrainWarning,
                stacklevel=4,
            )
        return bool(value)

    def _log_epoch(self, iteration: int, record: dict) -> None:
        """One epoch's line, as MLPClassifier's verbose output ('Iteration 3, loss = ...')."""
        line = f"{type(self).__name__}: Iteration {iteration}, loss = {record['loss']:.8f}"
        if "val_loss" in record:
            line += f", val_loss = {record['val_loss']:.8f}"
            score = record.get("val_accuracy", record.get("val_r2"))
            if score is not None:
                line += f", validation score = {score:.6f}"
        LOG.info(line)

    def _partial_problem(self, config) -> str | None:
        """What in a config partial_fit cannot go on with, in the parameters' terms, or None.
        Each call is one epoch on the rows it is given, so nothing is held out of them and
        early stopping has no run to stop (MLPClassifier's partial_fit ignores early_stopping;
        here it is an error); a cosine schedule anneals over ``epochs``, which a sequence of
        calls does not have; 'balanced' class weights would be counted on each batch alone."""
        tc, dc = config.training, config.data
        if tc.early_stopping:
            return "early_stopping is set: partial_fit does no early stopping (set early_stopping=None)"
        if dc.validation:
            return (
                "validation is set: partial_fit holds no rows out of the batch it is given (set "
                "validation=None, and score your own validation rows with score(X_val, y_val))"
            )
        if dc.test:
            return "the config's data.test holds rows out: partial_fit holds no rows out of its batch"
        if tc.schedule == "cosine":
            return (
                "schedule='cosine' anneals over epochs, which a sequence of partial_fit calls does "
                "not have (use fit, or a step, exponential, invscaling or plateau schedule)"
            )
        if tc.class_weight == "balanced":
            return (
                "class_weight 'balanced' would weigh each batch's classes by that batch alone: give "
                "the config's training.class_weight the weights as a mapping {label: weight}"
            )
        return None

    def _check_partial(self, config, unkept: bool) -> None:
        """A ConfigError for parameters partial_fit cannot go on with, or (``unkept``) for an
        estimator whose last fit kept no run to go on with (it held out validation rows or
        stopped early, and the parameters have been changed since)."""
        who = type(self).__name__
        problem = self._partial_problem(config)
        if problem is not None:
            raise EstimatorConfigError(f"{who}: partial_fit: {problem}; or call fit")
        if unkept:
            raise EstimatorConfigError(
                f"{who}: partial_fit goes on with the run of the last fit, which kept none (it held "
                "out validation rows, stopped early, annealed a cosine schedule or weighed classes "
                "'balanced'): call fit again, or partial_fit an unfitted estimator (clone(...))"
            )

    def _partial_terms(self, line: str) -> str:
        """fit's refusal to resume (a parameter changed since the run began) in partial_fit's
        terms."""
        who = type(self).__name__
        if "--resume: the run state given to fit was written with a different config" in line:
            changed = line.split("(changed: ", 1)[1].split(")", 1)[0] if "(changed: " in line else "?"
            return (
                f"{who}: partial_fit goes on with the run of the earlier fit or partial_fit calls, "
                f"whose parameters differ from these (changed: {changed}); set them back, or call "
                "fit to start afresh"
            )
        return line.replace("--resume: the run state given to fit", f"{who}: partial_fit: the run").replace(
            "add --force to continue anyway", "call fit to start afresh"
        )

    def _warn(self, notes: list[str], summary: dict) -> None:
        """fit's notices as Python warnings, after a fit that succeeded (stacklevel: the caller of
        the estimator's fit). The two that echo what was asked for (class weights, the warm
        start) are not warnings; a training loss that ends above a constant prediction's, and
        early stopping that had not stopped when the epochs ran out, are ConvergenceWarnings
        (MLPClassifier's for max_iter reached before its tol criterion); the rest
        NettrainWarnings."""
        from .train import CLASS_WEIGHTS_NOTE, WARM_START_NOTE, WEIGHTED_SCORES_NOTE, WORSE_THAN_A_CONSTANT

        who = type(self).__name__
        for note in notes:
            # (scikit-learn weighs the validation score by sample_weight without a word)
            if note.startswith((CLASS_WEIGHTS_NOTE, WARM_START_NOTE, WEIGHTED_SCORES_NOTE)):
                continue
            kind: type[Warning] = NettrainWarning
            if note.startswith(WORSE_THAN_A_CONSTANT):
                kind = _convergence_warning()
                if self._kind == "regressor":  # (y unscaled, X scaled: the usual case of the two)
                    note += (
                        "; or X or y is unscaled (X: a StandardScaler in the Pipeline; y: a "
                        "TransformedTargetRegressor)"
                    )
                else:
                    note += "; or X is unscaled (a StandardScaler in the Pipeline)"
                note = (
                    note.replace("training.epochs (", "epochs (")
                    .replace("the learning rate (", "learning_rate (")
                    .replace("weighted by data.weight", "weighted by sample_weight")
                    .replace("and data.weight", "and sample_weight")
                )
            note = note.replace("set training.epochs", "set epochs=")
            warnings.warn(f"{who}: {note}", kind, stacklevel=4)
        if summary.get("stopped_early") is False:
            tc = self.config_.training
            es = tc.early_stopping
            warnings.warn(
                f"{who}: epochs ({tc.epochs}) reached and early stopping had not stopped training: "
                f"{es['monitor']} improved within the last {es['patience']} epochs; raise epochs=, or "
                "fit again with warm_start=True to go on",
                _convergence_warning(),
                stacklevel=4,
            )

    def _no_data_files(self, config) -> None:
        """A ConfigError for a ``config`` whose data.validation or data.test names a file: X and
        y are the data, and the file would not be read (its fractions are held out of X)."""
        who = type(self).__name__
        advice = {
            "validation": "give validation= the fraction of X to hold out (e.g. validation=0.1), or "
            "score your own validation rows with score(X_val, y_val)",
            "test": "give data.test a fraction of X to hold out and score (history_, model_.meta), "
            "or score your own test rows with score(X_test, y_test)",
        }
        problems = [
            config.problem(
                ("data", key),
                f"'{value}' is a file, which {who} does not read (X and y are the data): {advice[key]}",
            )
            for key in ("validation", "test")
            if isinstance(value := getattr(config.data, key), str)
        ]
        if config.data.weight is not None:  # (a column of a file: the weights are fit's argument)
            problems.append(
                config.problem(
                    ("data", "weight"),
                    f"'{config.data.weight}' is a column of a file, which {who} does not read (X and y "
                    "are the data): give the weights as fit(X, y, sample_weight=w)",
                )
            )
        if problems:
            raise EstimatorConfigError(problems)

    def _in_our_terms(self, line: str) -> str:
        """fit's config problem in the estimator's terms where it names a config key the
        estimator sets by a parameter: early stopping or a plateau schedule watching a val_*
        figure without validation data is set by validation=, not data.validation."""
        from .train import NEEDS_VALIDATION

        if NEEDS_VALIDATION not in line:
            return line
        if "training.schedule.monitor" in line:
            param, instead = "schedule", "schedule={'name': 'plateau', 'monitor': 'loss', ...}"
        else:
            param, instead = "early_stopping", "early_stopping={'monitor': 'loss', ...}"
        head = line.split(f" {NEEDS_VALIDATION}", 1)[0]
        head = head.replace(f"training.{param}.monitor:", f"{param} (training.{param}.monitor):", 1)
        return (
            f"{head} {NEEDS_VALIDATION}: set validation= (the fraction of X held out, e.g. "
            f"validation=0.1, MLPClassifier's validation_fraction), or watch the training loss: "
            f"{instead}"
        )

    def _diverged_advice(self, message: str) -> str:
        """fit's divergence message in the estimator's terms: its parameter, not --set, and
        the scaling nothing inside does (X and y are trained on as given)."""
        message = message.replace("--set training.learning_rate=", "learning_rate=")
        message = message.removesuffix("; nothing was written")
        scale = "a StandardScaler in the Pipeline"
        if self._kind == "regressor":
            scale += ", and y: a TransformedTargetRegressor"
        return f"{type(self).__name__}: {message}; or scale X ({scale})"

    def _named(self, data):
        return data

    def _outputs(self, X) -> np.ndarray:
        self._check_fitted()
        X = self._inputs(X, fitting=False)
        try:
            return self.model_.outputs(X)
        except DataError as exc:  # (a value too large for the model's dtype)
            raise EstimatorDataError(f"{type(self).__name__}: {exc}") from None


def _signature_without_unknown(init):
    """The constructor's signature without ``**unknown`` (which only words the TypeError of a
    name that is not a parameter): help() and scikit-learn's checks, which pass a value for
    every parameter in the signature, see the parameters only."""
    import inspect

    sig = inspect.signature(init)
    init.__signature__ = sig.replace(
        parameters=[p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
    )


_signature_without_unknown(_NettrainEstimator.__init__)


def _targets(estimator, y, n: int) -> np.ndarray:
    """y as an array of n rows; None is an error (the estimators are supervised)."""
    who = type(estimator).__name__
    if y is None:
        raise EstimatorDataError(f"{who} requires y to be passed, but the target y is None")
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != n:
        raise EstimatorDataError(f"{who}: X has {n} rows but y has shape {y.shape}; give one target per row")
    return y


def _labels(estimator, y: np.ndarray) -> np.ndarray:
    """A classifier's y (from ``_targets``) as one label per row (n,), checked the way
    scikit-learn checks a target (a column vector warns and is raveled)."""
    who = type(estimator).__name__
    if y.ndim == 2 and y.shape[1] == 1:
        _column_vector_warning(stacklevel=4)
        y = y[:, 0]
    if y.ndim != 1:
        raise EstimatorDataError(
            f"{who}: y must be one label per row (n,), not shape {y.shape} "
            "(several labels per row are not supported)"
        )
    if y.dtype.kind == "O" and not all(isinstance(v, str) for v in y):
        kinds = ", ".join(sorted({type(v).__name__ for v in y}))
        raise EstimatorDataError(
            f"{who}: Unknown label type: y holds objects ({kinds}); give labels "
            "of one type: numbers, strings or bools"
        )
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and np.all(y == np.round(y))):
        raise EstimatorDataError(
            f"{who}: Unknown label type: continuous: y holds values that are not "
            "whole numbers or are not finite; a classifier takes class labels (NettrainRegressor "
            "predicts numbers)"
        )
    if y.dtype.kind not in "biufUSO":
        raise EstimatorDataError(f"{who}: Unknown label type: y of dtype {y.dtype}")
    return y


def _values(estimator, y, n: int) -> np.ndarray:
    """A regressor's y as float64 (n,) or (n, outputs) of finite numbers, outputs >= 2: a column
    vector (n, 1) warns and is raveled, as MLPRegressor's (which then predicts (n,))."""
    who = type(estimator).__name__
    try:
        y = np.asarray(_targets(estimator, y, n), dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise EstimatorDataError(f"{who}: y must hold numbers ({exc})") from None
    if y.ndim == 2 and y.shape[1] == 1:
        _column_vector_warning(stacklevel=4)
        y = y[:, 0]
    if y.ndim not in (1, 2):
        raise EstimatorDataError(
            f"{who}: y must be (n,) or (n, outputs) with n = {n} rows of X, not shape {y.shape}"
        )
    if not np.isfinite(y).all():
        raise EstimatorDataError(f"{who}: Input y contains NaN or infinity")
    return y


def _sample_weight(estimator, sample_weight, n: int) -> np.ndarray | None:
    """fit's sample_weight as scikit-learn checks it (utils.validation._check_sample_weight): None
    stays None (unweighted); a number weighs every row alike; else one finite number >= 0 per
    row, not all 0, as float64 (a copy: the caller's array is never changed). A ValueError
    (EstimatorDataError) otherwise."""
    who = type(estimator).__name__
    if sample_weight is None:
        return None
    try:
        w = np.array(sample_weight, dtype=np.float64)  # (a copy)
    except (TypeError, ValueError) as exc:
        raise EstimatorDataError(f"{who}: sample_weight must hold numbers ({exc})") from None
    if w.ndim == 0:
        w = np.full(n, float(w))
    if w.ndim != 1:
        raise EstimatorDataError(f"{who}: Sample weights must be 1D array or scalar, not shape {w.shape}")
    if w.shape != (n,):
        raise EstimatorDataError(f"{who}: sample_weight.shape == {w.shape}, expected {(n,)}!")
    if not np.isfinite(w).all():
        raise EstimatorDataError(f"{who}: Input sample_weight contains NaN or infinity")
    if (w < 0).any():
        raise EstimatorDataError(f"{who}: Negative values in data passed to `sample_weight`")
    if not (w > 0).any():
        raise EstimatorDataError(f"{who}: Sample weights must contain at least one non-zero number")
    return w


def _column_vector_warning(stacklevel: int = 3) -> None:
    """scikit-learn's DataConversionWarning (a UserWarning) for a y of shape (n, 1)."""
    try:
        from sklearn.exceptions import DataConversionWarning as kind
    except ImportError:
        kind = UserWarning
    warnings.warn(
        "A column-vector y was passed when a 1d array was expected. Please change the shape of y "
        "to (n_samples, ), for example using ravel().",  # (scikit-learn's words, its space too)
        kind,
        stacklevel=stacklevel,
    )


def _feature_names(X) -> np.ndarray | None:
    """A DataFrame's column names (duck-typed: ``X.columns``), when every one is text; else None."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    if not names or not all(isinstance(n, str) for n in names):
        return None
    return np.asarray(names, dtype=object)


class NettrainClassifier(_NettrainEstimator):
    """A nettrain network as a scikit-learn classifier (softmax outputs, cross-entropy).

    Parameters (each None by default: the ``config``'s value, else nettrain's default; see
    README, "scikit-learn estimators", for the config key each one sets)
    ----------
    hidden_layers : tuple of ints, the hidden layer sizes (network.layers between the input and
        output sizes, which are the data's); default (100,), as MLPClassifier's.
    activation, init : network.activation, network.init.
    optimizer, learning_rate, epochs, batch_size, weight_decay, dropout, schedule,
    early_stopping : training.<the same name>.
    validation : data.validation, the fraction of the training rows held out (stratified).
    random_state : training.seed (an int); None: the config's seed, else 0 - nettrain is
        deterministic, so None is not a fresh random draw as in scikit-learn.
    warm_start : true: a fit of an estimator fitted already goes on from ``model_``'s weights
        (nettrain's fit(config, warm_start=model_)), with y of the same classes (outputs) and X
        of the same features, else a ValueError; the optimizer's state, the schedule, the
        shuffles and early stopping start afresh. None or False: every fit from fresh weights.
    dtype, device : as in a config ('float32', 'cpu', ...).
    verbose : true: each epoch's 'Iteration k, loss = ...' (MLPClassifier's line) as an INFO
        record of the logger 'nettrain.estimators' (the library never prints; the caller's
        logging setup shows it, e.g. logging.basicConfig(level=logging.INFO)).
    config : a YAML config file's path, or a dict of the same sections: the base that the
        parameters above override. Its data.train is not read (X and y are the data); its
        data.validation and data.test fractions are held out of X (the test rows scored into
        model_.meta), and a data.validation or data.test file is a ConfigError.

    Fitted attributes: ``classes_`` (np.unique(y)), ``n_features_in_``, ``feature_names_in_``
    (X with text ``columns``), ``model_`` (the nettrain Model, answering in these labels),
    ``config_`` (the Config trained), ``history_`` (one dict per epoch), ``n_iter_`` (epochs run),
    ``loss_curve_`` and, with validation, ``validation_loss_curve_``; ``coefs_`` and
    ``intercepts_`` (MLPClassifier's names) read the weights and biases from ``model_``;
    MLPClassifier's ``best_loss_`` (the lowest of loss_curve_; None when early stopping watches
    a validation figure), ``validation_scores_`` (each epoch's validation accuracy, R² for the
    regressor, weighted by the held-out rows' sample_weight as validation_loss_curve_ is; None
    without validation) and ``best_validation_score_`` (their highest, or None).

    ``partial_fit`` trains one epoch a call, going on with the run of the earlier calls (its
    optimizer state, schedule and shuffles), so k calls on the same rows are fit with k epochs.

    Two classes are two softmax outputs (cost cross_entropy), as any number of classes are; a
    config with ``cost: binary_cross_entropy`` makes them one sigmoid output instead.
    """

    _kind = "classifier"
    _estimator_type = "classifier"  # (scikit-learn before 1.6 reads this; later ones the tags)
    _default_cost = "cross_entropy"
    _metadata = {**_NettrainEstimator._metadata, "partial_fit": ("sample_weight", "classes")}

    def set_partial_fit_request(self, *, sample_weight=UNCHANGED, classes=UNCHANGED):
        """``set_fit_request`` for ``partial_fit``'s ``sample_weight`` and ``classes``."""
        return self._set_request("partial_fit", sample_weight=sample_weight, classes=classes)

    def fit(self, X, y, sample_weight=None):
        """Train on X (n, features) of numbers and y (n,) of labels (any type np.unique sorts:
        ints, strings, bools); with ``warm_start`` and fitted already, from the fitted weights
        (same classes and features). ``sample_weight`` (n,): each row's weight in the training
        cost, finite and >= 0, relative (normalized to a mean of 1, as data.weight), and the
        held-out rows' in their validation scores (validation_scores_, as MLPClassifier's); None:
        unweighted. Returns self."""
        warm = self._warm()
        self._forget()
        X = self._inputs(X, fitting=True)
        y = _labels(self, _targets(self, y, len(X)))
        sw = _sample_weight(self, sample_weight, len(X))
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise EstimatorDataError(
                f"{type(self).__name__}: y holds one class only ({_label_text(classes[0])!r}); "
                "classification needs two or more classes"
            )
        if sw is not None and len(np.unique(index[sw > 0])) < 2:
            raise EstimatorDataError(
                f"{type(self).__name__}: the rows with a sample_weight above 0 hold one class only "
                f"({_label_text(classes[index[sw > 0][0]])!r}); classification needs two or more classes"
            )
        cost = self._cost(len(classes))
        try:
            self._check_warm(warm, X.shape[1], "classes", None if warm is None else warm["classes_"], classes)
        except EstimatorDataError:
            self._forget()
            raise
        self.classes_ = classes
        self._train(X, index.reshape(-1), cost, warm, sample_weight=sw)
        return self

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over X and y (each row once, shuffled, in batches of ``batch_size``) that
        goes on with the run of the earlier fit or partial_fit calls: from their weights, the
        optimizer's state (momentum, Adam's moments and step count), the schedule's position
        and the shuffles' generator, as ``--resume`` goes on from a checkpoint. The first call
        on an unfitted estimator starts a run (epoch 1, fresh weights from ``random_state``).

        ``classes`` (all the labels y will ever hold, e.g. np.unique(y_all)) is required on the
        first call and may be left out after it (or after fit); a later batch may hold any of
        them, a label outside them is a ValueError. ``warm_start`` plays no part (partial_fit
        always goes on); ``early_stopping``, ``validation`` and a cosine schedule are
        ConfigErrors. A call that fails leaves a fitted estimator as it was. ``sample_weight``
        (n,): as fit's, normalized to a mean of 1 over this call's rows (scikit-learn's
        partial_fit divides each batch by its weights' sum). The arguments are in
        MLPClassifier.partial_fit's order. Returns self."""
        who = type(self).__name__
        first = getattr(self, "classes_", None) is None
        if first and classes is None:
            raise EstimatorDataError(f"{who}: classes must be passed on the first call to partial_fit.")
        try:
            if classes is not None:
                given = np.unique(_labels(self, np.asarray(classes).reshape(-1)))
                if not first and not np.array_equal(self.classes_, given):
                    raise EstimatorDataError(
                        f"{who}: `classes={classes!r}` is not the same as on last call to partial_fit, "
                        f"was: {self.classes_!r}"
                    )
                if len(given) < 2:
                    raise EstimatorDataError(
                        f"{who}: classes holds one class only ({_label_text(given[0])!r}); "
                        "classification needs two or more classes"
                    )
            known = given if first else self.classes_
            X = self._inputs(X, fitting=first)
            y = _labels(self, _targets(self, y, len(X)))
            sw = _sample_weight(self, sample_weight, len(X))
            if not np.isin(y, known).all():
                raise EstimatorDataError(
                    f"{who}: `y` has classes not in `self.classes_`. `self.classes_` has {known}. "
                    f"'y' has {np.unique(y)}."
                )
            cost = self._cost(len(known))
            index = np.searchsorted(known, y)
            # one-hot rows of all the classes, whichever of them this batch holds
            Y = np.eye(len(known))[index] if cost == "cross_entropy" else index
            self.classes_ = known
            self._train(X, Y, cost, partial=True, sample_weight=sw)
        except BaseException:
            if first:
                self._forget()
            raise
        return self

    def _named(self, data):
        """The data's classes named by these labels (not 0, 1, ...), so that model_ answers in
        them and training.class_weight names them as y does."""
        texts = [_label_text(c) for c in self.classes_]
        if len(set(texts)) != len(texts):  # two labels with one text: keep the class numbers
            return data
        numbers = self.classes_.dtype.kind in "iuf"
        return replace(data, encoding=replace(data.encoding, classes=texts, label_numbers=numbers))

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, classes), columns in the order of ``classes_``; float64, as
        scikit-learn's classifiers give for float64 X (and as the regressor's predict), whatever
        dtype the network computes in: a float32 network's values, exactly, in float64."""
        self._check_fitted()
        X = self._inputs(X, fitting=False)
        try:
            proba = self.model_.predict_proba(X)
        except DataError as exc:  # (a value too large for the model's dtype)
            raise EstimatorDataError(f"{type(self).__name__}: {exc}") from None
        return np.asarray(proba, dtype=np.float64)

    def predict_log_proba(self, X) -> np.ndarray:
        """The log of predict_proba."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """The predicted class of each row (n,), as labels of y's type (from ``classes_``)."""
        s = self._outputs(X)  # (first: before fit, NotFittedError)
        return self.classes_[self.model_.encoding.predicted_index(s)]

    def score(self, X, y, sample_weight=None) -> float:
        """Accuracy: the (weighted) fraction of rows predicted right."""
        right = self.predict(X) == np.asarray(y).reshape(-1)
        return float(np.average(right, weights=sample_weight))


class NettrainRegressor(_NettrainEstimator):
    """A nettrain network as a scikit-learn regressor (identity outputs, mean squared error).

    The parameters, ``config`` and fitted attributes are NettrainClassifier's (without
    ``classes_``; with ``n_outputs_``). y is (n,) or (n, outputs); predictions are (n,) for one
    output and (n, outputs) for several. A column vector y (n, 1) warns (scikit-learn's
    DataConversionWarning) and is taken as (n,), so it predicts (n,), as MLPRegressor.
    y is not standardized (as MLPRegressor): a TransformedTargetRegressor scales it.
    """

    _kind = "regressor"
    _estimator_type = "regressor"
    _default_cost = "mse"

    def set_partial_fit_request(self, *, sample_weight=UNCHANGED):
        """``set_fit_request`` for ``partial_fit``."""
        return self._set_request("partial_fit", sample_weight=sample_weight)

    def fit(self, X, y, sample_weight=None):
        """Train on X (n, features) and y (n,) or (n, outputs) of numbers; with ``warm_start``
        and fitted already, from the fitted weights (same features and outputs).
        ``sample_weight`` (n,): each row's weight in the training cost, finite and >= 0,
        relative (normalized to a mean of 1, as data.weight), and the held-out rows' in their
        validation scores (validation_scores_, as MLPRegressor's); None: unweighted. Returns
        self."""
        warm = self._warm()
        self._forget()
        X = self._inputs(X, fitting=True)
        y = _values(self, y, len(X))
        sw = _sample_weight(self, sample_weight, len(X))
        cost = self._cost()
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        try:
            self._check_warm(
                warm, X.shape[1], "outputs", None if warm is None else warm["n_outputs_"], n_outputs
            )
        except EstimatorDataError:
            self._forget()
            raise
        self.n_outputs_ = n_outputs
        self._train(X, y, cost, warm, sample_weight=sw)
        return self

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over X and y that goes on with the run of the earlier fit or partial_fit
        calls (NettrainClassifier.partial_fit says what goes on, and how ``sample_weight`` is
        taken); the first call on an unfitted estimator starts a run and fixes the number of
        features and outputs, which later calls must give. Returns self."""
        who = type(self).__name__
        first = not hasattr(self, "model_")
        try:
            X = self._inputs(X, fitting=first)
            y = _values(self, y, len(X))
            sw = _sample_weight(self, sample_weight, len(X))
            n_outputs = 1 if y.ndim == 1 else y.shape[1]
            if first:
                self.n_outputs_ = n_outputs
            elif n_outputs != self.n_outputs_:
                raise EstimatorDataError(
                    f"{who}: y has {n_outputs} outputs, but the fitted model predicts {self.n_outputs_}; "
                    "partial_fit goes on with the outputs of the first call (fit starts afresh)"
                )
            self._train(X, y, self._cost(), partial=True, sample_weight=sw)
        except BaseException:
            if first:
                self._forget()
            raise
        return self

    def predict(self, X) -> np.ndarray:
        """Predictions (n,) for one output (y (n,) or (n, 1), as MLPRegressor), else (n, outputs)."""
        s = self._outputs(X)  # (first: before fit, NotFittedError)
        values = self.model_.encoding.decode(s)
        return values.reshape(-1) if self.n_outputs_ == 1 else values.reshape(len(values), -1)

    def score(self, X, y, sample_weight=None) -> float:
        """R^2, 1 - SS_res / SS_tot, averaged over the outputs (scikit-learn's uniform average);
        a constant y scores 1 when predicted exactly, else 0."""
        pred = np.asarray(self.predict(X), dtype=np.float64).reshape(len(X), -1)
        y = np.asarray(y, dtype=np.float64).reshape(len(pred), -1)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        w = w.reshape(-1, 1)
        ss_res = (w * (y - pred) ** 2).sum(axis=0)
        ss_tot = (w * (y - np.average(y, axis=0, weights=w[:, 0])) ** 2).sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.where(ss_res == 0, 1.0, 0.0))
        return float(scores.mean())
