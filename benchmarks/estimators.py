"""NettrainClassifier and NettrainRegressor against MLPClassifier and MLPRegressor at matched settings.

    python benchmarks/estimators.py [--quick] [--seeds 5] [--epochs 50]

Each workload is one of scikit-learn's bundled data sets (no download), split once by
``train_test_split(test_size=0.25, random_state=0)``, stratified for a classifier, and scaled by
the same ``StandardScaler`` in a Pipeline on both sides (the regression target too, by a
``TransformedTargetRegressor`` with a StandardScaler). Both estimators get the same hidden
layer sizes, activation, optimizer (adam, lr 0.001, or plain sgd, lr 0.01), batch size, number
of epochs (``max_iter``), no weight decay (``alpha=0``), no early stopping and no stop on the
training loss (``tol=0``, ``n_iter_no_change`` past the epochs, so MLP* runs every epoch), and
each seed (``random_state``) on both sides. The weights start from the same distribution
(``init='sklearn'``), not the same numbers. What still differs: nettrain computes in float32 (its
default), scikit-learn in float64 (X's dtype), and the shuffles and initial weights come from
each library's own generator.

Reported per workload and estimator: the test accuracy (R² for the regression) as mean ± standard
deviation over the seeds, its min-max, and the median wall time of ``Pipeline.fit`` (the scaling
included), after one untimed fit of each. One BLAS thread, so the numbers repeat. Prints a Markdown table.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy loads its BLAS

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import machine_line  # noqa: E402  (benchmarks/common.py, beside this script)

#: (name, loader, task, hidden sizes, activation, optimizer, learning rate, batch size)
WORKLOADS = (
    ("digits", "load_digits", "classification", (64,), "relu", "adam", 0.001, 32),
    ("breast_cancer", "load_breast_cancer", "classification", (32,), "relu", "adam", 0.001, 32),
    ("wine", "load_wine", "classification", (16,), "tanh", "sgd", 0.01, 16),
    ("diabetes", "load_diabetes", "regression", (32,), "relu", "adam", 0.001, 32),
)
#: nettrain's activation names for MLP*'s
ACTIVATION = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "identity": "identity"}


def estimators(task: str, hidden, activation: str, optimizer: str, lr: float, batch: int, epochs: int):
    """{name: a function of the seed that makes the Pipeline} for nettrain and scikit-learn."""
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from nettrain import NettrainClassifier, NettrainRegressor

    classifier = task == "classification"
    ours = NettrainClassifier if classifier else NettrainRegressor
    theirs = MLPClassifier if classifier else MLPRegressor

    def wrap(estimator):
        pipe = make_pipeline(StandardScaler(), estimator)
        if classifier:
            return pipe
        return TransformedTargetRegressor(regressor=pipe, transformer=StandardScaler())

    def nettrain(seed: int):
        return wrap(
            ours(
                hidden_layers=hidden,
                activation=ACTIVATION[activation],
                optimizer=optimizer,
                learning_rate=lr,
                batch_size=batch,
                epochs=epochs,
                weight_decay=0.0,
                init="sklearn",
                random_state=seed,
            )
        )

    def sklearn(seed: int):
        return wrap(
            theirs(
                hidden_layer_sizes=hidden,
                activation=activation,
                solver=optimizer,
                learning_rate_init=lr,
                learning_rate="constant",
                momentum=0.0,  # (sgd: plain steps, as nettrain's sgd)
                batch_size=batch,
                max_iter=epochs,
                alpha=0.0,
                tol=0.0,
                n_iter_no_change=epochs + 1,
                early_stopping=False,
                shuffle=True,
                random_state=seed,
            )
        )

    return {"nettrain": nettrain, "scikit-learn": sklearn}


def measure(workload, seeds: int, epochs: int) -> list[tuple[str, list[float], list[float]]]:
    """[(estimator, test scores per seed, fit seconds per seed)] of one workload."""
    import sklearn.datasets
    from sklearn.model_selection import train_test_split

    name, loader, task, hidden, activation, optimizer, lr, batch = workload
    X, y = getattr(sklearn.datasets, loader)(return_X_y=True)
    split = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y if task == "classification" else None
    )
    X_train, X_test, y_train, y_test = split
    makers = estimators(task, hidden, activation, optimizer, lr, batch, epochs)
    results = {who: ([], []) for who in makers}
    for make in makers.values():  # one untimed fit each first (imports, caches)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make(0).fit(X_train, y_train)
    for seed in range(seeds):
        for who, make in makers.items():  # (interleaved, so that a busy moment hits both)
            model = make(seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (a ConvergenceWarning is what tol=0 asks for)
                t0 = time.perf_counter()
                model.fit(X_train, y_train)
                seconds = time.perf_counter() - t0
            results[who][0].append(model.score(X_test, y_test))
            results[who][1].append(seconds)
    return [(who, scores, times) for who, (scores, times) in results.items()]


def table(seeds: int, epochs: int, names: list[str]) -> str:
    rows = [
        "| data (train/test rows) | network, optimizer (lr), batch | estimator | test score, mean ± sd "
        f"over {seeds} seeds | min-max | fit time (median) |",
        "|---|---|---|---:|---:|---:|",
    ]
    import sklearn.datasets

    for workload in WORKLOADS:
        name, loader, task, hidden, activation, optimizer, lr, batch = workload
        if name not in names:
            continue
        n = len(getattr(sklearn.datasets, loader)(return_X_y=True)[1])
        n_test = -(-n // 4)
        metric = "accuracy" if task == "classification" else "R²"
        sizes = "-".join(str(h) for h in hidden)
        for who, scores, times in measure(workload, seeds, epochs):
            sd = statistics.stdev(scores) if len(scores) > 1 else 0.0
            rows.append(
                f"| {name} ({n - n_test}/{n_test}, {metric}) | {sizes} {activation}, {optimizer} ({lr:g}), "
                f"{batch} | {who} | {statistics.mean(scores):.4f} ± {sd:.4f} | {min(scores):.4f}-"
                f"{max(scores):.4f} | {statistics.median(times):.2f} s |"
            )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 5 epochs, two data sets (seconds)")
    parser.add_argument("--seeds", type=int, help="seeds per estimator (default 5, 2 with --quick)")
    parser.add_argument("--epochs", type=int, help="epochs = max_iter (default 50, 5 with --quick)")
    args = parser.parse_args(argv)
    seeds = args.seeds or (2 if args.quick else 5)
    epochs = args.epochs or (5 if args.quick else 50)
    if seeds < 1 or epochs < 1:
        parser.error("--seeds and --epochs must be at least 1")
    try:
        import sklearn.neural_network  # noqa: F401
    except ImportError as exc:
        missing = (exc.name or str(exc)).split(".")[0]
        parser.exit(
            2,
            f"Error: {missing} is not installed: this benchmark compares nettrain with scikit-learn: "
            'pip install -e ".[bench]"\n',
        )
    import sklearn

    names = ["breast_cancer", "diabetes"] if args.quick else [w[0] for w in WORKLOADS]
    print(
        f"{epochs} epochs (max_iter), no early stopping, no weight decay, init 'sklearn'; nettrain float32, "
        f"scikit-learn {sklearn.__version__} float64; {machine_line()}, one BLAS thread"
    )
    print()
    print(table(seeds, epochs, names))


if __name__ == "__main__":
    main()
