"""Write the Friedman #1 regression data set as train/test CSV files.

Writes ``regression_train.csv`` (2000 rows) and ``regression_test.csv``
(500 rows) next to this script, with header ``x1,...,x10,y`` and values
formatted ``%.6f``.

Source: generated here (NumPy only) from the Friedman #1 benchmark function
(J. Friedman, 1991, "Multivariate adaptive regression splines", Annals of
Statistics 19(1)):

    X ~ Uniform[0, 1]^10
    y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + eps,
    eps ~ N(0, 0.5)          (standard deviation 0.5)

Only x1..x5 affect y; x6..x10 are noise features. The generator is seeded
(``np.random.default_rng(0)``), so the output is deterministic. The first
2000 samples form the training file, the next 500 the test file.

Usage: python data/make_regression.py
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_TRAIN = 2000
N_TEST = 500
N_FEATURES = 10
NOISE_SD = 0.5


def friedman1(rng, n):
    X = rng.uniform(0.0, 1.0, size=(n, N_FEATURES))
    y = (
        10.0 * np.sin(np.pi * X[:, 0] * X[:, 1])
        + 20.0 * (X[:, 2] - 0.5) ** 2
        + 10.0 * X[:, 3]
        + 5.0 * X[:, 4]
        + rng.normal(0.0, NOISE_SD, size=n)
    )
    return X, y


def write_csv(path, X, y):
    header = ",".join([f"x{i + 1}" for i in range(N_FEATURES)] + ["y"])
    data = np.column_stack([X, y])
    lines = [header] + [",".join(f"{v:.6f}" for v in row) for row in data]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def main():
    rng = np.random.default_rng(0)
    X, y = friedman1(rng, N_TRAIN + N_TEST)
    write_csv(HERE / "regression_train.csv", X[:N_TRAIN], y[:N_TRAIN])
    write_csv(HERE / "regression_test.csv", X[N_TRAIN:], y[N_TRAIN:])
    print(f"wrote regression_train.csv ({N_TRAIN} rows), regression_test.csv ({N_TEST} rows)")


if __name__ == "__main__":
    main()
