"""ONNX's node conformance tests through `dlc run`: every test whose ops dlc
imports passes or is refused with a message; none is wrong or crashes."""
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from conftest import DLC, ROOT, run

NODE_TESTS = "/usr/share/libonnx-testdata/data/node"


def test_node_tests_pass_or_are_refused_cleanly(tmp_path):
    report = tmp_path / "coverage.md"
    proc = subprocess.run([sys.executable, ROOT / "python" / "dlc_tools" / "onnx_conformance.py",
                           "--dlc", DLC, "--write", report], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = proc.stdout.strip().splitlines()[0]
    passed = int(summary.split(": ")[1].split(" passed")[0])
    assert passed >= 100, summary
    assert ", 0 wrong, 0 crashed" in summary


def test_run_writes_outputs_named_as_onnx_test_data(tmp_path):
    test = NODE_TESTS + "/test_gemm_all_attributes"
    out = tmp_path / "out"
    inputs = []
    for k in range(3):
        inputs += ["--input", "%s/test_data_set_0/input_%d.pb" % (test, k)]
    result = run([DLC, "run", test + "/model.onnx", *inputs, "--output-dir", out])
    assert result.returncode == 0, result
    got = onnx.load_tensor(str(out / "output_0.pb"))
    want = onnx.load_tensor(test + "/test_data_set_0/output_0.pb")
    assert got.name == want.name
    np.testing.assert_allclose(numpy_helper.to_array(got), numpy_helper.to_array(want),
                               rtol=1e-3, atol=1e-4)


def test_run_bad_input(tmp_path):
    test = NODE_TESTS + "/test_add_bcast"
    one = ["--input", test + "/test_data_set_0/input_0.pb"]
    result = run([DLC, "run", test + "/model.onnx", *one, "--output-dir", tmp_path])
    assert result.returncode == 1 and "takes 2 input(s); got 1" in result.stderr, result
    swapped = ["--input", test + "/test_data_set_0/input_1.pb",
               "--input", test + "/test_data_set_0/input_0.pb"]
    result = run([DLC, "run", test + "/model.onnx", *swapped, "--output-dir", tmp_path])
    assert result.returncode == 1 and "has shape [5]; input 'x' takes [3x4x5]" in result.stderr, result
    result = run([DLC, "run", test + "/model.onnx", *one])
    assert result.returncode == 1 and "dlc run needs --output-dir" in result.stderr, result
