"""A trained model as an ONNX graph, for serving without Python or nettrain (onnxruntime, ONNX
serving stacks, other languages).

    to_onnx(model, dtype=None) -> onnx.ModelProto
    onnx_bytes(model, dtype=None) -> bytes (the serialized, checked graph)

The graph takes one input, ``input`` (N, inputs): the model's inputs as nettrain feeds them to
the network before standardization, that is numeric columns as the data holds them and each
categorical column as its one-hot columns (``color=red``, ``color=blue``, ...; the caller
encodes them). Inside, in this order:

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
refuse) gets the label '' and the index -1. The graph's metadata_props hold the input names in
order, the class names, the task, the nettrain version and the weights' SHA-256
(``modelfile.weights_sha256``).

onnx is an optional extra (``pip install "nettrain[onnx]"``), imported only here, only when a
graph is built.
"""

from __future__ import annotations

import json

import numpy as np

from . import __version__
from .backend import to_host
from .errors import NettrainError
from .modelfile import Model, weights_sha256

#: The ONNX operator set the graphs use: 17 (ONNX 1.12, 2022), which runtimes from 2022 on
#: run (the test extra asks for onnxruntime 1.14 or later), with plain operators only (Gemm,
#: Relu, Softmax, Where, Gather, ...), none from ONNX-ML.
OPSET = 17
#: The IR version written: 8, the one that goes with opset 17, so older runtimes read the file
#: (onnx writes its newest by default, which older runtimes refuse).
IR_VERSION = 8

DTYPES = ("float32", "float64")

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


def to_onnx(model: Model, dtype: str | None = None):
    """The ONNX graph (an ``onnx.ModelProto``) that computes ``model``'s predictions from its
    unscaled, one-hot encoded inputs (see the module doc). ``dtype``: float32 (the default) or
    float64, the graph's input, weights and outputs; a float64 model exported as float32 has
    its weights rounded."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    dtype = dtype or "float32"
    if dtype not in DTYPES:
        raise NettrainError(f"dtype '{dtype}' is not one of: {', '.join(DTYPES)}")
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
    nodes, inits = [], []

    def const(name: str, value) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
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

    x = "input"
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
        names = numpy_helper.from_array(np.array(text, dtype=object), "label_names")
        names.data_type = TensorProto.STRING
        inits.append(names)
        node("Gather", ["label_names", "label_index"], "label", axis=0)
        outputs += [
            helper.make_tensor_value_info("probabilities", elem, ["N", n_classes]),
            helper.make_tensor_value_info("label", TensorProto.STRING, ["N"]),
            helper.make_tensor_value_info("label_index", TensorProto.INT64, ["N"]),
        ]

    graph = helper.make_graph(
        nodes,
        "nettrain",
        [helper.make_tensor_value_info("input", elem, ["N", net.sizes[0]])],
        outputs,
        inits,
    )
    proto = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        ir_version=IR_VERSION,
        producer_name="nettrain",
        producer_version=__version__,
        doc_string=_doc(model),
    )
    meta = {
        "inputs": json.dumps(enc.inputs),
        "task": enc.task,
        "nettrain_version": __version__,
        "weights_sha256": weights_sha256(net),
        "model_dtype": str(net.dtype),
        "missing": enc.missing,
    }
    if enc.task == "classification":
        meta["classes"] = json.dumps(list(enc.classes))
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


def _doc(model: Model) -> str:
    net, enc = model.network, model.encoding
    what = f"classes {', '.join(enc.classes)}" if enc.task == "classification" else "regression values"
    return (
        f"nettrain {__version__} network {'-'.join(str(s) for s in net.sizes)} "
        f"({', '.join(net.activation_names) or 'no hidden layer'}; output {net.output}), {what}. "
        "input: the model's inputs in the order of metadata 'inputs', unscaled, categorical "
        "columns one-hot encoded."
    )


def onnx_bytes(model: Model, dtype: str | None = None) -> bytes:
    """``to_onnx``'s graph, serialized (the bytes of a .onnx file)."""
    return to_onnx(model, dtype).SerializeToString()
