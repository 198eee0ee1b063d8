"""Bad input: a clear message naming the problem, a non-zero exit, no crash,
and nothing half-written."""
import os

import numpy as np
import pytest

import models
from conftest import DLC, ROOT, compile_model, run, save_npy_dataset, train

MLP = ROOT / "models" / "mlp.onnx"


def assert_clean_failure(result, *fragments):
    assert result.returncode == 1, result  # not a signal, not an abort
    for fragment in fragments:
        assert fragment in result.stderr, result


# --- dlc ---------------------------------------------------------------------

def test_truncated_model(workdir):
    truncated = workdir / "truncated.onnx"
    truncated.write_bytes(MLP.read_bytes()[:5000])
    output = workdir / "trainer"
    result = run([DLC, truncated, "-o", output])
    assert_clean_failure(result, "truncated.onnx", "not a valid ONNX model")
    assert not output.exists()


@pytest.mark.parametrize("content", [b"", b"hello, this is not a model\n"], ids=["empty", "text"])
def test_not_an_onnx_file(workdir, content):
    path = workdir / "model.onnx"
    path.write_bytes(content)
    assert_clean_failure(run([DLC, path, "--emit=mlir"]), "not a valid ONNX model")


def test_missing_model_file(workdir):
    assert_clean_failure(run([DLC, workdir / "absent.onnx"]), "cannot read", "absent.onnx")


def test_unsupported_op_names_type_node_and_opset(workdir):
    model = models.unsupported_op_model(workdir / "sin.onnx")
    result = run([DLC, model, "-o", workdir / "trainer"])
    assert_clean_failure(result, "unsupported op type 'Sin'", "'the_sine'", "opset 13")
    assert not (workdir / "trainer").exists()


@pytest.mark.parametrize("flags,fragment", [
    (["--no-such-flag"], "Unknown command line argument"),
    (["--batch=0"], "--batch=0"),
    (["--batch=abc"], "'abc' value invalid"),
    (["--lr=-1"], "learning rate must be positive"),
    (["--momentum=1.5"], "--momentum=1.5"),
    (["--loss=hinge"], "Cannot find option named 'hinge'"),
    (["--optimizer=rmsprop"], "Cannot find option named 'rmsprop'"),
    (["--optimizer=adam", "--beta1=1.5"], "--beta1=1.5"),
    (["--optimizer=adam", "--momentum=0.9"], "--momentum is SGD's"),
    (["--lr=inf"], "must be positive and finite"),
    (["--emit=everything"], "Cannot find option named 'everything'"),
    (["--target=tpu"], "Cannot find option named 'tpu'"),
    (["--overlap=sideways"], "Cannot find option named 'sideways'"),
    (["--cpu-layout=nChw4c"], "Cannot find option named 'nChw4c'"),
    (["--target=cuda", "--cpu-layout=nChw16c"], "--cpu-layout is for --target=cpu"),
    (["--comm-alpha=-1"], "the latency must not be negative"),
    (["--comm-beta=0"], "the bandwidth must be positive"),
    (["--overlap=next-forward", "--memory-budget=10M"],
     "--overlap=next-forward cannot be combined with --memory-budget"),
])
def test_bad_flags(flags, fragment):
    result = run([DLC, MLP, "--emit=mlir", *flags])
    assert result.returncode == 1, result
    assert fragment in result.stderr, result


def test_cuda_target_without_toolkit(workdir):
    env = dict(os.environ, DLC_NVCC="/nonexistent/nvcc")
    result = run([DLC, MLP, "--target=cuda", "-o", workdir / "t"], env=env)
    assert_clean_failure(result, "--target=cuda needs the CUDA toolkit")
    assert not (workdir / "t").exists()


# --- trainer -----------------------------------------------------------------

@pytest.fixture(scope="module")
def small_trainer(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bad")
    model = models.torch_mlp(workdir / "m.onnx", sizes=(16, 8, 10))
    return compile_model(model, workdir / "trainer", "--batch", 4)


def good_data(workdir, count=32):
    rng = np.random.default_rng(0)
    return save_npy_dataset(workdir, rng.random((count, 16), dtype=np.float32),
                            rng.integers(0, 10, count))


def test_trainer_unknown_flag_and_bad_values(small_trainer, workdir):
    x, y = good_data(workdir)
    data = ["--train-x", x, "--train-y", y]
    assert_clean_failure(train(small_trainer, *data, "--frobnicate"), "unknown option '--frobnicate'")
    assert_clean_failure(train(small_trainer, *data, "--epochs", 0), "invalid value '0' for --epochs")
    assert_clean_failure(train(small_trainer, *data, "--steps", "ten"), "invalid value 'ten' for --steps")
    assert_clean_failure(train(small_trainer, *data, "--seed"), "missing value for --seed")
    assert_clean_failure(train(small_trainer), "no training data")
    assert_clean_failure(train(small_trainer, "--train-x", x), "--train-x and --train-y go together")
    assert_clean_failure(train(small_trainer, *data, "--comm", "gloo"), "--comm gloo: expected mpi or nccl")
    assert_clean_failure(train(small_trainer, *data, "--comm", "nccl"),
                         "--comm=nccl: NCCL averages GPU memory, and this trainer was built for the CPU")


def test_trainer_help(small_trainer):
    result = train(small_trainer, "--help")
    assert result.returncode == 0
    assert "--data DIR" in result.stdout and "--save FILE.onnx" in result.stdout
    assert "--no-cuda-graph" in result.stdout and "--cudnn-find" in result.stdout
    assert "DLC_COMM_ORDER=program|priority" in result.stdout
    assert "DLC_COMM_BUCKET_BYTES=N" in result.stdout and "--comm mpi|nccl" in result.stdout


def test_compiler_help_lists_dlc_options_only():
    """The MLIR library brings LLVM's back-end options; --help shows dlc's."""
    result = run([DLC, "--help"])
    assert result.returncode == 0
    for flag in ("--batch=", "--target=", "--memory-budget=", "--report-memory="):
        assert flag in result.stdout, flag
    assert "amdgpu" not in result.stdout.lower()
    assert len(result.stdout.splitlines()) < 100


def test_missing_data_file(small_trainer, workdir):
    x, _ = good_data(workdir)
    result = train(small_trainer, "--train-x", x, "--train-y", workdir / "nope.npy")
    assert_clean_failure(result, "cannot open data file", "nope.npy")
    result = train(small_trainer, "--data", workdir / "empty-dir")
    assert_clean_failure(result, "no train-images-idx3-ubyte")


def test_malformed_data_files(small_trainer, workdir):
    x, y = good_data(workdir)
    garbage = workdir / "garbage.npy"
    garbage.write_bytes(b"\x00\x01not numpy at all")
    assert_clean_failure(train(small_trainer, "--train-x", garbage, "--train-y", y),
                         "garbage.npy", "not a .npy file")
    truncated = workdir / "truncated.npy"
    truncated.write_bytes(x.read_bytes()[:-10])
    assert_clean_failure(train(small_trainer, "--train-x", truncated, "--train-y", y),
                         "truncated.npy", "bytes")
    idx_dir = workdir / "idx"
    idx_dir.mkdir()
    (idx_dir / "train-images-idx3-ubyte").write_bytes(b"\x08\x08\x08\x03" + b"\0" * 40)
    (idx_dir / "train-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x01\x05")
    assert_clean_failure(train(small_trainer, "--data", idx_dir), "not an IDX file (bad magic)")


def test_data_that_does_not_fit_the_model(small_trainer, workdir):
    rng = np.random.default_rng(0)
    x, y = save_npy_dataset(workdir, rng.random((32, 15), dtype=np.float32),
                            rng.integers(0, 10, 32), "wrong_shape")
    assert_clean_failure(train(small_trainer, "--train-x", x, "--train-y", y),
                         "samples of shape [15]", "the model's input takes [16]")
    x, y = save_npy_dataset(workdir, rng.random((32, 16), dtype=np.float32),
                            np.full(32, 10), "bad_label")
    assert_clean_failure(train(small_trainer, "--train-x", x, "--train-y", y),
                         "label 10 at index 0", "10 classes")
    x, y = save_npy_dataset(workdir, rng.random((32, 16), dtype=np.float32),
                            rng.integers(0, 10, 31), "count")
    assert_clean_failure(train(small_trainer, "--train-x", x, "--train-y", y),
                         "31 labels for 32 samples")
    x, y = save_npy_dataset(workdir, rng.random((32, 16), dtype=np.float64),
                            rng.integers(0, 10, 32), "f64")
    assert_clean_failure(train(small_trainer, "--train-x", x, "--train-y", y),
                         "element type '<f8' is not supported")


def test_save_to_unwritable_path_leaves_nothing(small_trainer, workdir):
    x, y = good_data(workdir)
    target = workdir / "no-such-dir" / "out.onnx"
    result = train(small_trainer, "--train-x", x, "--train-y", y, "--save", target)
    assert_clean_failure(result, "cannot write")
    assert not target.parent.exists()


def test_3d_convolution_is_refused_naming_node_attribute_and_value(workdir):
    from onnx import TensorProto, helper, numpy_helper
    import onnx
    w = numpy_helper.from_array(np.zeros((2, 1, 3, 3, 3), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], name="conv3d", kernel_shape=[3, 3, 3])],
        "c3d", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 6, 6, 6])], [w])
    path = workdir / "c3d.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    result = run([DLC, path, "--emit=mlir"])
    assert_clean_failure(result, "'conv3d'", "Conv", "kernel_shape [3, 3, 3]",
                         "3-D convolution) is not supported")


def test_pooling_variant_is_refused(workdir):
    from onnx import TensorProto, helper
    import onnx
    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2],
                          ceil_mode=2)],
        "p", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, 3, 3])])
    path = workdir / "pool.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    assert_clean_failure(run([DLC, path, "--emit=mlir"]), "'pool'", "ceil_mode=2 must be 0 or 1")


def test_reading_an_uncomputed_output_is_refused(workdir):
    from onnx import TensorProto, helper, numpy_helper
    import onnx
    w = numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
    nodes = [helper.make_node("Dropout", ["x"], ["d", "mask"], name="drop"),
             helper.make_node("Cast", ["mask"], ["maskf"], name="cast", to=1),
             helper.make_node("Mul", ["d", "maskf"], ["m"], name="use_mask"),
             helper.make_node("Gemm", ["m", "w"], ["y"], name="fc", transB=1)]
    graph = helper.make_graph(
        nodes, "mask", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [w])
    path = workdir / "mask.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    result = run([DLC, path, "--emit=mlir"])
    assert_clean_failure(result, "unsupported op type 'Cast'")
    nodes[1:3] = [helper.make_node("Mul", ["d", "mask"], ["m"], name="use_mask")]
    graph = helper.make_graph(
        nodes, "mask", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    result = run([DLC, path, "--emit=mlir"])
    assert_clean_failure(result, "'use_mask'", "input 'mask' is an extra output of Dropout 'drop'",
                         "which dlc does not compute")
