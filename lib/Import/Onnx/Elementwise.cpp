//===- Elementwise.cpp - ONNX arithmetic, activations, Clip, Dropout ------===//

#include "Importer.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;
using namespace dlc::onnx_import;

template <typename OpT>
LogicalResult Importer::importBinary(const onnx::NodeProto &node) {
  FailureOr<Value> lhs = input(node, 0), rhs = input(node, 1);
  if (failed(lhs) || failed(rhs))
    return failure();
  FailureOr<RankedTensorType> type =
      broadcastType(shapeErrors(node), cast<RankedTensorType>(lhs->getType()),
                    cast<RankedTensorType>(rhs->getType()));
  if (failed(type))
    return failure();
  define(node, OpT::create(builder, nodeLoc(node), *type, *lhs, *rhs));
  return success();
}

template <typename OpT>
LogicalResult Importer::importActivation(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  define(node, OpT::create(builder, nodeLoc(node), *x));
  return success();
}

LogicalResult Importer::importLeakyRelu(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  define(node, LeakyReluOp::create(
                   builder, nodeLoc(node), *x,
                   builder.getF32FloatAttr(floatAttr(node, "alpha", 0.01f))));
  return success();
}

FailureOr<float> Importer::constantScalar(const onnx::NodeProto &node,
                                          int index) {
  auto it = variables.find(node.input(index));
  auto dense = it == variables.end()
                   ? DenseElementsAttr()
                   : dyn_cast_or_null<DenseElementsAttr>(
                         it->second.getInitialValueAttr());
  if (!dense || dense.getNumElements() != 1) {
    nodeError(node) << "input " << index << " ('" << node.input(index)
                    << "') must be a constant scalar";
    return failure();
  }
  it->second.setTrainable(false);
  return *dense.getValues<float>().begin();
}

LogicalResult Importer::importClip(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  // Opset 11 moved min and max from attributes to (optional) inputs. A
  // missing bound is the largest float, which clips no finite value (and
  // prints as a C++ literal, as infinity does not).
  float lo = floatAttr(node, "min", std::numeric_limits<float>::lowest());
  float hi = floatAttr(node, "max", std::numeric_limits<float>::max());
  // Bounds computed or given at run time (graph inputs) clip by arithmetic:
  // max(x, lo) = lo + relu(x - lo), min(m, hi) = hi - relu(hi - m).
  Value runtimeBound[3];
  for (int i : {1, 2})
    if (hasInput(node, i) && !isConstantScalar(node, i)) {
      FailureOr<Value> bound = input(node, i);
      if (failed(bound))
        return failure();
      if (cast<RankedTensorType>(bound->getType()).getNumElements() != 1)
        return nodeError(node) << "input " << i << " ('" << node.input(i)
                               << "') must be a scalar";
      runtimeBound[i] = *bound;
    }
  if (runtimeBound[1] || runtimeBound[2]) {
    Location loc = nodeLoc(node);
    Value y = *x;
    auto type = cast<RankedTensorType>(y.getType());
    auto scalarLike = [&](Value bound) {
      return ReshapeOp::create(builder, loc,
                               RankedTensorType::get({}, builder.getF32Type()),
                               bound);
    };
    if (Value lo = runtimeBound[1]) {
      lo = scalarLike(lo);
      Value above = ReluOp::create(builder, loc,
                                   SubOp::create(builder, loc, type, y, lo));
      y = AddOp::create(builder, loc, type, above, lo);
    }
    if (Value hi = runtimeBound[2]) {
      hi = scalarLike(hi);
      Value below = ReluOp::create(builder, loc,
                                   SubOp::create(builder, loc, type, hi, y));
      y = SubOp::create(builder, loc, type, hi, below);
    }
    // A constant bound beside a run-time one.
    for (int i : {1, 2})
      if (hasInput(node, i) && !runtimeBound[i]) {
        FailureOr<float> bound = constantScalar(node, i);
        if (failed(bound))
          return failure();
        (i == 1 ? lo : hi) = *bound;
      }
    if (!runtimeBound[1] || !runtimeBound[2])
      y = ClipOp::create(builder, loc, y, builder.getF32FloatAttr(lo),
                         builder.getF32FloatAttr(hi));
    define(node, y);
    return success();
  }
  for (int i : {1, 2}) {
    if (!hasInput(node, i))
      continue;
    FailureOr<float> bound = constantScalar(node, i);
    if (failed(bound))
      return failure();
    if (std::isnan(*bound))
      return nodeError(node) << "input " << i << " ('" << node.input(i)
                             << "') is NaN";
    // Infinite bounds clip nothing, as the largest float does.
    (i == 1 ? lo : hi) = std::clamp(*bound, std::numeric_limits<float>::lowest(),
                                    std::numeric_limits<float>::max());
  }
  if (lo > hi)
    return nodeError(node) << "min " << shortNumber(lo)
                           << " is greater than max " << shortNumber(hi);
  define(node, ClipOp::create(builder, nodeLoc(node), *x,
                              builder.getF32FloatAttr(lo),
                              builder.getF32FloatAttr(hi)));
  return success();
}

LogicalResult Importer::importSum(const onnx::NodeProto &node) {
  FailureOr<Value> total = input(node, 0);
  if (failed(total))
    return failure();
  for (int i = 1; i < node.input_size(); ++i) {
    FailureOr<Value> v = input(node, i);
    if (failed(v))
      return failure();
    SmallVector<int64_t> shape;
    auto a = cast<RankedTensorType>(total->getType());
    auto b = cast<RankedTensorType>(v->getType());
    if (!OpTrait::util::getBroadcastedShape(a.getShape(), b.getShape(), shape))
      return nodeError(node) << "shapes " << a << " and " << b
                             << " do not broadcast";
    total = Value(AddOp::create(builder, nodeLoc(node),
                                RankedTensorType::get(shape, builder.getF32Type()),
                                *total, *v));
  }
  define(node, *total);
  return success();
}

LogicalResult Importer::importIdentity(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  define(node, *x);
  return success();
}

LogicalResult Importer::importDropout(const onnx::NodeProto &node) {
  markUncomputed(node, 1);
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  // Opset 12 moved the ratio from an attribute to an optional input; the
  // training_mode input does not matter: dlc trains with dropout and infers
  // without.
  float ratio = floatAttr(node, "ratio", 0.5f);
  // For `dlc run` dropout is the identity: a ratio given at run time (a
  // graph input) does not matter.
  bool ratioMatters = !options.inference || isConstantScalar(node, 1);
  if (hasInput(node, 1) && ratioMatters) {
    FailureOr<float> given = constantScalar(node, 1);
    if (failed(given))
      return failure();
    ratio = *given;
  }
  if (!(ratio >= 0.0f && ratio < 1.0f))
    return nodeError(node) << "ratio " << ratio << " is not in [0, 1)";
  define(node, DropoutOp::create(builder, nodeLoc(node), *x,
                                 builder.getF32FloatAttr(ratio)));
  return success();
}

void Importer::addElementwiseHandlers(HandlerTable &table) {
  table["Add"] = &Importer::importBinary<AddOp>;
  table["Sub"] = &Importer::importBinary<SubOp>;
  table["Mul"] = &Importer::importBinary<MulOp>;
  table["Div"] = &Importer::importBinary<DivOp>;
  table["Relu"] = &Importer::importActivation<ReluOp>;
  table["Sigmoid"] = &Importer::importActivation<SigmoidOp>;
  table["Tanh"] = &Importer::importActivation<TanhOp>;
  table["LeakyRelu"] = &Importer::importLeakyRelu;
  table["Clip"] = &Importer::importClip;
  table["Sum"] = &Importer::importSum;
  table["Identity"] = &Importer::importIdentity;
  table["Dropout"] = &Importer::importDropout;
}
