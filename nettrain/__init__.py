"""nettrain: fully-connected neural networks trained by backpropagation, from the command line.

The public Python API::

    from nettrain import load_config, fit, load_model
    result = fit(load_config("configs/digits.yaml"))
    model = load_model("runs/digits/model.npz")
    model.predict(X)

Names are imported on first use (PEP 562), so that ``nettrain --help`` does not pay for NumPy.
The gradient check is ``nettrain.gradcheck.gradcheck`` (a package attribute of that name would be
the submodule or the function depending on import order).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "Config": "config",
    "config_from_dict": "config",
    "load_config": "config",
    "BackendError": "errors",
    "ConfigError": "errors",
    "DataError": "errors",
    "ModelFileError": "errors",
    "NettrainError": "errors",
    "OutputError": "errors",
    "TrainingDiverged": "errors",
    "Interrupted": "errors",
    "CVResult": "crossval",
    "cross_validate": "crossval",
    "NettrainClassifier": "estimators",
    "NettrainRegressor": "estimators",
    "RunData": "data",
    "read_table": "data",
    "Model": "modelfile",
    "load_model": "modelfile",
    "save_model": "modelfile",
    "Network": "network",
    "FitResult": "train",
    "fit": "train",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nettrain' has no attribute '{name}'")
    value = getattr(importlib.import_module(f"nettrain.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return __all__
