//===- GraphShapes.cpp - the result types of graph ops --------------------===//

#include "dlc/Dialect/Graph/GraphShapes.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "mlir/Dialect/Traits.h"

using namespace mlir;
using namespace dlc::graph;

namespace {
RankedTensorType f32Tensor(ArrayRef<int64_t> shape, MLIRContext *ctx) {
  return RankedTensorType::get(shape, Float32Type::get(ctx));
}
} // namespace

FailureOr<RankedTensorType> dlc::graph::gemmType(EmitError emitError,
                                                 RankedTensorType a,
                                                 RankedTensorType b,
                                                 RankedTensorType c,
                                                 bool transA, bool transB) {
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitError() << "operands must be 2-D, got " << a << " and " << b;
  int64_t m = a.getDimSize(transA ? 1 : 0), ka = a.getDimSize(transA ? 0 : 1);
  int64_t kb = b.getDimSize(transB ? 1 : 0), n = b.getDimSize(transB ? 0 : 1);
  if (ka != kb)
    return emitError() << "contraction sizes differ: op(a) is " << m << "x"
                       << ka << ", op(b) is " << kb << "x" << n;
  RankedTensorType result = f32Tensor({m, n}, a.getContext());
  if (c) {
    SmallVector<int64_t> broadcast;
    if (!OpTrait::util::getBroadcastedShape(c.getShape(), result.getShape(),
                                            broadcast) ||
        ArrayRef<int64_t>(broadcast) != result.getShape())
      return emitError() << "bias of type " << c << " does not broadcast to "
                         << result;
  }
  return result;
}

FailureOr<RankedTensorType> dlc::graph::matMulType(EmitError emitError,
                                                   RankedTensorType a,
                                                   RankedTensorType b,
                                                   bool transA, bool transB) {
  if (a.getRank() < 2 || b.getRank() < 2)
    return emitError() << "operands must have rank 2 or more";
  int64_t m = a.getDimSize(a.getRank() - (transA ? 1 : 2));
  int64_t ka = a.getDimSize(a.getRank() - (transA ? 2 : 1));
  int64_t kb = b.getDimSize(b.getRank() - (transB ? 1 : 2));
  int64_t n = b.getDimSize(b.getRank() - (transB ? 2 : 1));
  if (ka != kb)
    return emitError() << "contraction sizes differ: " << ka << " and " << kb;
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(a.getShape().drop_back(2),
                                          b.getShape().drop_back(2), shape))
    return emitError() << "batch dimensions of " << a << " and " << b
                       << " do not broadcast";
  shape.push_back(m);
  shape.push_back(n);
  return f32Tensor(shape, a.getContext());
}

FailureOr<RankedTensorType> dlc::graph::broadcastType(EmitError emitError,
                                                      RankedTensorType lhs,
                                                      RankedTensorType rhs) {
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhs.getShape(), rhs.getShape(),
                                          shape))
    return emitError() << "operand shapes " << lhs << " and " << rhs
                       << " do not broadcast";
  return f32Tensor(shape, lhs.getContext());
}

FailureOr<RankedTensorType>
dlc::graph::windowType(EmitError emitError, RankedTensorType input,
                       ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                       ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                       int64_t channels) {
  if (kernel.size() != 2 || strides.size() != 2 || dilations.size() != 2 ||
      pads.size() != 4)
    return emitError() << "expects 2 kernel sizes, 2 strides, 2 dilations "
                          "and 4 pads";
  for (int i = 0; i < 2; ++i)
    if (kernel[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return emitError() << "kernel sizes, strides and dilations must be "
                            "positive";
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitError() << "pads must not be negative";
  SmallVector<int64_t> shape = {input.getDimSize(0), channels};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOutputSize(input.getDimSize(2 + i), kernel[i],
                                     strides[i], pads[i], pads[i + 2],
                                     dilations[i]));
  if (shape[2] < 1 || shape[3] < 1)
    return emitError() << "window does not fit the input " << input;
  return f32Tensor(shape, input.getContext());
}

FailureOr<RankedTensorType>
dlc::graph::conv2DType(EmitError emitError, RankedTensorType input,
                       RankedTensorType filter, RankedTensorType bias,
                       ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                       ArrayRef<int64_t> dilations, int64_t group) {
  int64_t channels = input.getDimSize(1), outChannels = filter.getDimSize(0);
  if (group < 1 || channels % group || outChannels % group)
    return emitError() << "group " << group
                       << " must divide the input channels (" << channels
                       << ") and the output channels (" << outChannels << ")";
  if (filter.getDimSize(1) * group != channels)
    return emitError() << "filter " << filter << " takes "
                       << filter.getDimSize(1) * group
                       << " input channels, the input has " << channels;
  if (bias && bias.getDimSize(0) != outChannels)
    return emitError() << "bias of type " << bias << " should have "
                       << outChannels << " elements";
  return windowType(emitError, input, filter.getShape().drop_front(2),
                    strides, pads, dilations, outChannels);
}

FailureOr<RankedTensorType>
dlc::graph::transposeType(EmitError emitError, RankedTensorType input,
                          ArrayRef<int64_t> permutation) {
  if (static_cast<int64_t>(permutation.size()) != input.getRank())
    return emitError() << "permutation of " << permutation.size()
                       << " entries for a rank-" << input.getRank()
                       << " input";
  SmallVector<bool> seen(permutation.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : permutation) {
    if (p < 0 || p >= input.getRank() || seen[p])
      return emitError() << "permutation is not a permutation of 0.."
                         << input.getRank() - 1;
    seen[p] = true;
    shape.push_back(input.getDimSize(p));
  }
  return f32Tensor(shape, input.getContext());
}

FailureOr<RankedTensorType> dlc::graph::concatType(EmitError emitError,
                                                   TypeRange inputs,
                                                   int64_t axis) {
  if (inputs.empty())
    return emitError() << "needs at least one input";
  auto first = cast<RankedTensorType>(inputs.front());
  if (axis < 0 || axis >= first.getRank())
    return emitError() << "axis " << axis << " out of range [0, "
                       << first.getRank() << ")";
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Type input : inputs) {
    auto type = cast<RankedTensorType>(input);
    if (type.getRank() != first.getRank())
      return emitError() << "inputs have different ranks";
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (d != axis && type.getDimSize(d) != first.getDimSize(d))
        return emitError() << "input " << type << " differs from " << first
                           << " outside the concatenation axis";
    shape[axis] += type.getDimSize(axis);
  }
  return f32Tensor(shape, first.getContext());
}

FailureOr<RankedTensorType> dlc::graph::padType(EmitError emitError,
                                                RankedTensorType input,
                                                ArrayRef<int64_t> low,
                                                ArrayRef<int64_t> high) {
  if (static_cast<int64_t>(low.size()) != input.getRank() ||
      static_cast<int64_t>(high.size()) != input.getRank())
    return emitError() << "needs one low and one high pad per dimension";
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < input.getRank(); ++d) {
    if (low[d] < 0 || high[d] < 0)
      return emitError() << "pads must not be negative";
    shape.push_back(input.getDimSize(d) + low[d] + high[d]);
  }
  return f32Tensor(shape, input.getContext());
}
