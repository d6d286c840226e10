"""nettrain: fully-connected neural networks trained by backpropagation, from the command line.

The public Python API::

    from nettrain import load_config, fit, load_model
    result = fit(load_config("configs/digits.yaml"))
    model = load_model("runs/digits/model.npz")
    model.predict(X)
"""

__version__ = "0.1.0"

from .config import Config, config_from_dict, load_config  # noqa: E402
from .errors import (  # noqa: E402
    ConfigError,
    DataError,
    ModelFileError,
    NettrainError,
    TrainingDiverged,
)
from .gradcheck import gradcheck  # noqa: E402
from .modelfile import Model, load_model, save_model  # noqa: E402
from .network import Network  # noqa: E402
from .train import fit  # noqa: E402

__all__ = [
    "Config",
    "ConfigError",
    "DataError",
    "Model",
    "ModelFileError",
    "NettrainError",
    "Network",
    "TrainingDiverged",
    "__version__",
    "config_from_dict",
    "fit",
    "gradcheck",
    "load_config",
    "load_model",
    "save_model",
]
