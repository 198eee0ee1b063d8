#!/usr/bin/env python3
"""Structured fuzzing of dlc's front end: mutates well-formed ONNX models
(the seed corpus) in the ways real files go wrong (dims, element types,
attributes, dangling and duplicate names, cycles, opsets, data that does not
match its shape) and runs each through `dlc --emit=training`.

A mutated model may be accepted (exit 0) or refused (exit 1 with an
`error:` message). Anything else (a signal, an abort, another exit status,
a silent failure, a hang) is a bug: the model is kept in --crash-dir and the
run exits 1.

    fuzz_models.py --dlc build/bin/dlc --corpus test/fuzz/corpus --count 300
"""
import argparse
import pathlib
import random
import subprocess
import sys
import tempfile
import time

import onnx
from onnx import AttributeProto, TensorProto

HUGE = [0, -1, -7, 1 << 31, 1 << 40, 1 << 62, (1 << 63) - 1, -(1 << 63)]
FLOATS = [float("nan"), float("inf"), -float("inf"), 0.0, -1.0, 1e38, 3.0]
ELEM_TYPES = [TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT64, TensorProto.INT32,
              TensorProto.BOOL, TensorProto.UINT8, TensorProto.STRING, TensorProto.FLOAT16, 0, 99]


def tensors(model):
    graph = model.graph
    found = list(graph.initializer)
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == AttributeProto.TENSOR:
                found.append(attr.t)
    return found


def value_infos(model):
    return list(model.graph.input) + list(model.graph.output)


def mutate_dims(model, rng):
    candidates = [t for t in tensors(model)] + [v for v in value_infos(model)]
    if not candidates:
        return
    target = rng.choice(candidates)
    if isinstance(target, TensorProto):
        dims = list(target.dims) or [1]
        dims[rng.randrange(len(dims))] = rng.choice(HUGE + [rng.randrange(1, 9)])
        if rng.random() < 0.3:
            dims.append(rng.choice(HUGE))
        del target.dims[:]
        target.dims.extend(dims)
    else:
        shape = target.type.tensor_type.shape
        if not shape.dim:
            shape.dim.add().dim_value = 1
        dim = rng.choice(list(shape.dim))
        if rng.random() < 0.2:
            dim.dim_param = "sym"
        else:
            dim.dim_value = rng.choice(HUGE + [rng.randrange(1, 9)])


def mutate_dtype(model, rng):
    candidates = tensors(model) + value_infos(model)
    if not candidates:
        return
    target = rng.choice(candidates)
    if isinstance(target, TensorProto):
        target.data_type = rng.choice(ELEM_TYPES)
    else:
        target.type.tensor_type.elem_type = rng.choice(ELEM_TYPES)


def mutate_attribute(model, rng):
    nodes = [n for n in model.graph.node]
    if not nodes:
        return
    node = rng.choice(nodes)
    attrs = list(node.attribute)
    if not attrs or rng.random() < 0.3:
        name = rng.choice(["strides", "pads", "kernel_shape", "dilations", "axis", "axes",
                           "transA", "transB", "alpha", "beta", "epsilon", "group", "perm",
                           "ceil_mode", "auto_pad", "keepdims", "size", "ratio", "min"])
        attr = node.attribute.add()
        attr.name = name
        attr.type = rng.choice([AttributeProto.INT, AttributeProto.INTS, AttributeProto.FLOAT,
                                AttributeProto.STRING])
        attrs = [attr]
    attr = rng.choice(attrs)
    if attr.type == AttributeProto.INT:
        attr.i = rng.choice(HUGE + [2, 3])
    elif attr.type == AttributeProto.INTS:
        del attr.ints[:]
        attr.ints.extend(rng.choice(HUGE + [1, 2]) for _ in range(rng.randrange(0, 6)))
    elif attr.type == AttributeProto.FLOAT:
        attr.f = rng.choice(FLOATS)
    elif attr.type == AttributeProto.FLOATS:
        del attr.floats[:]
        attr.floats.extend(rng.choice(FLOATS) for _ in range(rng.randrange(0, 4)))
    elif attr.type == AttributeProto.STRING:
        attr.s = rng.choice([b"", b"SAME_UPPER", b"SAME_LOWER", b"VALID", b"NOTSET", b"\xff\x00"])
    else:
        attr.type = rng.choice([AttributeProto.INT, AttributeProto.GRAPH, 0])


def mutate_names(model, rng):
    nodes = list(model.graph.node)
    if not nodes:
        return
    node = rng.choice(nodes)
    kind = rng.randrange(4)
    if kind == 0 and node.input:  # dangling input
        node.input[rng.randrange(len(node.input))] = "nowhere_%d" % rng.randrange(100)
    elif kind == 1 and len(nodes) > 1:  # duplicate output
        other = rng.choice(nodes)
        node.output[0] = other.output[0]
    elif kind == 2 and len(nodes) > 1 and node.input:  # cycle: read a later output
        later = nodes[rng.randrange(nodes.index(node), len(nodes))]
        node.input[0] = later.output[0]
    else:  # empty names, graph output renamed
        if rng.random() < 0.5 and node.input:
            node.input[rng.randrange(len(node.input))] = ""
        elif model.graph.output:
            model.graph.output[0].name = rng.choice(["", node.output[0], "missing"])


def mutate_opset(model, rng):
    if not model.opset_import:
        model.opset_import.add()
    opset = model.opset_import[0]
    opset.version = rng.choice([0, 1, 5, 6, 7, 9, 11, 13, 17, 18, 30, -3, 1 << 40])
    if rng.random() < 0.1:
        opset.domain = rng.choice(["com.microsoft", "ai.onnx.ml", "junk"])


def mutate_data(model, rng):
    candidates = [t for t in tensors(model)]
    if not candidates:
        return
    target = rng.choice(candidates)
    if target.raw_data and rng.random() < 0.7:
        raw = target.raw_data
        target.raw_data = raw[:rng.randrange(len(raw) + 1)]
    else:
        target.ClearField("raw_data")
        del target.float_data[:]
        target.float_data.extend(rng.choice(FLOATS) for _ in range(rng.randrange(0, 5)))


def mutate_structure(model, rng):
    graph = model.graph
    kind = rng.randrange(4)
    if kind == 0 and graph.node:
        del graph.node[rng.randrange(len(graph.node))]
    elif kind == 1 and graph.node:
        graph.node.append(rng.choice(graph.node))
    elif kind == 2 and graph.node:
        node = rng.choice(graph.node)
        node.op_type = rng.choice(["Conv", "MaxPool", "AveragePool", "Gemm", "MatMul", "Reshape",
                                   "Concat", "Transpose", "Softmax", "BatchNormalization",
                                   "Pad", "Clip", "Squeeze", "Unsqueeze", "Gather", "Shape",
                                   "Dropout", "LRN", "ReduceMean", "Flatten", "Sum", "Loop"])
    else:
        if graph.input and rng.random() < 0.5:
            del graph.input[rng.randrange(len(graph.input))]
        elif graph.initializer:
            del graph.initializer[rng.randrange(len(graph.initializer))]


MUTATORS = [mutate_dims, mutate_dtype, mutate_attribute, mutate_names, mutate_opset,
            mutate_data, mutate_structure]


def mutate(seed_bytes, rng):
    model = onnx.ModelProto()
    model.ParseFromString(seed_bytes)
    for _ in range(rng.randrange(1, 4)):
        rng.choice(MUTATORS)(model, rng)
    return model.SerializeToString()


def judge(dlc, path, timeout):
    """None if dlc behaved (accepted, or refused with a message), else why not."""
    try:
        proc = subprocess.run([str(dlc), str(path), "--emit=training", "--batch", "2"],
                              capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return "no answer within %d s" % timeout
    if proc.returncode == 0:
        return None
    if proc.returncode == 1 and "error:" in proc.stderr:
        return None
    return "exit status %d: %s" % (proc.returncode, proc.stderr[-2000:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dlc", required=True, type=pathlib.Path)
    parser.add_argument("--corpus", required=True, type=pathlib.Path)
    parser.add_argument("--count", type=int, default=0, help="models to try (0: until --time)")
    parser.add_argument("--time", type=float, default=0, help="seconds to run (0: until --count)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=30, help="seconds per model")
    parser.add_argument("--crash-dir", type=pathlib.Path, default=pathlib.Path("fuzz-crashes"))
    args = parser.parse_args(argv)
    if not args.count and not args.time:
        parser.error("give --count or --time")
    seeds = sorted(args.corpus.glob("*.onnx"))
    if not seeds:
        parser.error("no .onnx files in %s" % args.corpus)
    rng = random.Random(args.seed)
    start, tried, failures = time.time(), 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "mutant.onnx"
        while (not args.count or tried < args.count) and \
                (not args.time or time.time() - start < args.time):
            seed = rng.choice(seeds)
            data = mutate(seed.read_bytes(), rng)
            path.write_bytes(data)
            tried += 1
            why = judge(args.dlc, path, args.timeout)
            if why:
                failures += 1
                args.crash_dir.mkdir(parents=True, exist_ok=True)
                kept = args.crash_dir / ("crash-%d-%s" % (tried, seed.name))
                kept.write_bytes(data)
                print("FAIL %s (from %s): %s" % (kept, seed.name, why), flush=True)
    print("fuzz_models: %d models, %d failures, %.0f s" % (tried, failures, time.time() - start))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
