"""Write the 8x8 handwritten-digits data set as train/test CSV files.

Writes ``digits_train.csv`` (1347 rows) and ``digits_test.csv`` (450 rows)
next to this script. Each file has a header row with the 64 pixel columns
``pixel_0_0`` ... ``pixel_7_7`` (integers 0..16) followed by ``label``
(the digit, 0..9) as the last column.

Source: scikit-learn's bundled copy of the UCI "Optical Recognition of
Handwritten Digits" data (test set, 1797 images; E. Alpaydin & C. Kaynak,
1998; CC BY 4.0), loaded with ``sklearn.datasets.load_digits()`` -- no
download. The split is stratified and shuffled with a fixed seed
(``train_test_split(test_size=0.25, stratify=y, random_state=0)``), so the
output is deterministic.

Usage: python data/make_digits.py
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent


def write_csv(path, X, y, header):
    lines = [",".join(header)]
    for row, label in zip(X, y):
        lines.append(",".join(str(int(v)) for v in row) + f",{int(label)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def main():
    digits = load_digits()
    X = digits.data
    y = digits.target
    # Pixel values are integers 0..16 stored as floats; check before casting.
    assert np.array_equal(X, np.round(X)) and X.min() >= 0 and X.max() <= 16
    header = list(digits.feature_names) + ["label"]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    write_csv(HERE / "digits_train.csv", X_tr, y_tr, header)
    write_csv(HERE / "digits_test.csv", X_te, y_te, header)
    print(f"wrote digits_train.csv ({len(y_tr)} rows), digits_test.csv ({len(y_te)} rows)")


if __name__ == "__main__":
    main()
