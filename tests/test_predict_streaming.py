"""predict and evaluate read their input a chunk at a time (read.read_table_chunks): the output
must be the same bytes as when the whole input is one chunk, for every format, option and kind of
input; an error names the file's own line in whatever chunk it is; under -o nothing is written;
a slow producer's rows are answered before its input ends.

The chunk size is the module constant read.CHUNK_LINES (the first chunk a sixteenth of it),
set small here so that a few hundred rows make many chunks.
"""

from __future__ import annotations

import csv
import io
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nettrain import load_model
from nettrain.data import read, read_for_model, read_table, read_table_chunks
from tests.conftest import DATA, ROOT
from tests.helpers import animals, error_line, ok, read_csv, run, subprocess_env, write_config

#: Chunk sizes tried (CHUNK_LINES): first chunks of 1, 3 and 6 lines, then 16, 48 and 100.
SIZES = (16, 48, 100)
WHOLE = 1 << 20


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Messages name data files relative to the current directory."""
    monkeypatch.chdir(tmp_path)


def streamed_like_whole(monkeypatch, *args, input=None):
    """Run ``nettrain ARGS`` with the input in one chunk, then in chunks of each of SIZES lines:
    every run must give the same exit code, stdout bytes and stderr. Returns the one-chunk run."""
    monkeypatch.setattr(read, "CHUNK_LINES", WHOLE)
    whole = run(*args, input=input)
    for size in SIZES:
        monkeypatch.setattr(read, "CHUNK_LINES", size)
        r = run(*args, input=input)
        assert r.exit_code == whole.exit_code, (size, r.stderr, whole.stderr)
        assert r.stdout_bytes == whole.stdout_bytes, size
        assert r.stderr == whole.stderr, size
    return whole


def csv_text(header, rows, newline="\n", bom=False, blank_after=(), tail="") -> bytes:
    """A CSV file's bytes (quoting as needed), with blank lines after the rows ``blank_after``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    if header is not None:
        w.writerow(header)
    for i, row in enumerate(rows):
        w.writerow(row)
        if i in blank_after:
            buf.write(newline)
    return (b"\xef\xbb\xbf" if bom else b"") + (buf.getvalue() + tail).encode("utf-8")


NOTES = ["plain", "a, comma", 'say "hi"', "two\nlines", "three\nshort\nlines", "", "x\r\ny"]


def animal_input(n=230, seed=1):
    """Rows for the animals model with an id and a free-text note around its columns: the note
    is quoted, with commas, quotes and line breaks inside (records over 2 and 3 lines)."""
    _, rows = animals(n, seed)
    header = ["id", "size", "color", "weight", "note", "label"]
    out = [[f"{i:05d}", *r[:3], NOTES[i % len(NOTES)], r[3]] for i, r in enumerate(rows)]
    return header, out


@pytest.fixture(scope="module")
def animals_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("animals")
    header, rows = animals()
    (folder / "train.csv").write_bytes(csv_text(header, rows))
    cfg = write_config(folder / "c.yaml", "train.csv", [5, 8, 2], target="label", training={"epochs": 3})
    ok(run("fit", cfg, "--quiet", "-o", folder / "run"))
    return folder / "run"


@pytest.fixture(scope="module")
def animals_drop_model(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("animals_drop")
    header, rows = animals()
    (folder / "train.csv").write_bytes(csv_text(header, rows))
    cfg = write_config(
        folder / "c.yaml", "train.csv", [5, 8, 2], target="label", missing="drop", training={"epochs": 3}
    )
    ok(run("fit", cfg, "--quiet", "-o", folder / "run"))
    return folder / "run"


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory) -> Path:
    """Regression on data/seed.csv (x1..x4 -> y), float64: 17 significant digits written."""
    folder = tmp_path_factory.mktemp("seed")
    cfg = write_config(folder / "c.yaml", DATA / "seed.csv", [4, 6, 1], cost="mse", target="y")
    ok(
        run(
            "fit",
            cfg,
            "--quiet",
            "-o",
            folder / "run",
            "--set",
            "training.epochs=3",
            "--set",
            "dtype=float64",
        )
    )
    return folder / "run"


@pytest.fixture(scope="module")
def array_model(tmp_path_factory) -> Path:
    """Trained on an .npy matrix (seed.csv's numbers): inputs are matched by position."""
    folder = tmp_path_factory.mktemp("array")
    np.save(folder / "train.npy", np.loadtxt(DATA / "seed.csv", delimiter=",", skiprows=1))
    cfg = write_config(folder / "c.yaml", "train.npy", [4, 6, 1], cost="mse", training={"epochs": 3})
    ok(run("fit", cfg, "--quiet", "-o", folder / "run"))
    return folder / "run"


def seed_rows() -> tuple[list[str], list[list[str]]]:
    header, *rows = (DATA / "seed.csv").read_text().splitlines()
    return header.split(","), [r.split(",") for r in rows]


# -- the same output, chunk by chunk ----------------------------------------------------------------


@pytest.mark.parametrize(("newline", "bom"), [("\n", False), ("\r\n", True)], ids=["LF", "CRLF+BOM"])
@pytest.mark.parametrize(
    "flags",
    [[], ["--proba"], ["-f", "jsonl", "--proba", "--keep", "id"], ["--keep", "id"], ["-f", "npy", "--proba"]],
    ids=["csv", "proba", "jsonl-keep", "keep", "npy"],
)
def test_careful_csv_streams_as_it_reads_whole(animals_model, monkeypatch, newline, bom, flags):
    """Quoted fields over several lines (some across a chunk's end), blank lines, categories:
    the careful reader, chunk by chunk."""
    header, rows = animal_input()
    Path("in.csv").write_bytes(
        csv_text(header, rows, newline, bom, blank_after={0, 37, 38, 101}, tail=newline)
    )
    whole = streamed_like_whole(monkeypatch, "predict", animals_model, "in.csv", *flags)
    assert whole.exit_code == 0, whole.stderr
    if "npy" not in flags:
        assert len(whole.stdout.splitlines()) == len(rows) + (0 if "jsonl" in flags else 1)
    # standard input gives the same
    piped = streamed_like_whole(
        monkeypatch, "predict", animals_model, "-", *flags, input=Path("in.csv").read_bytes()
    )
    assert piped.stdout_bytes == whole.stdout_bytes


def test_streamed_labels_are_the_whole_file_readers(animals_model, monkeypatch):
    """The chunked output against the library's whole-file path (read_for_model, outputs_kept)."""
    header, rows = animal_input()
    Path("in.csv").write_bytes(csv_text(header, rows, blank_after={5, 50}))
    monkeypatch.setattr(read, "CHUNK_LINES", 16)
    got = [row[0] for row in read_csv(ok(run("predict", animals_model, "in.csv")).stdout)[1:]]
    m = load_model(animals_model)
    s, kept = m.outputs_kept(read_for_model("in.csv", m.encoding, need_target=False))
    assert kept.all() and got == [str(v) for v in m.encoding.decode(s)]


@pytest.mark.parametrize(
    ("newline", "bom", "blank_after"),
    [("\n", False, ()), ("\r\n", True, ()), ("\n", False, {0, 60, 61, 199})],
    ids=["LF", "CRLF+BOM", "blank-lines"],
)
@pytest.mark.parametrize(
    "flags", [[], ["-f", "jsonl"], ["-f", "npy"], ["--keep", "id"]], ids=["csv", "jsonl", "npy", "keep"]
)
def test_numeric_csv_streams_as_it_reads_whole(seed_model, monkeypatch, newline, bom, blank_after, flags):
    """A clean numeric CSV (the fast path; the careful reader for chunks with blank lines),
    columns in another order than training's, an id and the target left aside."""
    header, rows = seed_rows()
    order = [4, 2, 0, 3, 1]
    rows = [[f"r{i}", *(r[j] for j in order)] for i, r in enumerate(rows)]
    text = csv_text(["id", *(header[j] for j in order)], rows, newline, bom, blank_after=blank_after)
    Path("in.csv").write_bytes(text)
    whole = streamed_like_whole(monkeypatch, "predict", seed_model, "in.csv", *flags)
    assert whole.exit_code == 0, whole.stderr


def test_missing_drop_streams_with_one_note_of_the_totals(animals_drop_model, monkeypatch):
    header, rows = animal_input()
    for i in (3, 20, 21, 90, 170):
        rows[i][1 + i % 3] = "NA" if i % 2 else ""
    Path("in.csv").write_bytes(csv_text(header, rows))
    for flags in ([], ["--proba"], ["-f", "jsonl"], ["-f", "npy"]):
        r = streamed_like_whole(monkeypatch, "predict", animals_drop_model, "in.csv", *flags)
        assert r.exit_code == 0
        assert r.stderr.count("Note: ") == 1 and "Note: 5 of 230 rows have missing values" in r.stderr
    got = read_csv(run("predict", animals_drop_model, "in.csv").stdout)
    assert [got[1 + i][0] for i in (3, 20, 21, 90, 170)] == [""] * 5


@pytest.mark.parametrize(
    "first",
    [None, ["x1", "x2", "x3", "x4", "y"], ["0", "1", "2", "3", "4"]],
    ids=["no-header", "header", "positions-header"],
)
def test_array_model_csv_header_row_only_at_the_start(array_model, monkeypatch, first):
    """A model trained on an array reads a CSV by position; its first row may be a header row,
    whichever chunk sizes: the first chunk of one line (the header alone) reads on to know."""
    _, rows = seed_rows()
    Path("in.csv").write_bytes(csv_text(first, rows))
    whole = streamed_like_whole(monkeypatch, "predict", array_model, "in.csv")
    assert whole.exit_code == 0, whole.stderr
    assert len(whole.stdout.splitlines()) == len(rows) + 1
    # a row of positions later in the file is data, never a header
    Path("mid.csv").write_bytes(csv_text(first, [*rows[:40], ["0", "1", "2", "3", "4"], *rows[40:]]))
    mid = streamed_like_whole(monkeypatch, "predict", array_model, "mid.csv")
    assert len(mid.stdout.splitlines()) == len(rows) + 2


def test_array_model_one_row_file(array_model, monkeypatch):
    """A file of one row is data, even one that could be a header row (the positions): the
    first chunk's only row, and no row follows."""
    Path("one.csv").write_text("0,1,2,3,4\n")
    r = streamed_like_whole(monkeypatch, "predict", array_model, "one.csv")
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 2


@pytest.mark.parametrize("kind", ["npy", "npz", "npy-stdin"])
def test_arrays_stream_as_they_read_whole(array_model, monkeypatch, kind):
    X = np.loadtxt(DATA / "seed.csv", delimiter=",", skiprows=1)
    if kind == "npz":
        np.savez("in.npz", X=X[:, :4], y=X[:, 4])
        path = "in.npz"
    else:
        np.save("in.npy", X.astype(np.float32))
        path = "in.npy"
    args = ("predict", array_model, "-" if kind == "npy-stdin" else path)
    data = Path(path).read_bytes() if kind == "npy-stdin" else None
    for flags in ([], ["-f", "npy"], ["-f", "jsonl"]):
        r = streamed_like_whole(monkeypatch, *args, *flags, input=data)
        assert r.exit_code == 0, r.stderr


def test_evaluate_streams_to_the_same_scores(animals_drop_model, seed_model, monkeypatch):
    header, rows = animal_input()
    rows[7][1] = "NA"
    Path("a.csv").write_bytes(csv_text(header, rows, blank_after={9, 99}))
    r = streamed_like_whole(monkeypatch, "evaluate", animals_drop_model, "a.csv", "--json")
    report = json.loads(r.stdout)
    assert report["n"] == 229 and report["rows_left_out"] == 1
    assert "Note: left out 1 of 230 rows" in r.stderr
    r = streamed_like_whole(monkeypatch, "evaluate", seed_model, DATA / "seed.csv", "--json")
    assert json.loads(r.stdout)["n"] == 200
    streamed_like_whole(monkeypatch, "evaluate", seed_model, DATA / "seed.csv")  # the tables


def test_read_table_chunks_joined_are_the_whole_file(monkeypatch):
    """The chunks of read_table_chunks, joined, are read_table's table, wherever the chunks fall:
    quoted line breaks, CRLF, a BOM, blank lines, a quote out of place (loose quoting from there
    on), decimal commas in a ';' file."""
    header, rows = animal_input(120)
    rows[70][4] = 'x"y'  # a quote out of place in an unquoted field: read loose
    text = csv_text(header, rows, "\r\n", True, blank_after={2, 50}).replace(b'"x""y"', b'"x"y')
    Path("a.csv").write_bytes(text)
    semi = "a;b;y\n" + "".join(f"{i},5;{i};{'yes' if i % 2 else 'no'}\n" for i in range(100))
    Path("semi.csv").write_text(semi)
    for path, target in (("a.csv", "label"), ("semi.csv", "y")):
        monkeypatch.setattr(read, "CHUNK_LINES", WHOLE)
        whole = read_table(path, target)
        for size in SIZES:
            monkeypatch.setattr(read, "CHUNK_LINES", size)
            chunks = list(read_table_chunks(path, target))
            assert len(chunks) >= 2 and all(t.features == whole.features for t in chunks)
            for j in range(len(whole.features)):
                np.testing.assert_array_equal(np.concatenate([t.column(j) for t in chunks]), whole.column(j))
            np.testing.assert_array_equal(np.concatenate([t.y for t in chunks]), whole.y)
            np.testing.assert_array_equal(np.concatenate([t.lines for t in chunks]), whole.lines)
    assert whole.column(0)[0] == "0.5"  # decimal commas read


@pytest.mark.parametrize("suffix", ["npz", "stdin.npy"])
def test_an_array_read_whole_is_handed_out_in_chunks_only_past_the_chunk_size(monkeypatch, suffix):
    """An NPZ (and an .npy on standard input) is read whole: one table when it holds at most a
    chunk of rows, else chunks that say which rows they are (messages count within them)."""
    monkeypatch.setattr(read, "CHUNK_LINES", 4)
    for n, parts in ((4, [None]), (5, ["rows 0-3", "rows 4-4"])):
        X = np.arange(2.0 * n).reshape(n, 2)
        if suffix == "npz":
            np.savez("a.npz", X=X, y=np.arange(n))
            chunks = list(read_table_chunks("a.npz"))
        else:
            buffer = io.BytesIO()
            np.save(buffer, X)
            chunks = list(read_table_chunks("-", stdin=io.BytesIO(buffer.getvalue())))
        assert [t.part for t in chunks] == parts
        features = X if suffix == "npz" else X[:, :1]  # (an .npy's last column is its target)
        np.testing.assert_array_equal(np.concatenate([t.cells for t in chunks]), features)


# -- errors name the file's own line ----------------------------------------------------------------


def errors_alike(monkeypatch, *args) -> str:
    """The one-chunk run's and the chunked runs' error line: the same; exit 2. Returns it."""
    monkeypatch.setattr(read, "CHUNK_LINES", WHOLE)
    whole = run(*args)
    assert whole.exit_code == 2 and whole.stdout == ""
    line = error_line(whole.stderr)
    for size in SIZES:
        monkeypatch.setattr(read, "CHUNK_LINES", size)
        r = run(*args)
        assert r.exit_code == 2
        assert error_line(r.stderr) == line, size
    return line


def test_bad_row_in_a_later_chunk_names_its_line(animals_model, monkeypatch):
    header, rows = animal_input()
    rows[150] = rows[150][:-1]  # a field short
    Path("in.csv").write_bytes(csv_text(header, rows, blank_after={10, 80}))
    lines_before = 1 + 2 + sum(1 + NOTES[i % len(NOTES)].count("\n") for i in range(150))
    line = errors_alike(monkeypatch, "predict", animals_model, "in.csv")
    assert line == f"Error: in.csv:{lines_before + 1}: expected 6 fields, found 5"
    rows = animal_input()[1]
    rows[200][3] = "heavy"
    Path("in.csv").write_bytes(csv_text(header, rows))
    line = errors_alike(monkeypatch, "predict", animals_model, "in.csv", "--proba")
    assert "'weight' holds 'heavy', which is not a number" in line
    rows = animal_input()[1]
    rows[120][2] = "purple"
    Path("in.csv").write_bytes(csv_text(header, rows))
    errors_alike(monkeypatch, "evaluate", animals_model, "in.csv")


def test_bad_number_in_a_later_chunk_of_a_numeric_csv(seed_model, monkeypatch):
    header, rows = seed_rows()
    rows[170][2] = "abc"
    Path("in.csv").write_bytes(csv_text(header, rows))
    assert "in.csv:172: column 'x3' holds 'abc'" in errors_alike(monkeypatch, "predict", seed_model, "in.csv")


def test_unclosed_quote_in_a_later_chunk(animals_model, monkeypatch):
    header, rows = animal_input(100)
    text = csv_text(header, rows) + b'00100,0.1,red,0.2,"never closed\n,no\n'
    Path("in.csv").write_bytes(text)
    line = errors_alike(monkeypatch, "predict", animals_model, "in.csv")
    assert "is never closed" in line


def test_missing_value_in_a_later_chunk_counts_what_was_read(seed_model, monkeypatch):
    header, rows = seed_rows()
    for i in (130, 131, 190):
        rows[i][1] = "NA"
    Path("in.csv").write_bytes(csv_text(header, rows))
    monkeypatch.setattr(read, "CHUNK_LINES", WHOLE)
    whole = error_line(run("predict", seed_model, "in.csv").stderr)
    assert "in.csv:132: column 'x2' is missing a value; 3 row(s) have missing values" in whole
    monkeypatch.setattr(read, "CHUNK_LINES", 48)  # chunks of lines 4-51, 52-99, 100-147, ...
    chunked = error_line(run("predict", seed_model, "in.csv").stderr)
    assert "in.csv:132: column 'x2' is missing a value; 2 row(s) of lines 100-147 have" in chunked


def test_infinite_value_in_a_later_chunk_of_an_npy(array_model, monkeypatch):
    X = np.loadtxt(DATA / "seed.csv", delimiter=",", skiprows=1)
    X[150, 2] = np.inf
    np.save("in.npy", X)
    line = errors_alike(monkeypatch, "predict", array_model, "in.npy")
    assert line == "Error: in.npy: the matrix holds an infinite value at row 150"


def test_error_in_a_later_chunk_writes_nothing_under_o(animals_model, monkeypatch):
    """-o: nothing is written (an old file stays as it was, no temporary file is left); on
    stdout, as any filter, the rows before the bad chunk have been written."""
    header, rows = animal_input()
    rows[200] = rows[200][:-1]
    Path("in.csv").write_bytes(csv_text(header, rows))
    Path("out.csv").write_text("old\n")
    monkeypatch.setattr(read, "CHUNK_LINES", 48)
    for flags in ([], ["-f", "npy"]):
        r = run("predict", animals_model, "in.csv", "-o", "out.csv", *flags)
        assert r.exit_code == 2 and "expected 6 fields" in error_line(r.stderr)
        assert Path("out.csv").read_text() == "old\n"
        assert sorted(os.listdir(".")) == ["in.csv", "out.csv"]
    r = run("predict", animals_model, "in.csv")
    assert r.exit_code == 2
    written = read_csv(r.stdout)
    assert written[0] == ["prediction"] and 100 <= len(written) - 1 < 200


# -- a slow producer, Ctrl-C -------------------------------------------------------------------------


def read_line(stream, timeout: float = 60) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    assert ready, "no answer before the producer's next rows (or its end)"
    return stream.readline().decode()


def test_rows_from_a_slow_producer_are_answered_before_its_end(animals_model):
    header, rows = animal_input(6)
    lines = csv_text(header, rows).decode().splitlines(keepends=True)
    with subprocess.Popen(
        [sys.executable, "-m", "nettrain", "predict", str(animals_model), "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=ROOT,
        bufsize=0,  # (select() sees the pipe: nothing may wait in a buffer)
    ) as proc:
        try:
            proc.stdin.write("".join(lines[:3]).encode())  # the header and two rows, then nothing
            assert read_line(proc.stdout) == "prediction\n"
            assert read_line(proc.stdout).strip() in ("yes", "no")
            assert read_line(proc.stdout).strip() in ("yes", "no")
            proc.stdin.write("".join(lines[3:]).encode())
            proc.stdin.close()
            rest = proc.stdout.read().decode().splitlines()
            assert proc.wait(60) == 0, proc.stderr.read()
            assert len(rest) == len(rows) - 2
        finally:
            proc.kill()


def _reset_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_streaming_into_o_writes_nothing(animals_model, tmp_path):
    header, rows = animal_input(20)
    with subprocess.Popen(
        [sys.executable, "-m", "nettrain", "predict", str(animals_model), "-", "-o", "out.csv"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=subprocess_env(),
        cwd=tmp_path,
        preexec_fn=_reset_sigint,
    ) as proc:
        try:
            proc.stdin.write(csv_text(header, rows))  # the first rows, then the producer waits
            proc.stdin.flush()
            deadline = time.monotonic() + 60
            while not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]:  # first chunk written
                assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(60) == 130
            assert "Interrupted" in proc.stderr.read().decode()
            assert not [p for p in os.listdir(tmp_path) if p.startswith((".nettrain", "out"))]
        finally:
            proc.kill()


def test_decimal_comma_labels_are_not_decided_per_chunk(tmp_path, monkeypatch):
    """In a ';' file a categorical column (and class labels) holding '1,5' beside words keeps
    '1,5' as written in training; a chunk holding only '1,5' read it as the number 1.5, a
    category training never saw (exit 2, or all zeros under --unknown ignore)."""
    rng = np.random.default_rng(0)
    grades, labels = ["1,5", "2,5", "big"], ["1,5", "big"]

    def rows(n, first_only=0):
        out = []
        for i in range(n):
            k = 0 if i < first_only else int(rng.integers(0, 3))
            out.append(f"{rng.normal():.3f}".replace(".", ",") + f";{grades[k]};{labels[k % 2]}\n")
        return "x;grade;label\n" + "".join(out)

    (tmp_path / "g.csv").write_text(rows(300))
    (tmp_path / "gp.csv").write_text(rows(100, first_only=50))
    config = tmp_path / "g.yaml"
    config.write_text(
        "data: {train: g.csv, target: label, categorical: [grade]}\nnetwork: {layers: [auto, 4, auto]}\n"
        "cost: cross_entropy\ntraining: {epochs: 3}\noutput: gm\n"
    )
    ok(run("fit", config, "-q"))
    model = load_model(tmp_path / "gm")
    assert model.encoding.columns[1].categories == ["1,5", "2,5", "big"]
    assert model.encoding.classes == ["1,5", "big"]
    streamed_like_whole(monkeypatch, "predict", tmp_path / "gm", "gp.csv", "--proba")
    scored = streamed_like_whole(monkeypatch, "evaluate", tmp_path / "gm", "gp.csv", "--json")
    assert scored.exit_code == 0 and json.loads(scored.stdout)["n"] == 100
    # --keep copies a column that is not a feature as written, decimal comma too; a numeric
    # feature is read as a number
    kept = streamed_like_whole(
        monkeypatch, "predict", tmp_path / "gm", "gp.csv", "--keep", "label", "--keep", "x"
    )
    lines = [line.split(";") for line in (tmp_path / "gp.csv").read_text().splitlines()[1:]]
    rows = read_csv(kept.stdout)[1:]
    assert [row[0] for row in rows] == [line[2] for line in lines]
    assert [row[1] for row in rows] == [line[0].replace(",", ".") for line in lines]
