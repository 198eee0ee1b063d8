//===- Normalization.cpp - ONNX BatchNorm, LRN, softmax, ReduceMean -------===//

#include "Importer.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;
using namespace dlc::onnx_import;

LogicalResult Importer::importBatchNorm(const onnx::NodeProto &node) {
  // Inference form (one output) and both training forms (opset 9-13: five
  // outputs; opset 14+: three, with training_mode) import alike: dlc trains
  // with batch statistics and updates the running ones itself, so only Y
  // may be read by later nodes.
  markUncomputed(node, 1);
  FailureOr<Value> x = input(node, 0), scale = input(node, 1),
                   bias = input(node, 2);
  if (failed(x) || failed(scale) || failed(bias))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  if (xType.getRank() != 2 && xType.getRank() != 4)
    return nodeError(node) << "input " << xType
                           << " is not N x C or N x C x H x W";
  if (intAttr(node, "spatial", 1) != 1)
    return nodeError(node) << "attribute spatial=0 is not supported";
  auto isVariable = [&](int i) {
    return hasInput(node, i) && variables.count(node.input(i));
  };
  // `dlc run` on a model whose statistics are graph inputs: the arithmetic
  // itself, on the values given.
  if (options.inference && !(isVariable(3) && isVariable(4)))
    return importBatchNormOnValues(node, *x, *scale, *bias);
  VariableOp stats[2];
  for (int i = 0; i < 2; ++i) {
    auto it = hasInput(node, 3 + i) ? variables.find(node.input(3 + i))
                                    : variables.end();
    if (it == variables.end())
      return nodeError(node) << (i ? "input_var" : "input_mean")
                             << " must be an initializer";
    // Running statistics are state, not parameters.
    it->second.setTrainable(false);
    stats[i] = it->second;
  }
  auto op = BatchNormOp::create(
      builder, nodeLoc(node), xType, *x, *scale, *bias,
      FlatSymbolRefAttr::get(stats[0].getSymNameAttr()),
      FlatSymbolRefAttr::get(stats[1].getSymNameAttr()),
      builder.getF32FloatAttr(floatAttr(node, "epsilon", 1e-5f)),
      builder.getF32FloatAttr(floatAttr(node, "momentum", 0.9f)));
  return defineVerified(node, op);
}

LogicalResult Importer::importBatchNormOnValues(const onnx::NodeProto &node,
                                                Value x, Value scale,
                                                Value bias) {
  FailureOr<Value> mean = input(node, 3), variance = input(node, 4);
  if (failed(mean) || failed(variance))
    return failure();
  auto xType = cast<RankedTensorType>(x.getType());
  auto vectorType =
      RankedTensorType::get({xType.getDimSize(1)}, builder.getF32Type());
  for (Value v : {scale, bias, *mean, *variance})
    if (v.getType() != vectorType)
      return nodeError(node) << "scale, bias, mean and variance must be "
                             << vectorType << "; got " << v.getType();
  Location loc = nodeLoc(node);
  FloatAttr epsilon =
      builder.getF32FloatAttr(floatAttr(node, "epsilon", 1e-5f));
  if (intAttr(node, "training_mode", 0)) {
    // Normalized by the batch's statistics; the running statistics come out
    // as ONNX defines them: momentum * given + (1 - momentum) * batch's
    // (biased variance).
    auto train = BatchNormTrainOp::create(builder, loc, x, scale, bias, epsilon);
    if (failed(verify(train)))
      return failure();
    float momentum = floatAttr(node, "momentum", 0.9f);
    auto blend = [&](Value given, Value batch) -> Value {
      Value kept = ScaleOp::create(builder, loc, given,
                                   builder.getF32FloatAttr(momentum));
      Value fresh = ScaleOp::create(builder, loc, batch,
                                    builder.getF32FloatAttr(1.0f - momentum));
      return AddOp::create(builder, loc, vectorType, kept, fresh);
    };
    define(node, train.getResult());
    if (node.output_size() > 1 && !node.output(1).empty())
      values[node.output(1)] = blend(*mean, train.getMean());
    if (node.output_size() > 2 && !node.output(2).empty())
      values[node.output(2)] = blend(*variance, train.getVariance());
    markUncomputed(node, 3);
    return success();
  }
  markUncomputed(node, 1);
  return defineVerified(node, BatchNormInferenceOp::create(builder, loc, x,
                                                           scale, bias, *mean,
                                                           *variance, epsilon));
}

LogicalResult Importer::importReduceMean(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  SmallVector<int64_t> axes = intsAttr(node, "axes", {});
  if (hasInput(node, 1)) {
    if (!intConstants.count(node.input(1)))
      return nodeError(node) << "axes must be a constant";
    const std::vector<int64_t> &given = intConstants[node.input(1)];
    axes.assign(given.begin(), given.end());
  }
  if (axes.empty())
    for (int64_t d = 0; d < type.getRank(); ++d)
      axes.push_back(d);
  SmallVector<int64_t> kept(type.getShape());
  int64_t count = 1;
  for (int64_t axis : axes) {
    int64_t d = axis < 0 ? axis + type.getRank() : axis;
    if (d < 0 || d >= type.getRank())
      return nodeError(node) << "axes " << listText(axes)
                             << " out of range for " << type;
    count *= kept[d] == 1 ? 1 : kept[d];
    kept[d] = 1;
  }
  // Sum down to the kept shape, divide, and drop the reduced dimensions
  // unless keepdims.
  Location loc = nodeLoc(node);
  auto keptType = RankedTensorType::get(kept, builder.getF32Type());
  Value mean = ScaleOp::create(
      builder, loc, ReduceSumToOp::create(builder, loc, keptType, *x),
      builder.getF32FloatAttr(1.0f / count));
  if (!intAttr(node, "keepdims", 1)) {
    SmallVector<int64_t> dropped;
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (!llvm::is_contained(axes, d) &&
          !llvm::is_contained(axes, d - type.getRank()))
        dropped.push_back(type.getDimSize(d));
    mean = ReshapeOp::create(
        builder, loc, RankedTensorType::get(dropped, builder.getF32Type()),
        mean);
  }
  define(node, mean);
  return success();
}

LogicalResult Importer::importLogSoftmax(const onnx::NodeProto &node) {
  return importSoftmaxLike<LogSoftmaxOp>(node);
}

template <typename OpT>
LogicalResult Importer::importSoftmaxLike(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  int64_t rank = type.getRank();
  int64_t axis = intAttr(node, "axis", opset >= 13 ? -1 : 1);
  if (axis < -rank || axis >= rank)
    return nodeError(node) << "attribute axis=" << axis
                           << " is out of range for " << type;
  if (axis < 0)
    axis += rank;
  Location loc = nodeLoc(node);
  if (opset >= 13) {
    define(node, OpT::create(builder, loc, *x, builder.getI64IntegerAttr(axis)));
    return success();
  }
  // Before opset 13 the input is seen as 2-D, [dims before axis] x [the
  // rest], and normalized along the second.
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < rank; ++d)
    (d < axis ? outer : inner) *= type.getDimSize(d);
  auto flat = RankedTensorType::get({outer, inner}, builder.getF32Type());
  Value y = OpT::create(builder, loc, ReshapeOp::create(builder, loc, flat, *x),
                        builder.getI64IntegerAttr(1));
  define(node, ReshapeOp::create(builder, loc, type, y));
  return success();
}

LogicalResult Importer::importLrn(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  int64_t size = intAttr(node, "size", 0);
  if (size < 1)
    return nodeError(node) << "attribute size=" << size << " must be positive";
  if (type.getRank() < 2)
    return nodeError(node) << "input " << type << " has no channel dimension";
  define(node,
         LrnOp::create(builder, nodeLoc(node), *x,
                       builder.getI64IntegerAttr(size),
                       builder.getF32FloatAttr(floatAttr(node, "alpha", 1e-4f)),
                       builder.getF32FloatAttr(floatAttr(node, "beta", 0.75f)),
                       builder.getF32FloatAttr(floatAttr(node, "bias", 1.0f))));
  return success();
}

LogicalResult Importer::importSoftmax(const onnx::NodeProto &node) {
  return importSoftmaxLike<SoftmaxOp>(node);
}

void Importer::addNormalizationHandlers(HandlerTable &table) {
  table["BatchNormalization"] = &Importer::importBatchNorm;
  table["ReduceMean"] = &Importer::importReduceMean;
  table["LogSoftmax"] = &Importer::importLogSoftmax;
  table["LRN"] = &Importer::importLrn;
  table["Softmax"] = &Importer::importSoftmax;
}
