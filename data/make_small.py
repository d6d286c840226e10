"""Write the two tiny data sets: ``seed.csv`` and ``xor.csv``.

Both files are written next to this script.

``seed.csv`` -- data for the classic 4-2-2-1 network of the backpropagation
derivation (4 inputs, two hidden layers of 2 sigmoid units, one linear
output, mean squared error). 200 rows, header ``x1,x2,x3,x4,y``. Generated
here: X ~ Uniform[-1, 1]^4 from ``np.random.default_rng(0)`` and the smooth
target

    y = 0.5 * tanh(x1 + x2 - x3) + 0.3 * x4

(no noise); all values rounded to 6 decimals (``%.6f``).

``xor.csv`` -- the 4-row XOR truth table, header ``x1,x2,label``.

Deterministic: running the script twice gives identical files.

Usage: python data/make_small.py
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
N_SEED = 200


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def make_seed():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, size=(N_SEED, 4))
    y = 0.5 * np.tanh(X[:, 0] + X[:, 1] - X[:, 2]) + 0.3 * X[:, 3]
    data = np.column_stack([X, y])
    lines = ["x1,x2,x3,x4,y"] + [",".join(f"{v:.6f}" for v in row) for row in data]
    write_lines(HERE / "seed.csv", lines)


def make_xor():
    lines = ["x1,x2,label", "0,0,0", "0,1,1", "1,0,1", "1,1,0"]
    write_lines(HERE / "xor.csv", lines)


def main():
    make_seed()
    make_xor()
    print(f"wrote seed.csv ({N_SEED} rows), xor.csv (4 rows)")


if __name__ == "__main__":
    main()
