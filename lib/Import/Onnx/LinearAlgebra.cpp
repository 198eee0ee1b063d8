//===- LinearAlgebra.cpp - ONNX Gemm and MatMul ---------------------------===//

#include "Importer.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;
using namespace dlc::onnx_import;

//===----------------------------------------------------------------------===//
// Op importers
//===----------------------------------------------------------------------===//

LogicalResult Importer::importGemm(const onnx::NodeProto &node) {
  FailureOr<Value> a = input(node, 0), b = input(node, 1);
  if (failed(a) || failed(b))
    return failure();
  auto aType = cast<RankedTensorType>(a->getType());
  auto bType = cast<RankedTensorType>(b->getType());
  if (aType.getRank() != 2 || bType.getRank() != 2)
    return nodeError(node) << "inputs must be 2-D, got " << aType << " and "
                           << bType;
  for (StringRef flag : {"transA", "transB"})
    if (int64_t value = intAttr(node, flag, 0); value != 0 && value != 1)
      return nodeError(node) << "attribute " << flag << "=" << value
                             << " must be 0 or 1";
  bool transA = intAttr(node, "transA", 0), transB = intAttr(node, "transB", 0);
  SmallVector<Value> operands = {*a, *b};
  RankedTensorType cType;
  if (hasInput(node, 2)) {
    FailureOr<Value> c = input(node, 2);
    if (failed(c))
      return failure();
    operands.push_back(*c);
    cType = cast<RankedTensorType>(c->getType());
  }
  FailureOr<RankedTensorType> type =
      gemmType(shapeErrors(node), aType, bType, cType, transA, transB);
  if (failed(type))
    return failure();
  auto gemm = GemmOp::create(builder, nodeLoc(node), TypeRange{*type},
                             operands, ArrayRef<NamedAttribute>{});
  gemm.setTransA(transA);
  gemm.setTransB(transB);
  gemm.setAlphaAttr(builder.getF32FloatAttr(floatAttr(node, "alpha", 1.0f)));
  gemm.setBetaAttr(builder.getF32FloatAttr(floatAttr(node, "beta", 1.0f)));
  return defineVerified(node, gemm);
}

LogicalResult Importer::importMatMul(const onnx::NodeProto &node) {
  FailureOr<Value> a = input(node, 0), b = input(node, 1);
  if (failed(a) || failed(b))
    return failure();
  auto aType = cast<RankedTensorType>(a->getType());
  auto bType = cast<RankedTensorType>(b->getType());
  Location loc = nodeLoc(node);
  auto f32 = builder.getF32Type();
  if (aType.getRank() == 0 || bType.getRank() == 0)
    return nodeError(node) << "operands " << aType << " and " << bType
                           << " include a scalar, which MatMul does not take";
  if (aType.getRank() == 2 && bType.getRank() == 2) {
    FailureOr<RankedTensorType> type = gemmType(
        shapeErrors(node), aType, bType, RankedTensorType(), false, false);
    if (failed(type))
      return failure();
    auto gemm = GemmOp::create(builder, loc, TypeRange{*type},
                               ValueRange{*a, *b}, ArrayRef<NamedAttribute>{});
    return defineVerified(node, gemm);
  }
  // numpy: a 1-D operand is a row (a) or a column (b) whose dimension the
  // result then drops.
  Value lhs = *a, rhs = *b;
  if (aType.getRank() == 1)
    lhs = ReshapeOp::create(builder, loc,
                            RankedTensorType::get({1, aType.getDimSize(0)}, f32),
                            lhs);
  if (bType.getRank() == 1)
    rhs = ReshapeOp::create(builder, loc,
                            RankedTensorType::get({bType.getDimSize(0), 1}, f32),
                            rhs);
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  FailureOr<RankedTensorType> type =
      matMulType(shapeErrors(node), lhsType, rhsType, false, false);
  if (failed(type))
    return failure();
  ArrayRef<int64_t> shape = type->getShape();
  Value product;
  if (lhsType.getRank() == 2 && rhsType.getRank() == 2)
    product = GemmOp::create(builder, loc, TypeRange{*type},
                             ValueRange{lhs, rhs}, ArrayRef<NamedAttribute>{});
  else
    product = MatMulOp::create(builder, loc, *type, lhs, rhs);
  SmallVector<int64_t> resultShape(shape.begin(), shape.end() - 2);
  if (aType.getRank() != 1)
    resultShape.push_back(shape[shape.size() - 2]);
  if (bType.getRank() != 1)
    resultShape.push_back(shape.back());
  if (ArrayRef<int64_t>(resultShape) != ArrayRef<int64_t>(shape))
    product = ReshapeOp::create(builder, loc,
                                RankedTensorType::get(resultShape, f32), product);
  define(node, product);
  return success();
}

void Importer::addLinearAlgebraHandlers(HandlerTable &table) {
  table["Gemm"] = &Importer::importGemm;
  table["MatMul"] = &Importer::importMatMul;
}
