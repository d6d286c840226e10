"""The careful CSV reader's NumPy split of chunks without quotes (``_CsvChunks._plain``) reads
every file as the csv module does (the same cells, text widths, file lines, and the same error
where a file has one), and ``parse_numbers``' faster steps (``_missing_stripped``, ``_floats``)
give what the steps they replaced gave."""

from __future__ import annotations

import csv
import itertools
import random
import tracemalloc

import numpy as np
import pytest

from nettrain.data import read
from nettrain.data.read import MISSING, is_missing, parse_numbers, read_table, read_table_chunks
from nettrain.errors import DataError


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def _outcome(path, chunks: bool, **kwargs):
    """The tables read (or the error), as comparable values."""
    try:
        tables = list(read_table_chunks(path, **kwargs)) if chunks else [read_table(path, **kwargs)]
    except DataError as exc:
        return ("error", str(exc))
    out = []
    for t in tables:
        cells = [(c.dtype.str, c.tolist()) for c in t.cells] if t.is_text else ("float", t.cells.tolist())
        y = None if t.y is None else (t.y.dtype.str, t.y.tolist())
        out.append((t.features, cells, y, t.target, t.lines.dtype.str, t.lines.tolist(), t.named, t.part))
    return out


def both_ways(monkeypatch, path, chunks: bool = False, **kwargs):
    """(read with the NumPy split, read with the csv module only, whether the split was used)."""
    used = []
    plain = read._CsvChunks._plain

    def spy(self, raw, first):
        records = plain(self, raw, first)
        used.append(records is not None)
        return records

    with monkeypatch.context() as m:
        m.setattr(read._CsvChunks, "_plain", spy)
        new = _outcome(path, chunks, **kwargs)
    with monkeypatch.context() as m:
        m.setattr(read._CsvChunks, "_plain", lambda self, raw, first: None)
        old = _outcome(path, chunks, **kwargs)
    return new, old, any(used)


# (file text, whether the NumPy split reads it: False where the csv module must)
CASES = {
    "text column": ("a,b,color,y\n1,2,red,0.5\n3,4,blue,1.5\n", True),
    "missing cells": ("a,b,y\n1,,0.5\nNA,4,1\n n/a ,?,2\nnull,None,3\n-nan,+NaN,4\n", True),
    "CRLF": ("a,b,y\r\n1,x,0.5\r\n3,,1.5\r\n", True),
    "mixed line ends": ("a,b,y\r\n1,x,0.5\n3,,1.5\r\n4,z,2\n", True),
    "CRLF, empty last cell": ("a,b,y\r\n1,x,\r\n3,y,\r\n", True),
    "CRLF, the last column a feature": ("y,a,b\r\n0.5,1,x\r\n1.5,3,\r\n2,4,yz\r\n", True),
    "BOM": ("\ufeffa,b,y\n1,x,0.5\n", True),
    "no final line end": ("a,b,y\n1,x,0.5\n2,y,1", True),
    "no final line end, CRLF": ("a,b,y\r\n1,x,0.5\r\n2,y,1", True),
    "blanks around cells": ("a , b ,y\n 1 , x , 0.5 \n\t2\t,\ty\t,1\n", True),
    "non-ASCII text": ("a,name,y\n1,café,0.5\n2,日本,1\n3,ab,2\n", True),
    "non-ASCII header": ("größe,farbe,y\n1,rot,0.5\n2,grün,1\n", True),
    "an empty column": ("a,b,y\n1,,0.5\n2,,1\n", True),
    "a long cell beside short ones": ("a,note,y\n1," + "x" * 40 + ",0.5\n2,,1\n3,ab,2\n", True),
    "only long cells": ("a,b,y\n" + "p" * 30 + "," + "q" * 50 + ",1\n", True),
    "semicolons, decimal commas": ("a;b;y\n1,5;x;0,25\n2;y;-1,5\n", True),
    "tabs": ("a\tb\ty\n1\tx\t0.5\n2\t\t1\n", True),
    "pipes": ("a|b|y\n1|x|0.5\n2|NA|1\n", True),
    "quotes": ('a,b,y\n1,"x,1",0.5\n2,y,1\n', False),
    "a blank line": ("a,b,y\n1,x,0.5\n\n2,y,1\n", False),
    "a blank line first": ("\na,b,y\n1,x,0.5\n", False),
    "a line of blanks": ("a,b,y\n1,x,0.5\n   \n2,y,1\n", False),
    "a bare CR": ("a,b,y\r1,x,0.5\r2,y,1\r", False),
    "a CR inside a line": ("a,b,y\n1,x\ry,0.5\n", False),
    "a row a field short": ("a,b,y\n1,x,0.5\n2,1\n3,z,1\n", False),
    "a row a field long": ("a,b,y\n1,x,0.5\n2,y,1,9\n", False),
    "a short row beside a long one": ("a,b,y\n1,x\n2,y,1,9\n", False),
    "only a header": ("a,b,y\n", False),
    "one column": ("y\nx\n1\n", False),
    "an empty column name": ("a,,y\n1,x,0.5\n", True),
    "a repeated column name": ("a,a,y\n1,x,0.5\n", True),
    "a numeric header, repeated": ("1,1,2\n1,x,0.5\n", True),
    "no target column": ("a,b,c\n1,x,0.5\n", True),
    "a bad number in a numeric column": ("a,b,y\n1,x,0.5\n2,y,oops\n", True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_numpy_split_reads_each_file_as_the_csv_module(monkeypatch, tmp_path, name):
    text, plain = CASES[name]
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("utf-8"))
    target = "nope" if name == "no target column" else "y"
    new, old, used = both_ways(monkeypatch, str(path), target=target)
    assert new == old
    assert used == plain  # (each case tests the path it was written for)


@pytest.mark.parametrize("header", [True, False])
def test_without_a_header_and_with_text_columns(monkeypatch, tmp_path, header):
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n1,02134,0.5\n2,NA,1\n" if header else "1,02134,0.5\n2,NA,1\n")
    for kwargs in ({"header": header}, {"header": header, "need_target": False}):
        new, old, used = both_ways(monkeypatch, str(path), target=None, text_columns=("b", "1"), **kwargs)
        assert new == old and used
        assert "02134" in str(new)


def test_the_csv_modules_field_limit_is_kept(monkeypatch, tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b,y\n1,xxxxxxxxxxx,0.5\n2,y,1\n")  # (11 characters: over)
    limit = csv.field_size_limit(10)
    try:
        new, old, used = both_ways(monkeypatch, str(path))
    finally:
        csv.field_size_limit(limit)
    assert new == old and not used
    assert new[0] == "error" and "field larger than field limit" in new[1]


def _random_csv(rng: random.Random, rows: int) -> tuple[str, str]:
    words = ["", "NA", " na ", "?", "red", "blue", "café", "1", "-2.5", "3e4", "x" * 30, "inf", " 7 "]
    cols = rng.randint(2, 6)
    d = rng.choice([",", ";", "\t"])
    end = rng.choice(["\n", "\r\n"])
    lines = [d.join(f"c{j}" for j in range(cols))]
    for _ in range(rows):
        target = rng.choice(["0", "1", "2.5" if d == "," else "2,5"])
        lines.append(d.join(rng.choice(words) for _ in range(cols - 1)) + d + target)
    return end.join(lines) + rng.choice([end, ""]), d


@pytest.mark.parametrize("seed", range(12))
def test_random_files_read_the_same_whole_and_in_chunks(monkeypatch, tmp_path, seed):
    """Chunks of a few lines, blocks of a few bytes: every chunk and block boundary."""
    rng = random.Random(seed)
    path = tmp_path / "data.csv"
    text, d = _random_csv(rng, rng.randint(1, 40))
    path.write_bytes(text.encode("utf-8"))
    monkeypatch.setattr(read, "_PLAIN_BLOCK_BYTES", rng.choice([1, 7, 40, 1 << 20]))
    monkeypatch.setattr(read, "_PLAIN_NARROW", rng.choice([0, 2, 24]))
    target = rng.choice(["c0", None])  # (the first column: the last one a feature)
    new, old, used = both_ways(monkeypatch, str(path), delimiter=d, target=target)
    assert new == old and used
    monkeypatch.setattr(read, "CHUNK_LINES", rng.choice([16, 48]))
    new, old, used = both_ways(monkeypatch, str(path), chunks=True, delimiter=d, target=target)
    assert new == old and used


# -- parse_numbers' steps ---------------------------------------------------------------------------


def _old_is_missing(cells):
    text = np.char.strip(cells)
    short = np.char.str_len(text) <= max(map(len, MISSING))
    missing = np.zeros(text.shape, dtype=bool)
    missing[short] = np.isin(np.char.lower(text[short]), list(MISSING))
    return missing


ATOMS = ["1", "0", "9", ".", "e", "E", "+", "-", "inf", "nan", "Infinity", "x", " ", "\t", ",", "_"]
ATOMS += ["1e308", "1e-400", "0x1", "NA", "n/a", "?", "null", "None", "é", "١", "\x1c", "\u3000", "İ"]


def _cells() -> list[str]:
    rng = random.Random(0)
    cells = {a + b for a, b in itertools.product(ATOMS, repeat=2)}
    cells |= {"".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 5))) for _ in range(20000)}
    return sorted(cells | {"", "   ", "-NaN", "+nan", "NONE", " NuLl "})


def test_is_missing_is_what_it_was():
    cells = np.array(_cells())
    assert is_missing(cells).tolist() == _old_is_missing(cells).tolist()
    assert is_missing(cells).sum() > 20  # (the spellings are among them)
    for part in (cells[:0], cells[:1], np.array(["", ""]), np.array(["1", "-2"])):
        assert is_missing(part).tolist() == _old_is_missing(part).tolist()
    grid = cells[:100].reshape(10, 10)  # (not 1-D: the general way)
    assert is_missing(grid).tolist() == _old_is_missing(grid).tolist()


def test_floats_are_what_astype_gave():
    ok = 0
    for cell in _cells():
        text = np.char.strip(np.array([cell, "1.5"]))
        try:
            want = text.astype(np.float64)
        except ValueError:
            with pytest.raises(ValueError):
                read._floats(text)
            continue
        assert read._floats(text).tobytes() == want.tobytes(), cell
        ok += 1
    assert ok > 100


def test_parse_numbers_is_what_it_was():
    """Values, the missing mask, and the error naming the first bad cell."""

    class Where:
        def where(self, i):
            return f"line {i}"

    for cell in _cells():
        cells = np.array(["1", cell, "NA", cell])
        missing = _old_is_missing(cells)
        text = np.where(missing, "nan", np.char.strip(cells))
        try:
            if not all(c.isascii() and "_" not in c for c in text.tolist()):
                raise ValueError
            want = text.astype(np.float64)
            assert np.isfinite(want[~missing]).all()
        except (ValueError, AssertionError):
            with pytest.raises(DataError, match="line 1: column 'c' holds"):
                parse_numbers(cells, "c", Where())
            continue
        values, got_missing = parse_numbers(cells, "c", Where())
        assert values.tobytes() == want.tobytes() and got_missing.tolist() == missing.tolist()


def split_with_peak(raw: bytes, width: int, parts) -> tuple[int, int]:
    """read._plain_columns of the whole of ``raw`` into ``parts``: (its rows, the peak of the
    memory it allocated, by tracemalloc)."""
    tracemalloc.start()
    try:
        n = read._plain_columns(raw, 0, len(raw), ",", width, csv.field_size_limit(), parts)
        return n, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_narrow_columns_are_gathered_with_those_of_about_their_width():
    """A column of 24-character cells beside 100 of one character: the one-character columns'
    windows are not 24 bytes each (the peak was about 93 bytes a cell so, 47 in groups of widths
    1, 2, 3-4, ...; the index arrays take about 40)."""
    rows = 4000
    raw = ("\n".join(",".join(["1"] * 100 + ["x" * 24]) for _ in range(rows)) + "\n").encode()
    parts: list[list[np.ndarray]] = [[] for _ in range(101)]
    n, peak = split_with_peak(raw, 101, parts)
    assert n == rows and [p[0].dtype.str for p in parts] == ["<U1"] * 100 + ["<U24"]
    assert peak < 64 * rows * 101


@pytest.mark.parametrize("cell", ["x" * 5000, "é" * 2500], ids=["ASCII", "non-ASCII"])
def test_a_long_cell_takes_room_for_its_rows_not_its_width_squared(cell):
    """One cell of 5,000 bytes among three rows: its column's cells are zeroed past their ends
    without a 5,001 x 5,000 table of 1s and 0s (50 MB; 10 GB for a cell of 100,000 characters,
    which a 100-row file of such a column took and was killed for)."""
    raw = f"1,{cell}\n2,ab\n3,\n".encode()
    parts: list[list[np.ndarray]] = [[], []]
    n, peak = split_with_peak(raw, 2, parts)
    assert n == 3 and parts[1][0].tolist() == [cell, "ab", ""] and parts[0][0].tolist() == ["1", "2", "3"]
    assert peak < 1024 * 1024


def test_a_wide_column_zeroed_a_slab_of_rows_at_a_time_reads_as_the_csv_module(monkeypatch):
    """Slabs of a few rows (cells past 24 bytes, of other lengths, ASCII or not) read the same."""
    monkeypatch.setattr(read, "_PLAIN_SLAB_BYTES", 64)
    rng = random.Random(3)
    for letters in ("abc", "aé日"):
        rows = ["".join(rng.choice(letters) for _ in range(rng.randint(0, 90))) for _ in range(50)]
        with open("f.csv", "w", encoding="utf-8") as f:
            f.write("a,note,y\n" + "".join(f"{i},{r},{i % 3}\n" for i, r in enumerate(rows)))
        new, old, used = both_ways(monkeypatch, "f.csv")
        assert used and new == old


def test_a_wide_non_ascii_column_is_decoded_into_its_text_array_a_slab_at_a_time(monkeypatch):
    """A column of long non-ASCII cells: its bytes are decoded a slab of rows at a time into
    one text array as wide as its longest cell in characters, so that the peak is about that
    array (its bytes and a decoded copy of the whole column came on top of it before)."""
    monkeypatch.setattr(read, "_PLAIN_SLAB_BYTES", 16 * 1024)
    rows = 400
    cells = ["é" * 500, "日本" * 10, "abc", ""] * (rows // 4)
    raw = "".join(f"{i},{c}\n" for i, c in enumerate(cells)).encode()
    read._plain_columns(raw, 0, len(raw), ",", 2, csv.field_size_limit(), [[], []])  # (imports done)
    parts: list[list[np.ndarray]] = [[], []]
    n, peak = split_with_peak(raw, 2, parts)
    column = parts[1][0]
    assert n == rows and column.dtype.str == "<U500" and column.tolist() == cells
    assert peak < 1.6 * column.nbytes  # (1.4 times; 2.2 times before)
