//===- DataMovement.cpp - ONNX shape and data-movement ops ----------------===//

#include "Importer.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;
using namespace dlc::onnx_import;

LogicalResult Importer::importTranspose(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  SmallVector<int64_t> reversed;
  for (int64_t d = type.getRank() - 1; d >= 0; --d)
    reversed.push_back(d);
  SmallVector<int64_t> perm = intsAttr(node, "perm", reversed);
  FailureOr<RankedTensorType> result =
      transposeType(shapeErrors(node), type, perm);
  if (failed(result))
    return failure();
  return defineVerified(
      node, TransposeOp::create(builder, nodeLoc(node), *result, *x, perm));
}

LogicalResult Importer::importConcat(const onnx::NodeProto &node) {
  // Concatenating integer constants (shape arithmetic) folds.
  bool allConstant = node.input_size() > 0;
  for (int i = 0; i < node.input_size(); ++i)
    allConstant &= isIntConstant(node, i);
  if (allConstant) {
    std::vector<int64_t> joined;
    for (int i = 0; i < node.input_size(); ++i) {
      const std::vector<int64_t> &part = intConstants[node.input(i)];
      joined.insert(joined.end(), part.begin(), part.end());
    }
    intConstants[node.output(0)] = std::move(joined);
    return success();
  }
  SmallVector<Value> inputs;
  for (int i = 0; i < node.input_size(); ++i) {
    FailureOr<Value> v = input(node, i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  if (inputs.empty())
    return nodeError(node) << "has no inputs";
  auto first = cast<RankedTensorType>(inputs.front().getType());
  int64_t axis = intAttr(node, "axis", 0);
  if (axis < 0)
    axis += first.getRank();
  if (axis < 0 || axis >= first.getRank())
    return nodeError(node) << "attribute axis=" << intAttr(node, "axis", 0)
                           << " is out of range for " << first;
  FailureOr<RankedTensorType> type =
      concatType(shapeErrors(node), ValueRange(inputs).getTypes(), axis);
  if (failed(type))
    return failure();
  return defineVerified(
      node, ConcatOp::create(builder, nodeLoc(node), *type, inputs, axis));
}

LogicalResult Importer::importPad(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  std::string mode = stringAttr(node, "mode", "constant");
  if (mode != "constant")
    return nodeError(node) << "attribute mode='" << mode
                           << "' is not supported (only 'constant')";
  // Opset 11 moved pads and the value from attributes to inputs.
  SmallVector<int64_t> pads = intsAttr(node, "pads", {});
  float value = floatAttr(node, "value", 0.0f);
  if (hasInput(node, 1)) {
    if (!isIntConstant(node, 1))
      return nodeError(node) << "pads must be a constant";
    const std::vector<int64_t> &given = intConstants[node.input(1)];
    pads.assign(given.begin(), given.end());
  }
  if (hasInput(node, 2)) {
    FailureOr<float> given = constantScalar(node, 2);
    if (failed(given))
      return failure();
    value = *given;
  }
  if (hasInput(node, 3))
    return nodeError(node) << "the axes input is not supported";
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return nodeError(node) << "pads " << listText(pads) << " do not give a "
                           << "begin and an end for each of " << rank
                           << " dimensions";
  SmallVector<int64_t> low(pads.begin(), pads.begin() + rank);
  SmallVector<int64_t> high(pads.begin() + rank, pads.end());
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return nodeError(node) << "negative pads " << listText(pads)
                           << " (cropping) are not supported";
  if (llvm::any_of(pads, [](int64_t p) { return p > kMaxDimension; }))
    return nodeError(node) << "pads " << listText(pads) << " exceed "
                           << kMaxDimension;
  FailureOr<RankedTensorType> padded =
      padType(shapeErrors(node), type, low, high);
  if (failed(padded))
    return failure();
  define(node, PadOp::create(builder, nodeLoc(node), *padded,
                             *x, builder.getDenseI64ArrayAttr(low),
                             builder.getDenseI64ArrayAttr(high),
                             builder.getF32FloatAttr(value)));
  return success();
}

LogicalResult Importer::importShape(const onnx::NodeProto &node) {
  FailureOr<RankedTensorType> type = inputType(node, 0);
  if (failed(type))
    return failure();
  int64_t rank = type->getRank();
  auto clamp = [&](int64_t i) {
    return std::clamp<int64_t>(i < 0 ? i + rank : i, 0, rank);
  };
  int64_t start = clamp(intAttr(node, "start", 0));
  int64_t end = clamp(intAttr(node, "end", rank));
  std::vector<int64_t> dims;
  for (int64_t d = start; d < end; ++d)
    dims.push_back(type->getDimSize(d));
  intConstants[node.output(0)] = std::move(dims);
  return success();
}

LogicalResult Importer::importGather(const onnx::NodeProto &node) {
  if (!isIntConstant(node, 0) || !isIntConstant(node, 1))
    return nodeError(node) << "Gather is supported on integer constants "
                              "(shape arithmetic), not on computed tensors";
  if (intAttr(node, "axis", 0) != 0)
    return nodeError(node) << "attribute axis=" << intAttr(node, "axis", 0)
                           << " is not supported";
  const std::vector<int64_t> &data = intConstants[node.input(0)];
  std::vector<int64_t> result;
  for (int64_t index : intConstants[node.input(1)]) {
    int64_t i = index < 0 ? index + int64_t(data.size()) : index;
    if (i < 0 || i >= int64_t(data.size()))
      return nodeError(node) << "index " << index << " is out of range for "
                             << data.size() << " values";
    result.push_back(data[i]);
  }
  intConstants[node.output(0)] = std::move(result);
  return success();
}

FailureOr<SmallVector<int64_t>>
Importer::axesOf(const onnx::NodeProto &node) {
  if (hasInput(node, 1)) {
    if (!isIntConstant(node, 1)) {
      nodeError(node) << "axes must be a constant";
      return failure();
    }
    const std::vector<int64_t> &axes = intConstants[node.input(1)];
    return SmallVector<int64_t>(axes.begin(), axes.end());
  }
  return intsAttr(node, "axes", {});
}

bool Importer::passIntConstant(const onnx::NodeProto &node) {
  if (!isIntConstant(node, 0))
    return false;
  intConstants[node.output(0)] = intConstants[node.input(0)];
  return true;
}

LogicalResult Importer::importAxesReshape(
    const onnx::NodeProto &node,
    function_ref<FailureOr<SmallVector<int64_t>>(RankedTensorType,
                                                 ArrayRef<int64_t>)>
        reshaped) {
  FailureOr<SmallVector<int64_t>> axes = axesOf(node);
  if (failed(axes))
    return failure();
  if (passIntConstant(node))
    return success();
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  FailureOr<SmallVector<int64_t>> shape =
      reshaped(cast<RankedTensorType>(x->getType()), *axes);
  if (failed(shape))
    return failure();
  define(node, ReshapeOp::create(builder, nodeLoc(node),
                                 RankedTensorType::get(*shape, builder.getF32Type()),
                                 *x));
  return success();
}

LogicalResult Importer::importUnsqueeze(const onnx::NodeProto &node) {
  return importAxesReshape(
      node, [&](RankedTensorType type, ArrayRef<int64_t> axes)
                -> FailureOr<SmallVector<int64_t>> {
        int64_t rank = type.getRank() + axes.size();
        SmallVector<bool> inserted(rank, false);
        for (int64_t axis : axes) {
          int64_t a = axis < 0 ? axis + rank : axis;
          if (a < 0 || a >= rank || inserted[a])
            return nodeError(node) << "axes " << listText(axes)
                                   << " are not valid for " << type;
          inserted[a] = true;
        }
        SmallVector<int64_t> shape;
        int64_t next = 0;
        for (int64_t d = 0; d < rank; ++d)
          shape.push_back(inserted[d] ? 1 : type.getDimSize(next++));
        return shape;
      });
}

LogicalResult Importer::importSqueeze(const onnx::NodeProto &node) {
  return importAxesReshape(
      node, [&](RankedTensorType type, ArrayRef<int64_t> axes)
                -> FailureOr<SmallVector<int64_t>> {
        SmallVector<int64_t> shape;
        for (int64_t d = 0; d < type.getRank(); ++d) {
          bool listed = llvm::is_contained(axes, d) ||
                        llvm::is_contained(axes, d - type.getRank());
          bool squeezed = axes.empty() ? type.getDimSize(d) == 1 : listed;
          if (squeezed && type.getDimSize(d) != 1)
            return nodeError(node) << "dimension " << d << " of " << type
                                   << " is not 1 and cannot be squeezed";
          if (!squeezed)
            shape.push_back(type.getDimSize(d));
        }
        return shape;
      });
}

LogicalResult Importer::importFlatten(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  int64_t axis = intAttr(node, "axis", 1);
  if (axis < 0)
    axis += type.getRank();
  if (axis < 0 || axis > type.getRank())
    return nodeError(node) << "axis " << intAttr(node, "axis", 1)
                           << " out of range for " << type;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < type.getRank(); ++i)
    (i < axis ? outer : inner) *= type.getDimSize(i);
  auto resultType =
      RankedTensorType::get({outer, inner}, builder.getF32Type());
  define(node, ReshapeOp::create(builder, nodeLoc(node), resultType, *x));
  return success();
}

LogicalResult Importer::importReshape(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  if (!hasInput(node, 1) || !intConstants.count(node.input(1)))
    return nodeError(node) << "the shape must be a constant (an initializer "
                              "or a Constant node)";
  if (intAttr(node, "allowzero", 0))
    return nodeError(node) << "attribute allowzero=1 is not supported";
  auto type = cast<RankedTensorType>(x->getType());
  const std::vector<int64_t> &spec = intConstants[node.input(1)];
  SmallVector<int64_t> shape;
  int64_t known = 1, inferred = -1;
  for (auto [i, entry] : llvm::enumerate(spec)) {
    int64_t d = entry;
    if (d == 0) {
      if (static_cast<int64_t>(i) >= type.getRank())
        return nodeError(node) << "shape entry " << i
                               << " is 0 but the input has rank "
                               << type.getRank();
      d = type.getDimSize(i);
    }
    if (d == -1) {
      if (inferred >= 0)
        return nodeError(node) << "shape has more than one -1";
      inferred = i;
    } else if (d < 0) {
      return nodeError(node) << "shape entry " << d << " is invalid";
    } else {
      std::optional<int64_t> product = checkedMul(known, d);
      if (!product)
        return nodeError(node) << "shape " << listText(spec)
                               << " has more elements than int64 counts";
      known = *product;
    }
    shape.push_back(d);
  }
  if (inferred >= 0) {
    if (known == 0 || type.getNumElements() % known != 0)
      return nodeError(node) << "cannot infer the -1 entry reshaping " << type;
    shape[inferred] = type.getNumElements() / known;
  }
  auto resultType = RankedTensorType::get(shape, builder.getF32Type());
  if (resultType.getNumElements() != type.getNumElements())
    return nodeError(node) << "cannot reshape " << type << " to "
                           << resultType;
  define(node, ReshapeOp::create(builder, nodeLoc(node), resultType, *x));
  return success();
}

LogicalResult Importer::importConstant(const onnx::NodeProto &node) {
  const onnx::AttributeProto *value = attribute(node, "value");
  if (!value || !value->has_t())
    return nodeError(node) << "only the 'value' tensor attribute is supported";
  const onnx::TensorProto &tensor = value->t();
  const std::string &name = node.output(0);
  if (failed(checkStoredDims(tensor, "constant", nodeLoc(node))))
    return failure();
  if (isIntegerTensor(tensor)) {
    auto data = readIntegers(tensor);
    if (!data)
      return nodeError(node) << "value holds fewer or more values than its "
                                "shape";
    intConstants[name] = std::move(*data);
    return success();
  }
  if (tensor.data_type() != onnx::TensorProto::FLOAT)
    return nodeError(node) << "constants of element type "
                           << onnx::TensorProto::DataType_Name(
                                  static_cast<onnx::TensorProto::DataType>(
                                      tensor.data_type()))
                           << " are not supported";
  return importFloatTensor(tensor, name, /*trainable=*/false, nodeLoc(node));
}

void Importer::addDataMovementHandlers(HandlerTable &table) {
  table["Transpose"] = &Importer::importTranspose;
  table["Concat"] = &Importer::importConcat;
  table["Pad"] = &Importer::importPad;
  table["Shape"] = &Importer::importShape;
  table["Gather"] = &Importer::importGather;
  table["Unsqueeze"] = &Importer::importUnsqueeze;
  table["Squeeze"] = &Importer::importSqueeze;
  table["Flatten"] = &Importer::importFlatten;
  table["Reshape"] = &Importer::importReshape;
  table["Constant"] = &Importer::importConstant;
}
