#!/usr/bin/env python3
"""Writes the fuzzers' seed corpus (test/fuzz/corpus): the small models of
the end-to-end tests, one per op pattern, each under libFuzzer's size limit.
Run with Debian's python3; the output is committed."""
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))
sys.path.insert(0, str(HERE.parents[1] / "python"))
import models  # noqa: E402

MAX_BYTES = 65536
BUILDERS = {
    "mlp": lambda p: models.torch_mlp(p, sizes=(8, 6, 4)),
    "mlp-softmax-opset11": lambda p: models.torch_mlp(p, sizes=(8, 6, 4), opset=11, softmax=True),
    "matmul-add": models.matmul_add_model,
    "trans-a": models.trans_a_model,
    "elementwise": models.elementwise_model,
    "conv-zoo": models.conv_zoo_model,
    "bn-cnn": models.torch_bn_cnn,
    "bn-inference": models.inference_bn_model,
    "structure-ops": models.structure_ops_model,
    "view": models.torch_view_model,
    "batched-matmul": models.batched_matmul_model,
    "pad": models.pad_model,
    "lrn": models.lrn_model,
}


def main():
    out = HERE / "corpus"
    out.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in BUILDERS.items():
            path = pathlib.Path(tmp) / (name + ".onnx")
            build(path)
            data = path.read_bytes()
            if len(data) > MAX_BYTES:
                print("skipped %s: %d bytes" % (name, len(data)))
                continue
            (out / (name + ".onnx")).write_bytes(data)
            print("%s: %d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
