"""A trained model as an ONNX graph, for serving without Python or nettrain (onnxruntime, ONNX
serving stacks, other languages).

    to_onnx(model, dtype=None, *, categorical="strings", unknown="error") -> onnx.ModelProto
    onnx_bytes(model, dtype=None, ...) -> bytes (the serialized, checked graph)

The graph takes the raw table: ``input`` (N, numeric columns), the numeric columns as the data
holds them (the model's only input when it has no categorical column), and per categorical
column a string input (N, 1) named after the column, its cells as text (``string_inputs``).
With ``categorical='one-hot'`` it takes one input, ``input`` (N, inputs): the network's inputs
before standardization, each categorical column as its one-hot columns (``color=red``, ...;
the caller encodes them). Inside, in this order:

    x = concat(input, one_hot(color), ...)  string inputs only, in the encoding's column order:
                                         LabelEncoder (ai.onnx.ml): a level its index, every
                                         spelling of a missing cell one more, then OneHotEncoder
                                         over those numbers; a missing cell NaN in each
                                         of its column's inputs; an unseen level all zeros
                                         (unknown='ignore') or the run fails ('error')
    x := where(isnan(x), fill, x)        missing: mean models only (fill: the training means; a
                                         categorical column's most frequent category, one-hot)
    a(1) = (x - x_mean) / x_scale        standardization (left out where it is the identity)
    z(l+1) = a(l) W(l)^T + b(l)          one Gemm per layer (transB=1: W keeps its (out, in) shape;
                                         no bias input for network.output_bias: false); in
                                         float64 MatMul (W stored (in, out)) and Add, which
                                         onnxruntime before 1.18 runs where it fails on Gemm
    a(l+1) = f(z(l+1))                   Relu, LeakyRelu (alpha 0.01), Tanh, Sigmoid, Softplus
                                         (in float64: Relu(z) + Log(1 + Exp(-Abs(z))), as
                                         onnxruntime has no double Softplus); identity: no node
    s = f_out(z(L))                      the output function

and the outputs: regression ``prediction`` (N, outputs) = s * y_scale + y_mean, in the target's
units; classification ``probabilities`` (N, classes), as predict --proba gives them, ``label``
(N,) the predicted class's name as predict writes it (a string tensor) and ``label_index`` (N,)
its int64 index into the class list; a row whose probabilities are NaN (a NaN input predict would
refuse) gets the label '' and the index -1. The graph's metadata_props hold the names of
``input``'s columns in order, the class names, the task, the nettrain version and the weights'
SHA-256 (``modelfile.weights_sha256``); with string inputs also ``categorical`` (each string
input's column and levels) and ``unknown``.

onnx is an optional extra (``pip install "nettrain[onnx]"``), imported only here, only when a
graph is built.
"""

from __future__ import annotations

import json
from itertools import groupby, product

import numpy as np

from . import __version__
from .backend import to_host
from .data.encode import UNKNOWN_POLICIES, Column
from .data.read import MISSING
from .errors import NettrainError
from .modelfile import Model, weights_sha256

#: The ONNX operator set the graphs use: 17 (ONNX 1.12, 2022), which runtimes from 2022 on
#: run (the test extra asks for onnxruntime 1.14 or later), with plain operators only (Gemm,
#: Relu, Softmax, Where, Gather, ...), and ONNX-ML's LabelEncoder and OneHotEncoder for string
#: inputs only.
OPSET = 17
#: The IR version written: 8, the one that goes with opset 17, so older runtimes read the file
#: (onnx writes its newest by default, which older runtimes refuse).
IR_VERSION = 8

DTYPES = ("float32", "float64")

#: How the graph takes a categorical column: ``strings``, one string tensor (N, 1) per column
#: holding its cells as text (the default), or ``one-hot``, the caller's one-hot inputs in the
#: float tensor ``input`` (what export took before it took strings; for runtimes without
#: ONNX-ML).
CATEGORICAL_INPUTS = ("strings", "one-hot")
#: The ONNX-ML operator set (ai.onnx.ml) of the categorical columns' LabelEncoder (its version 2,
#: keys_strings to values_int64s) and OneHotEncoder: 3, the one
#: ONNX 1.12 (opset 17's) goes with; a graph without categorical string inputs imports none.
ML_OPSET = 3
#: The graph's output names, which no string input may take.
_OUTPUTS = ("prediction", "probabilities", "label", "label_index")

#: Hidden activations as ONNX operators (identity: no node); attributes beside the name.
_ACTIVATIONS = {
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": None}),  # alpha: the activation's own, filled in below
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "softplus": ("Softplus", {}),
    "identity": (None, {}),
}


def _onnx():
    try:
        import onnx
    except ImportError:
        raise NettrainError('export needs onnx: pip install "nettrain[onnx]"') from None
    return onnx


def check_available() -> None:
    """NettrainError (naming the extra to install) when onnx is not installed."""
    _onnx()


def fill_vector(model: Model) -> np.ndarray:
    """The value each input takes where it is NaN under ``missing: mean`` (inputs,): a numeric
    column's fill (its training mean), and for a categorical column's one-hot inputs 1 for its
    fill category (the most frequent), 0 for the others."""
    enc = model.encoding
    fills: list[float] = []
    for c in enc.columns:
        if c.kind == "categorical":
            fills += [1.0 if v == c.fill else 0.0 for v in c.categories]
        else:
            fills.append(float(c.fill) if c.fill is not None else 0.0)
    return np.array(fills, dtype=np.float64)


#: how far (in standard deviations) a float32 input may be rounded before export says so
FLOAT32_TOLERANCE = 1e-4


def float32_rounding(model: Model) -> list[tuple[str, float, float]]:
    """The standardized inputs that a float32 graph's input rounds by more than
    ``FLOAT32_TOLERANCE`` of their scale: (input name, the largest magnitude training saw,
    the rounding in scale units). predict standardizes in float64 before rounding to the
    model's dtype; the graph takes its input in float32, so a column far from zero for its
    spread (timestamps: 1.7e9, standard deviation 1) loses its information before the graph
    sees it. ``--dtype float64`` keeps it."""
    enc = model.encoding
    x_mean = np.asarray(enc.x_mean, dtype=np.float64)
    x_scale = np.asarray(enc.x_scale, dtype=np.float64)
    largest = np.abs(x_mean)
    for ends in (enc.x_min, enc.x_max):
        if ends is not None:
            largest = np.maximum(largest, np.abs(np.asarray(ends, dtype=np.float64)))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rounding = np.spacing(largest.astype(np.float32)).astype(np.float64) / 2 / x_scale
    scaled = (x_mean != 0) | (x_scale != 1)  # (unscaled inputs: predict rounds them alike)
    return [
        (name, float(largest[j]), float(rounding[j]))
        for j, name in enumerate(enc.inputs)
        if scaled[j] and not rounding[j] <= FLOAT32_TOLERANCE
    ]


def missing_spellings(levels: list[str]) -> list[str]:
    """Every cell text that ``is_missing`` reads as a missing value once stripped, in every
    mix of upper and lower case ('NA', 'Na', 'nA', 'na', ...; 66 in all), less any that is one
    of ``levels``: what a string input's LabelEncoder maps to the missing cell's number, to tell
    a missing cell from an unseen category (an ONNX graph of opset 17 cannot lower a string's case)."""
    spellings = {
        "".join(chars) for word in MISSING for chars in product(*({c.lower(), c.upper()} for c in word))
    }
    return sorted(spellings - set(levels))


def string_inputs(model: Model) -> dict[str, Column]:
    """The graph's string inputs (``categorical='strings'``): input name -> categorical column,
    in the encoding's order. An input is named after its column, with '_' added while the name
    is taken: by ``input``, an output (``label``, ...), or another input."""
    taken = {"", "input", *_OUTPUTS}
    out: dict[str, Column] = {}
    for c in model.encoding.columns:
        if c.kind == "categorical":
            name = c.name
            while name in taken:
                name += "_"
            taken.add(name)
            out[name] = c
    return out


def to_onnx(model: Model, dtype: str | None = None, *, categorical: str = "strings", unknown: str = "error"):
    """The ONNX graph (an ``onnx.ModelProto``) that computes ``model``'s predictions from its
    unscaled inputs (see the module doc). ``dtype``: float32 (the default) or float64, the
    graph's float input, weights and outputs; a float64 model exported as float32 has its
    weights rounded. ``categorical``: ``strings`` (a string input per categorical column) or
    ``one-hot`` (the caller one-hot encodes them into ``input``); no matter for a model without
    categorical columns. ``unknown``: what a string input's category training never saw does,
    as predict's ``--unknown``: ``error`` (onnxruntime's run fails) or ``ignore`` (all zeros)."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    dtype = dtype or "float32"
    if dtype not in DTYPES:
        raise NettrainError(f"dtype '{dtype}' is not one of: {', '.join(DTYPES)}")
    if categorical not in CATEGORICAL_INPUTS:
        raise NettrainError(f"categorical '{categorical}' is not one of: {', '.join(CATEGORICAL_INPUTS)}")
    if unknown not in UNKNOWN_POLICIES:
        raise NettrainError(f"unknown '{unknown}' is not one of: {', '.join(UNKNOWN_POLICIES)}")
    if categorical == "one-hot" and unknown != "error":
        raise NettrainError(
            f"unknown '{unknown}' is for string inputs; with categorical 'one-hot' the caller encodes "
            "the categories (an unseen one: all zeros)"
        )
    np_dtype = np.dtype(dtype)
    elem = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    net, enc = model.network, model.encoding
    Ws, bs = [to_host(w) for w in net.W], [to_host(v) for v in net.b]  # (a model on the GPU too)
    # one .onnx file is one protobuf message, at most 2 GiB (onnx's limit, which its checker and
    # the runtimes' parsers hold to); beyond it onnx stores tensors as external data, which this
    # export does not write: say so before building a graph that cannot be written
    limit = getattr(onnx.checker, "MAXIMUM_PROTOBUF", 2**31 - 1)
    size = sum(W.size + b.size for W, b in zip(Ws, bs)) * np_dtype.itemsize
    if size > limit:
        raise NettrainError(_too_large(size, limit, dtype))
    strings = string_inputs(model) if categorical == "strings" else {}
    nodes, inits = [], []
    taken = set(strings)  # the graph's names so far: each tensor has its own

    def fresh(name: str) -> str:
        """``name``, or with '_' added while the graph has it: a string input's (a column named
        'z0', or 'color_k' beside 'color', whose OneHotEncoder's tensors are 'color_...')."""
        while name in taken:
            name += "_"
        taken.add(name)
        return name

    def const(name: str, value) -> str:
        name = fresh(name)
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        output = fresh(output)
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def softplus(z: str, name: str) -> str:
        """log(1 + exp(z)): the Softplus operator in float32; in float64, for which onnxruntime
        has no Softplus kernel, max(z, 0) + log(1 + exp(-|z|)), nettrain's stable form."""
        if dtype == "float32":
            return node("Softplus", [z], name)
        e = node("Exp", [node("Neg", [node("Abs", [z], f"{name}_abs")], f"{name}_neg")], f"{name}_exp")
        log = node(
            "Log",
            [node("Add", [e, const(f"{name}_one", np.array(1, np_dtype))], f"{name}_1p")],
            f"{name}_log",
        )
        return node("Add", [node("Relu", [z], f"{name}_relu"), log], name)

    def one_hot(name: str, col: Column) -> str:
        """The column's one-hot inputs (N, levels) from its string input ``name`` (N, 1): 1 for
        the row's level, 0 for the others; a missing cell NaN in each (which missing: mean fills
        below as it fills any NaN input); a level training never saw all zeros under
        unknown='ignore', and under 'error' the run fails (zeros=0), as predict refuses it.
        A LabelEncoder (ai.onnx.ml) numbers the cell first: its level's index, k (the number of
        levels) for every spelling of a missing cell, -1 for any other text; OneHotEncoder then
        encodes the numbers 0..k, so the one-hot is k + 1 wide, not k + the 66 spellings."""
        levels = list(col.categories)
        spellings = missing_spellings(levels)
        k = len(levels)
        index = node(
            "LabelEncoder",
            [name],
            f"{name}_index",
            domain="ai.onnx.ml",
            keys_strings=levels + spellings,
            values_int64s=list(range(k)) + [k] * len(spellings),
            default_int64=-1,
        )
        hot = node(
            "OneHotEncoder",
            [index],
            f"{name}_onehot",
            domain="ai.onnx.ml",
            cats_int64s=list(range(k + 1)),
            zeros=int(unknown == "ignore"),
        )
        hot = node("Flatten", [hot], f"{name}_flat", axis=1)  # (N, 1, k + 1) -> (N, k + 1)
        if dtype == "float64":  # (OneHotEncoder gives float; 0 and 1 widen exactly)
            hot = node("Cast", [hot], f"{name}_double", to=TensorProto.DOUBLE)
        axis = const(f"{name}_axis", np.array([1], np.int64))
        zero = const(f"{name}_0", np.array([0], np.int64))
        levels_end = const(f"{name}_k", np.array([k], np.int64))  # (column k: a missing cell)
        missing_end = const(f"{name}_end", np.array([k + 1], np.int64))
        known = node("Slice", [hot, zero, levels_end, axis], f"{name}_levels")
        spelt = node("Slice", [hot, levels_end, missing_end, axis], f"{name}_m")  # (N, 1)
        missing = node("Greater", [spelt, const(f"{name}_zero", np.array(0, np_dtype))], f"{name}_missing")
        nan = const(f"{name}_nan", np.full(k, np.nan, np_dtype))
        return node("Where", [missing, nan, known], f"{name}_encoded")

    def encode_strings(n_numeric: int) -> str:
        """The network's unscaled inputs (N, inputs) in the encoding's order: each run of
        numeric columns sliced from ``input`` (N, numeric columns), or ``input`` itself when
        the run is all of it, each categorical column from its string input (``one_hot``),
        concatenated."""
        input_of = {c.name: name for name, c in strings.items()}
        pieces, start = [], 0  # start: the run's first column in input
        for numeric, run in groupby(enc.columns, key=lambda c: c.kind == "numeric"):
            run = list(run)
            if not numeric:
                pieces += [one_hot(input_of[col.name], col) for col in run]
                continue
            end = start + len(run)
            if (start, end) == (0, n_numeric):
                pieces.append("input")
            else:
                starts = const(f"input_from_{start}_{end}", np.array([start], np.int64))
                ends = const(f"input_to_{start}_{end}", np.array([end], np.int64))
                axis = const(f"input_axis_{start}_{end}", np.array([1], np.int64))
                pieces.append(node("Slice", ["input", starts, ends, axis], f"input_{start}_{end}"))
            start = end
        return pieces[0] if len(pieces) == 1 else node("Concat", pieces, "input_encoded", axis=1)

    x = "input"
    n_numeric = sum(c.kind == "numeric" for c in enc.columns)
    if strings:
        x = encode_strings(n_numeric)
    if enc.missing == "mean":  # NaN -> the column's fill, as predict fills a missing cell
        fill = const("fill", fill_vector(model).astype(np_dtype))
        x = node("Where", [node("IsNaN", [x], "input_isnan"), fill, x], "input_filled")
    x_mean = np.asarray(enc.x_mean, dtype=np.float64)
    x_scale = np.asarray(enc.x_scale, dtype=np.float64)
    if x_mean.any():
        x = node("Sub", [x, const("x_mean", x_mean.astype(np_dtype))], "centred")
    if (x_scale != 1).any():
        x = node("Div", [x, const("x_scale", x_scale.astype(np_dtype))], "standardized")
    a = x
    last = len(net.W) - 1
    for l, (W, b) in enumerate(zip(Ws, bs)):
        W, b = np.asarray(W, dtype=np_dtype), np.asarray(b, dtype=np_dtype)
        biased = l < last or net.output_bias
        if dtype == "float32":
            inputs = [a, const(f"W{l}", W)] + ([const(f"b{l}", b)] if biased else [])
            z = node("Gemm", inputs, f"z{l}", transB=1)
        else:  # onnxruntime before 1.18 fuses a Gemm and its activation into FusedGemm, whose
            # only kernel is float, and cannot load a double graph so made: MatMul and Add
            Wt = const(f"W{l}", np.ascontiguousarray(W.T))
            z = node("MatMul", [a, Wt], f"z{l}" if not biased else f"z{l}_matmul")
            if biased:
                z = node("Add", [z, const(f"b{l}", b)], f"z{l}")
        if l == last:
            break
        name = net.activation_names[l]
        op, attrs = _ACTIVATIONS[name]
        if op is None:
            a = z
            continue
        if name == "leaky_relu":
            attrs = {"alpha": float(net.f[l].alpha)}
        a = softplus(z, f"a{l}") if name == "softplus" else node(op, [z], f"a{l}", **attrs)

    outputs = []
    if enc.task == "regression":
        s = z
        if net.output == "sigmoid":
            s = node("Sigmoid", [z], "s")
        elif net.output == "softmax":
            s = node("Softmax", [z], "s", axis=1)
        y_scale = np.asarray(enc.y_scale, dtype=np.float64)
        y_mean = np.asarray(enc.y_mean, dtype=np.float64)
        if (y_scale != 1).any():
            s = node("Mul", [s, const("y_scale", y_scale.astype(np_dtype))], "unscaled")
        if y_mean.any():
            s = node("Add", [s, const("y_mean", y_mean.astype(np_dtype))], "uncentred")
        node("Identity", [s], "prediction")
        outputs.append(helper.make_tensor_value_info("prediction", elem, ["N", net.sizes[-1]]))
    else:
        n_classes = len(enc.classes)
        if net.sizes[-1] == 1:  # one sigmoid unit: [sigmoid(-z), sigmoid(z)]; class 1 where s >= 0.5
            s = node("Sigmoid", [z], "s")
            first = node("Sigmoid", [node("Neg", [z], "minus_z")], "s_first")
            node("Concat", [first, s], "probabilities", axis=1)
            half = const("half", np.array(0.5, dtype=np_dtype))
            second = node("GreaterOrEqual", [s, half], "is_second")
            index = node("Cast", [second], "index_column", to=TensorProto.INT64)
            index = node("Squeeze", [index, const("axis1", np.array([1], dtype=np.int64))], "index")
        else:
            if net.output == "softmax":
                s = node("Softmax", [z], "probabilities", axis=1)
            else:  # one-vs-rest sigmoids, normalised: softmax(log sigmoid(z)), as predict --proba
                s = node("Sigmoid", [z], "s")
                minus = node("Neg", [z], "minus_z")
                log_s = node("Neg", [softplus(minus, "softplus_minus_z")], "log_s")
                node("Softmax", [log_s], "probabilities", axis=1)
            index = node("ArgMax", [s], "index", axis=1, keepdims=0)
        # a row whose probabilities are NaN (a NaN input, or an infinity that makes one), which
        # predict would refuse: label_index -1 and label '' (Gather's -1 is the last name, ''),
        # not the first class that ArgMax or s >= 0.5 would give
        row_sum = node(
            "ReduceSum", ["probabilities", const("axes1", np.array([1], np.int64))], "row_sum", keepdims=0
        )
        no_label = node("IsNaN", [row_sum], "no_label")
        minus_one = const("minus_one", np.array(-1, dtype=np.int64))
        node("Where", [no_label, minus_one, index], "label_index")
        # the labels as predict writes them: an array's number labels as numbers ('2.5', '-1.0')
        text = [str(v) for v in enc.labels()] + [""]
        names = numpy_helper.from_array(np.array(text, dtype=object), fresh("label_names"))
        names.data_type = TensorProto.STRING
        inits.append(names)
        node("Gather", [names.name, "label_index"], "label", axis=0)
        outputs += [
            helper.make_tensor_value_info("probabilities", elem, ["N", n_classes]),
            helper.make_tensor_value_info("label", TensorProto.STRING, ["N"]),
            helper.make_tensor_value_info("label_index", TensorProto.INT64, ["N"]),
        ]

    if strings:  # the numeric columns (if any), then one string tensor (N, 1) per categorical column
        inputs = [helper.make_tensor_value_info("input", elem, ["N", n_numeric])] if n_numeric else []
        inputs += [helper.make_tensor_value_info(name, TensorProto.STRING, ["N", 1]) for name in strings]
        opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    else:
        inputs = [helper.make_tensor_value_info("input", elem, ["N", net.sizes[0]])]
        opsets = [helper.make_opsetid("", OPSET)]
    graph = helper.make_graph(nodes, "nettrain", inputs, outputs, inits)
    proto = helper.make_model(
        graph,
        opset_imports=opsets,
        ir_version=IR_VERSION,
        producer_name="nettrain",
        producer_version=__version__,
        doc_string=_doc(model, bool(strings)),
    )
    meta = {
        "inputs": json.dumps(enc.inputs_numeric() if strings else enc.inputs),
        "task": enc.task,
        "nettrain_version": __version__,
        "weights_sha256": weights_sha256(net),
        "model_dtype": str(net.dtype),
        "missing": enc.missing,
    }
    if enc.task == "classification":
        meta["classes"] = json.dumps(list(enc.classes))
    if strings:
        meta["categorical"] = json.dumps(
            {name: {"column": c.name, "levels": list(c.categories)} for name, c in strings.items()}
        )
        meta["unknown"] = unknown
    helper.set_model_props(proto, meta)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except onnx.checker.ValidationError as exc:  # (a bug here, not the user's model)
        raise NettrainError(f"the ONNX graph fails onnx's checker ({exc}); please report it") from None
    except ValueError as exc:  # (over the limit with the graph's other parts: names, metadata)
        if "too large" not in str(exc):
            raise
        raise NettrainError(_too_large(proto.ByteSize(), limit, dtype)) from None
    return proto


def _too_large(size: int, limit: int, dtype: str) -> str:
    halve = "; --dtype float32 halves it" if dtype == "float64" else ""
    return (
        f"the ONNX graph would hold {size / 2**30:.2f} GiB of weights, more than the {limit / 2**30:.2f} "
        f"GiB one ONNX file can hold (export does not write ONNX's external data files){halve}"
    )


def _doc(model: Model, strings: bool = False) -> str:
    net, enc = model.network, model.encoding
    what = f"classes {', '.join(enc.classes)}" if enc.task == "classification" else "regression values"
    return (
        f"nettrain {__version__} network {'-'.join(str(s) for s in net.sizes)} "
        f"({', '.join(net.activation_names) or 'no hidden layer'}; output {net.output}), {what}. "
        + (
            "input: the numeric columns in the order of metadata 'inputs', unscaled; each "
            "categorical column a string input (N, 1) of its cells (metadata 'categorical')."
            if strings
            else "input: the model's inputs in the order of metadata 'inputs', unscaled, categorical "
            "columns one-hot encoded."
        )
    )


def onnx_bytes(
    model: Model, dtype: str | None = None, *, categorical: str = "strings", unknown: str = "error"
) -> bytes:
    """``to_onnx``'s graph, serialized (the bytes of a .onnx file)."""
    return to_onnx(model, dtype, categorical=categorical, unknown=unknown).SerializeToString()
