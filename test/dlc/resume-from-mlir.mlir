// An .mlir input resumes the pipeline from the stage it was written at.
// RUN: dlc %s --emit=lowered | FileCheck %s --check-prefix=LOWERED
// RUN: dlc %s --emit=exec -o %t.exec.mlir
// RUN: dlc %t.exec.mlir --emit=source | FileCheck %s --check-prefix=SOURCE
// RUN: dlc %s --emit=source | FileCheck %s --check-prefix=SOURCE
// RUN: dlc %s -o %t.exe
// RUN: not %t.exe --data %t.nowhere --save %t.onnx 2>&1 | FileCheck %s --check-prefix=EXE

graph.variable trainable @w : tensor<3x4xf32> = dense<0.5> : tensor<3x4xf32>

func.func @forward(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = graph.load @w : tensor<3x4xf32>
  %y = graph.gemm %x, %w {trans_b} : (tensor<2x4xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// LOWERED: emitc.func @trainStep
// LOWERED: call_opaque "dlc::rt::sgdUpdate"

// SOURCE: static const dlc::rt::VariableInfo dlc_variables[1] = {{[{][{]}}.onnxName = nullptr, .arenaOffset = 0, .numElements = 12, .elementType = dlc::rt::ElementType::F32, .shape = dlc_dims{{[0-9]+}}, .rank = 2, .initOffset = 0, .saved = false}};

// A hand-written module has no ONNX model to write the trained one into.
// EXE: error: --save: this program was built from an .mlir file that carries no ONNX model
