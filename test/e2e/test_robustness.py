"""Issue 7's reported failures, each kept as a test: malformed models, sizes
that overflow, flags out of range, non-finite data, concurrent saves. Every
case ends in a clear message naming the problem and exit status 1 (never a
signal), or works correctly."""
import concurrent.futures
import os
import signal

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import models
from conftest import DLC, ROOT, compile_model, run, save_npy_dataset, train
from test_bad_input import assert_clean_failure

MLP = ROOT / "models" / "mlp.onnx"


def save_model(path, nodes, inputs, outputs, initializers=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    onnx.save(model, str(path))
    return path


def image_input(name="x", shape=("N", 1, 8, 8)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def float_output(name="y", shape=None):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def gemm_model(path, opset=13, **gemm_attrs):
    w = numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    nodes = [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)]
    nodes[0].attribute.extend(helper.make_attribute(k, v) for k, v in gemm_attrs.items())
    if "transB" in gemm_attrs:
        del nodes[0].attribute[0]
    return save_model(path, nodes, [image_input(shape=("N", 4))],
                      [float_output(shape=("N", 3))], [w], opset)


# --- the importer ------------------------------------------------------------

@pytest.mark.parametrize("op,attrs", [
    ("Conv", dict(kernel_shape=[3, 3], strides=[0, 0])),
    ("Conv", dict(kernel_shape=[3, 3], strides=[0, 0], auto_pad="SAME_UPPER")),
    ("MaxPool", dict(kernel_shape=[2, 2], strides=[0, 0])),
    ("AveragePool", dict(kernel_shape=[2, 2], strides=[1, 0])),
], ids=["conv", "conv-same-upper", "maxpool", "avgpool"])
def test_zero_stride_is_refused(workdir, op, attrs):
    inputs = ["x", "w"] if op == "Conv" else ["x"]
    init = [numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")] if op == "Conv" else []
    path = save_model(workdir / "m.onnx", [helper.make_node(op, inputs, ["y"], name="win", **attrs)],
                      [image_input()], [float_output()], init)
    assert_clean_failure(run([DLC, path, "--emit=mlir"]), "'win'", op, "strides=", "must be positive")


def test_negative_pads_and_oversized_window_are_refused(workdir):
    path = save_model(workdir / "p.onnx",
                      [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2],
                                        pads=[0, -1, 0, 0])],
                      [image_input()], [float_output()])
    assert_clean_failure(run([DLC, path, "--emit=mlir"]), "'pool'", "pads=[0, -1, 0, 0]")
    path = save_model(workdir / "k.onnx",
                      [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[9, 9])],
                      [image_input()], [float_output()])
    assert_clean_failure(run([DLC, path, "--emit=mlir"]), "'pool'", "window does not fit")


@pytest.mark.parametrize("raw", [b"", b"\0" * 12], ids=["empty", "short"])
def test_initializer_whose_size_overflows(workdir, raw):
    w = TensorProto(name="huge", data_type=TensorProto.FLOAT, dims=[1 << 31, 1 << 31, 4],
                    raw_data=raw)
    path = save_model(workdir / "m.onnx", [helper.make_node("Add", ["x", "huge"], ["y"], name="add")],
                      [image_input(shape=("N", 4))], [float_output()], [w])
    assert_clean_failure(run([DLC, path, "--emit=mlir"]), "initializer 'huge'",
                         "[2147483648, 2147483648, 4]")


def test_huge_batch_is_refused_not_wrapped(workdir):
    result = run([DLC, MLP, "-o", workdir / "t", "--batch", 4611686018427387904])
    assert_clean_failure(result, "--batch", "larger than")
    assert not (workdir / "t").exists()
    # Each tensor fits, the arena does not.
    result = run([DLC, MLP, "--emit=lowered", "--batch", 1 << 27])
    assert_clean_failure(result, "arena would need", "lower --batch")


def test_dlc_run_refuses_input_dims_that_overflow(workdir):
    path = save_model(workdir / "m.onnx", [helper.make_node("Relu", ["x"], ["y"], name="r")],
                      [image_input(shape=(1 << 40, 1 << 40))], [float_output()])
    tensor = numpy_helper.from_array(np.zeros((2, 2), np.float32), "x")
    (workdir / "in.pb").write_bytes(tensor.SerializeToString())
    result = run([DLC, "run", path, "--input", workdir / "in.pb", "--output-dir", workdir / "out"])
    assert_clean_failure(result, "input 'x'", "larger than")


def test_dlc_run_names_the_signal_of_a_crashed_runner(workdir):
    # A runner that dies by a signal: a wrapper compiler whose program
    # kills itself. What is checked is how `dlc run` reports it.
    cxx = workdir / "cxx"
    cxx.write_text('#!/bin/sh\ncase "$*" in *program.cpp*) exec c++ "$@" -include %s;; esac\n'
                   'exec c++ "$@"\n' % (workdir / "die.h"))
    (workdir / "die.h").write_text(
        "#include <csignal>\nstatic int dlc_die = (std::raise(SIGSEGV), 0);\n")
    cxx.chmod(0o755)
    path = save_model(workdir / "m.onnx", [helper.make_node("Relu", ["x"], ["y"], name="r")],
                      [image_input(shape=(2, 2))], [float_output()])
    tensor = numpy_helper.from_array(np.zeros((2, 2), np.float32), "x")
    (workdir / "in.pb").write_bytes(tensor.SerializeToString())
    result = run([DLC, "run", path, "--input", workdir / "in.pb", "--output-dir", workdir / "out",
                  "--host-cxx", cxx])
    assert_clean_failure(result, "crashed", "Segmentation fault")


@pytest.mark.parametrize("case,fragments", [
    ("opset30", ["opset 30 is newer than dlc supports (1 to 17)"]),
    ("duplicate", ["'second'", "output 'h' is already defined"]),
    ("transB2", ["'fc'", "transB=2 must be 0 or 1"]),
    ("alphaNaN", ["'fc'", "alpha=nan is not a finite number"]),
    ("clip", ["'clip'", "min 2 is greater than max 1"]),
    ("classes0", ["no classes"]),
    ("output1d", ["one 2-D output", "tensor<4xf32>"]),
])
def test_malformed_models_are_refused(workdir, case, fragments):
    path = workdir / (case + ".onnx")
    if case == "opset30":
        gemm_model(path, opset=30)
    elif case == "duplicate":
        save_model(path, [helper.make_node("Relu", ["x"], ["h"], name="first"),
                          helper.make_node("Sigmoid", ["x"], ["h"], name="second")],
                   [image_input(shape=("N", 4))], [float_output("h")])
    elif case == "transB2":
        gemm_model(path, transB=2)
    elif case == "alphaNaN":
        gemm_model(path, alpha=float("nan"))
    elif case == "clip":
        lo = numpy_helper.from_array(np.array(2, np.float32), "lo")
        hi = numpy_helper.from_array(np.array(1, np.float32), "hi")
        save_model(path, [helper.make_node("Clip", ["x", "lo", "hi"], ["y"], name="clip")],
                   [image_input(shape=("N", 4))], [float_output()], [lo, hi])
    elif case == "classes0":
        w = numpy_helper.from_array(np.ones((0, 4), np.float32), "w")
        save_model(path, [helper.make_node("Gemm", ["x", "w"], ["y"], name="fc", transB=1)],
                   [image_input(shape=("N", 4))], [float_output()], [w])
    else:
        save_model(path, [helper.make_node("ReduceMean", ["x"], ["y"], name="mean", axes=[1],
                                           keepdims=0)],
                   [image_input(shape=("N", 4))], [float_output()])
    result = run([DLC, path, "--emit=training", "--batch", 4])
    assert_clean_failure(result, *fragments)
    # The whole function's IR is never dumped into a message.
    assert "func.func" not in result.stderr and "graph." not in result.stderr, result


def test_gemm_transb_1_still_imports(workdir):
    assert run([DLC, gemm_model(workdir / "ok.onnx"), "--emit=mlir"]).returncode == 0


# --- the trainer -------------------------------------------------------------

@pytest.fixture(scope="module")
def small_trainer(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("robust")
    model = models.torch_mlp(workdir / "m.onnx", sizes=(16, 8, 10))
    return compile_model(model, workdir / "trainer", "--batch", 4)


def data(workdir, count=32, prefix="train"):
    rng = np.random.default_rng(0)
    return save_npy_dataset(workdir, rng.random((count, 16), dtype=np.float32),
                            rng.integers(0, 10, count), prefix)


def test_threads_beyond_the_machine_are_refused(small_trainer, workdir):
    x, y = data(workdir)
    result = train(small_trainer, "--train-x", x, "--train-y", y, "--threads", 100000)
    assert_clean_failure(result, "--threads 100000", "CPU(s)")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_data_is_refused_with_the_sample(small_trainer, workdir, bad):
    rng = np.random.default_rng(0)
    x = rng.random((32, 16), dtype=np.float32)
    x[13, 5] = bad
    xp, yp = save_npy_dataset(workdir, x, rng.integers(0, 10, 32))
    result = train(small_trainer, "--train-x", xp, "--train-y", yp, "--save", workdir / "o.onnx")
    assert_clean_failure(result, "train_x.npy", "sample 13", "non-finite")
    assert not (workdir / "o.onnx").exists()


def test_npy_shape_that_overflows(small_trainer, workdir):
    _, y = data(workdir)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 16), }"
    header += " " * (63 - len(header) % 64) + "\n"
    bad = workdir / "bad.npy"
    bad.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    result = train(small_trainer, "--train-x", bad, "--train-y", y)
    assert_clean_failure(result, "bad.npy", "out of range")
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }"
    header += " " * (63 - len(header) % 64) + "\n"
    bad.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())
    result = train(small_trainer, "--train-x", bad, "--train-y", y)
    assert_clean_failure(result, "bad.npy", "larger than any file")


def test_concurrent_saves_never_mix(small_trainer, workdir):
    """Twenty pairs of trainers save to one path: the file is always exactly
    one run's model."""
    x, y = data(workdir)
    target = workdir / "same.onnx"
    own = {}
    for seed in (1, 2):
        out = workdir / ("alone%d.onnx" % seed)
        assert train(small_trainer, "--train-x", x, "--train-y", y, "--seed", seed,
                     "--save", out).returncode == 0
        own[seed] = [numpy_helper.to_array(t).tobytes()
                     for t in onnx.load(str(out)).graph.initializer]
    assert own[1] != own[2]
    for _ in range(20):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(
                lambda seed: train(small_trainer, "--train-x", x, "--train-y", y,
                                   "--seed", seed, "--save", target), (1, 2)))
        assert all(r.returncode == 0 for r in results), results
        saved = [numpy_helper.to_array(t).tobytes()
                 for t in onnx.load(str(target)).graph.initializer]
        assert saved in (own[1], own[2])
        assert sorted(os.listdir(workdir)).count("same.onnx") == 1
        assert not [f for f in os.listdir(workdir) if ".tmp" in f]


def test_leftover_samples_under_mpirun_are_reported(small_trainer, workdir):
    x, y = data(workdir, count=50)  # 3 ranks x batch 4 = 12: 4 steps, 2 left
    result = train(small_trainer, "--train-x", x, "--train-y", y, "--epochs", 2, ranks=3)
    assert result.returncode == 0, result
    assert result.stdout.count("2 training samples per epoch do not fill a global batch") == 1, result


def test_a_long_chain_builds_quickly(workdir):
    """20,000 Relus: the generated program compiles in well under a minute."""
    w = numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    nodes = [helper.make_node("Relu", ["x" if i == 0 else "r%d" % (i - 1)], ["r%d" % i])
             for i in range(20000)]
    nodes.append(helper.make_node("Gemm", ["r19999", "w"], ["y"], transB=1))
    path = save_model(workdir / "chain.onnx", nodes, [image_input(shape=("N", 4))],
                      [float_output()], [w])
    result = run([DLC, path, "-o", workdir / "t", "--batch", 2], timeout=60)
    assert result.returncode == 0, result


def test_divergence_stops_naming_step_tensor_and_count(workdir):
    """A learning rate that overflows the weights: the first check after it
    stops the run; the good file at --save is left as it was."""
    model = models.torch_mlp(workdir / "m.onnx", sizes=(16, 8, 10))
    exe = compile_model(model, workdir / "hot", "--batch", 4, "--lr", 1e38)
    x, y = data(workdir)
    good = workdir / "good.onnx"
    good.write_bytes(b"a good model")
    result = train(exe, "--train-x", x, "--train-y", y, "--check-every", 1, "--save", good)
    assert_clean_failure(result, "step 2: the loss is -nan", "nothing written")
    assert good.read_bytes() == b"a good model"
    # One step on large inputs (large gradients): the loss is still finite,
    # the updated weights are not.
    rng = np.random.default_rng(1)
    xl, yl = save_npy_dataset(workdir, rng.random((32, 16), dtype=np.float32) * 1e4,
                              rng.integers(0, 10, 32), "large")
    result = train(exe, "--train-x", xl, "--train-y", yl, "--steps", 1, "--save", good)
    assert_clean_failure(result, "step 1: parameter '", "non-finite value(s)")
    assert good.read_bytes() == b"a good model"


def test_overflowing_data_stops_at_the_first_non_finite_loss(workdir, small_trainer):
    """Finite samples whose activations overflow: the loss, which the trainer
    reads every step anyway, is checked every step."""
    rng = np.random.default_rng(0)
    x = rng.random((32, 16), dtype=np.float32) * 3e38
    xp, yp = save_npy_dataset(workdir, x, rng.integers(0, 10, 32))
    result = train(small_trainer, "--train-x", xp, "--train-y", yp, "--save", workdir / "o.onnx")
    assert_clean_failure(result, "the loss is", "nothing written")
    assert not (workdir / "o.onnx").exists()


def test_non_finite_gradient_is_named(workdir):
    """A finite loss whose gradient overflows: zero first-layer weights keep
    the forward pass finite on inputs near float's limit, but their gradient
    (the inputs times a large backward signal) is infinite."""
    rng = np.random.default_rng(3)
    w1 = numpy_helper.from_array(np.zeros((8, 16), np.float32), "w1")
    w2 = numpy_helper.from_array((rng.choice([-1, 1], (10, 8)) * 1000).astype(np.float32), "w2")
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["h"], transB=1),
             helper.make_node("Sigmoid", ["h"], ["s"]),
             helper.make_node("Gemm", ["s", "w2"], ["y"], transB=1)]
    path = save_model(workdir / "g.onnx", nodes, [image_input(shape=("N", 16))],
                      [float_output(shape=("N", 10))], [w1, w2])
    exe = compile_model(path, workdir / "t", "--batch", 4, "--lr", 1e-30)
    xp, yp = save_npy_dataset(workdir, np.full((8, 16), 3e38, np.float32),
                              rng.integers(0, 10, 8))
    result = train(exe, "--train-x", xp, "--train-y", yp, "--check-every", 1)
    assert_clean_failure(result, "step 1: the gradient of 'w1' holds", "non-finite value(s)")
