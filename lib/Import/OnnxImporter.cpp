//===- OnnxImporter.cpp - ONNX model to graph dialect ---------------------===//
//
// Walks the ONNX graph in order (ONNX requires topological order) and builds
// one graph-dialect op per node. Float initializers become trainable
// variables; integer tensors (Reshape's shape) are kept as compile-time
// constants. Shapes are computed here, with the batch fixed by the options.
//
//===----------------------------------------------------------------------===//

#include "dlc/Import/OnnxImporter.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Support/CheckedMath.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Format.h"

#include "onnx/onnx_pb.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;

namespace {

/// Reads a TensorProto's elements, from raw_data or the typed field.
template <typename T, typename Field>
std::optional<std::vector<T>> readElements(const onnx::TensorProto &tensor,
                                           const Field &typed) {
  std::optional<int64_t> bytes = checkedByteSize(tensor.dims(), sizeof(T));
  if (!bytes)
    return std::nullopt;
  int64_t count = *bytes / sizeof(T);
  std::vector<T> values;
  if (tensor.has_raw_data()) {
    const std::string &raw = tensor.raw_data();
    if (raw.size() != count * sizeof(T))
      return std::nullopt;
    values.resize(count);
    for (int64_t i = 0; i < count; ++i)
      values[i] = llvm::support::endian::read<T, llvm::endianness::little>(
          raw.data() + i * sizeof(T));
    return values;
  }
  if (typed.size() != count)
    return std::nullopt;
  values.assign(typed.begin(), typed.end());
  return values;
}

/// Integer and boolean tensors are compile-time values (shapes, axes,
/// flags); they are read as int64.
bool isIntegerTensor(const onnx::TensorProto &tensor) {
  return tensor.data_type() == onnx::TensorProto::INT64 ||
         tensor.data_type() == onnx::TensorProto::INT32 ||
         tensor.data_type() == onnx::TensorProto::BOOL;
}

std::optional<std::vector<int64_t>>
readIntegers(const onnx::TensorProto &tensor) {
  switch (tensor.data_type()) {
  case onnx::TensorProto::INT64:
    return readElements<int64_t>(tensor, tensor.int64_data());
  case onnx::TensorProto::INT32: {
    auto values = readElements<int32_t>(tensor, tensor.int32_data());
    if (!values)
      return std::nullopt;
    return std::vector<int64_t>(values->begin(), values->end());
  }
  default: {
    // BOOL: one byte each in raw_data, int32_data otherwise.
    auto values = readElements<uint8_t>(tensor, tensor.int32_data());
    if (!values)
      return std::nullopt;
    return std::vector<int64_t>(values->begin(), values->end());
  }
  }
}

class Importer {
public:
  static std::vector<std::string> supportedOps() {
    std::vector<std::string> names;
    for (const auto &entry : handlers())
      names.push_back(entry.getKey().str());
    std::sort(names.begin(), names.end());
    return names;
  }

  Importer(MLIRContext *context, StringRef fileName,
           const OnnxImportOptions &options)
      : context(context), fileName(fileName.str()), options(options),
        builder(context) {}

  OwningOpRef<ModuleOp> run(const onnx::ModelProto &model);

private:
  using NodeHandler =
      std::function<LogicalResult(Importer &, const onnx::NodeProto &)>;
  static const llvm::StringMap<NodeHandler> &handlers();

  Location fileLoc() { return FileLineColLoc::get(context, fileName, 0, 0); }
  Location nodeLoc(const onnx::NodeProto &node) {
    return NameLoc::get(StringAttr::get(context, node.name()), fileLoc());
  }
  InFlightDiagnostic nodeError(const onnx::NodeProto &node) {
    // Unnamed nodes (ONNX allows them) are named by their first output.
    std::string name = !node.name().empty() ? "'" + node.name() + "'"
                       : node.output_size()
                           ? "producing '" + node.output(0) + "'"
                           : "''";
    return emitError(nodeLoc(node)) << "ONNX node " << name << " ("
                                    << node.op_type() << ", opset " << opset
                                    << "): ";
  }

  LogicalResult importInitializers(const onnx::GraphProto &graph);
  LogicalResult importFloatTensor(const onnx::TensorProto &tensor,
                                  StringRef name, bool trainable,
                                  Location loc);
  FailureOr<RankedTensorType> importDataInput(const onnx::GraphProto &graph);
  /// Inference mode: all non-initializer inputs, with their given shapes.
  LogicalResult importInferenceInputs(const onnx::GraphProto &graph,
                                      SmallVector<std::string> &names,
                                      SmallVector<Type> &types);
  LogicalResult importNode(const onnx::NodeProto &node);

  /// The value of input `index` of `node`, loading variables on first use.
  FailureOr<Value> input(const onnx::NodeProto &node, int index);
  FailureOr<RankedTensorType> inputType(const onnx::NodeProto &node,
                                        int index);
  bool hasInput(const onnx::NodeProto &node, int index) {
    return index < node.input_size() && !node.input(index).empty();
  }
  void define(const onnx::NodeProto &node, Value value) {
    values[node.output(0)] = value;
  }
  /// Verifies a just-built op (its location names the node) and records its
  /// result as the node's output.
  LogicalResult defineVerified(const onnx::NodeProto &node, Operation *op) {
    if (failed(verify(op)))
      return failure();
    for (Type type : op->getResultTypes())
      if (failed(checkTensorSize(node, cast<RankedTensorType>(type))))
        return failure();
    define(node, op->getResult(0));
    return success();
  }
  /// Refuses a result whose byte size overflows or passes kMaxTensorBytes.
  LogicalResult checkTensorSize(const onnx::NodeProto &node,
                                RankedTensorType type) {
    if (checkedByteSize(type.getShape(), 4))
      return success();
    return nodeError(node) << "its result " << type
                           << " is larger than dlc's limit of "
                           << kMaxTensorBytes << " bytes per tensor";
  }
  /// Refuses a stored tensor whose dims are negative or whose size overflows
  /// (before anything allocates for it).
  LogicalResult checkStoredDims(const onnx::TensorProto &tensor,
                                StringRef what, Location loc) {
    if (checkedByteSize(tensor.dims(), 8))
      return success();
    std::string dims = "[";
    for (auto [i, d] : llvm::enumerate(tensor.dims()))
      dims += (i ? ", " : "") + std::to_string(d);
    return emitError(loc) << what << " '" << tensor.name() << "' has dims "
                          << dims << "]: negative, or more than "
                          << kMaxTensorBytes << " bytes";
  }
  const onnx::AttributeProto *attribute(const onnx::NodeProto &node,
                                        StringRef name) {
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.name() == name)
        return &attr;
    return nullptr;
  }
  int64_t intAttr(const onnx::NodeProto &node, StringRef name, int64_t def) {
    const onnx::AttributeProto *attr = attribute(node, name);
    return attr ? attr->i() : def;
  }
  float floatAttr(const onnx::NodeProto &node, StringRef name, float def) {
    const onnx::AttributeProto *attr = attribute(node, name);
    return attr ? attr->f() : def;
  }
  std::string symbolFor(StringRef onnxName);

  // One importer per ONNX op type.
  LogicalResult importGemm(const onnx::NodeProto &node);
  LogicalResult importMatMul(const onnx::NodeProto &node);
  template <typename OpT>
  LogicalResult importBinary(const onnx::NodeProto &node);
  template <typename OpT>
  LogicalResult importActivation(const onnx::NodeProto &node);
  LogicalResult importLeakyRelu(const onnx::NodeProto &node);
  LogicalResult importConv(const onnx::NodeProto &node);
  LogicalResult importPool(const onnx::NodeProto &node);
  LogicalResult importGlobalAveragePool(const onnx::NodeProto &node);
  LogicalResult importBatchNorm(const onnx::NodeProto &node);
  LogicalResult importBatchNormOnValues(const onnx::NodeProto &node,
                                        Value x, Value scale, Value bias);
  LogicalResult importTranspose(const onnx::NodeProto &node);
  LogicalResult importConcat(const onnx::NodeProto &node);
  LogicalResult importClip(const onnx::NodeProto &node);
  LogicalResult importSum(const onnx::NodeProto &node);
  LogicalResult importReduceMean(const onnx::NodeProto &node);
  LogicalResult importLogSoftmax(const onnx::NodeProto &node);
  template <typename OpT>
  LogicalResult importSoftmaxLike(const onnx::NodeProto &node);
  LogicalResult importPad(const onnx::NodeProto &node);
  LogicalResult importLrn(const onnx::NodeProto &node);
  // Integer shape arithmetic, evaluated at compile time.
  LogicalResult importShape(const onnx::NodeProto &node);
  LogicalResult importGather(const onnx::NodeProto &node);
  /// Unsqueeze and Squeeze: an integer constant passes through; a float
  /// tensor is reshaped to what `reshaped` makes of its type and the axes.
  LogicalResult importAxesReshape(
      const onnx::NodeProto &node,
      llvm::function_ref<mlir::FailureOr<llvm::SmallVector<int64_t>>(
          mlir::RankedTensorType, llvm::ArrayRef<int64_t>)>
          reshaped);
  LogicalResult importUnsqueeze(const onnx::NodeProto &node);
  LogicalResult importSqueeze(const onnx::NodeProto &node);
  bool isIntConstant(const onnx::NodeProto &node, int index) {
    return hasInput(node, index) && intConstants.count(node.input(index));
  }
  /// The axes of Unsqueeze/Squeeze: an attribute before opset 13, an input
  /// after.
  FailureOr<SmallVector<int64_t>> axesOf(const onnx::NodeProto &node);
  /// Unsqueeze and Squeeze change no values: on an integer constant (kept
  /// flat) they pass it through. Returns whether they did.
  bool passIntConstant(const onnx::NodeProto &node);
  /// The value of a scalar float constant input (initializer or Constant
  /// node), which stops being a trainable parameter.
  FailureOr<float> constantScalar(const onnx::NodeProto &node, int index);
  /// Whether input `index` is a scalar float constant (initializer or
  /// Constant node).
  bool isConstantScalar(const onnx::NodeProto &node, int index) {
    if (!hasInput(node, index))
      return false;
    auto it = variables.find(node.input(index));
    if (it == variables.end())
      return false;
    auto dense =
        dyn_cast_or_null<DenseElementsAttr>(it->second.getInitialValueAttr());
    return dense && dense.getNumElements() == 1;
  }

  /// A sliding window's attributes, resolved to explicit values.
  struct Window {
    SmallVector<int64_t> kernel, strides, pads, dilations;
    /// Ceil mode added padding at the end of some dimension.
    bool ceilPadded = false;
  };
  FailureOr<Window> windowAttributes(const onnx::NodeProto &node,
                                     RankedTensorType input,
                                     ArrayRef<int64_t> kernel);
  SmallVector<int64_t> intsAttr(const onnx::NodeProto &node, StringRef name,
                                ArrayRef<int64_t> def) {
    const onnx::AttributeProto *attr = attribute(node, name);
    if (!attr)
      return SmallVector<int64_t>(def.begin(), def.end());
    return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
  }
  std::string stringAttr(const onnx::NodeProto &node, StringRef name,
                         StringRef def) {
    const onnx::AttributeProto *attr = attribute(node, name);
    return attr ? attr->s() : def.str();
  }
  LogicalResult importIdentity(const onnx::NodeProto &node);
  LogicalResult importDropout(const onnx::NodeProto &node);
  LogicalResult importSoftmax(const onnx::NodeProto &node);
  LogicalResult importFlatten(const onnx::NodeProto &node);
  LogicalResult importReshape(const onnx::NodeProto &node);
  LogicalResult importConstant(const onnx::NodeProto &node);

  MLIRContext *context;
  std::string fileName;
  OnnxImportOptions options;
  OpBuilder builder;
  ModuleOp module;
  int64_t opset = 0;
  llvm::StringMap<Value> values;
  /// ONNX name -> variable symbol, for float tensors stored in variables.
  llvm::StringMap<VariableOp> variables;
  /// ONNX name -> value, for integer tensors known at compile time.
  llvm::StringMap<std::vector<int64_t>> intConstants;
  llvm::StringSet<> usedSymbols;
  /// Every ONNX value name defined so far, to refuse a second definition.
  llvm::StringSet<> definedNames;
  std::string dataInputName;
  /// Outputs dlc does not compute (Dropout's mask, BatchNormalization's
  /// statistics), with what produced them, for a clear error if read.
  llvm::StringMap<std::string> uncomputed;
  void markUncomputed(const onnx::NodeProto &node, int from) {
    for (int i = from; i < node.output_size(); ++i)
      if (!node.output(i).empty())
        uncomputed[node.output(i)] = node.op_type() + " '" +
                                     (node.name().empty() ? node.output(0)
                                                          : node.name()) +
                                     "'";
  }
};

} // namespace

/// The first opset from which a node reads as dlc imports it. Older opsets
/// (1 to 6) are accepted op by op: most ops only lost the legacy
/// `consumed_inputs` hint, which changes no values.
int64_t meaningUnchangedSince(const onnx::NodeProto &node) {
  static const llvm::StringMap<int64_t> changed = {
      // is_test / spatial attributes, a different output list.
      {"BatchNormalization", 7},
      {"Dropout", 7},
      // The shape was an attribute; the axis had a default.
      {"Reshape", 5},
      {"Concat", 4},
      // `paddings` before opset 2.
      {"Pad", 2},
  };
  auto it = changed.find(node.op_type());
  if (it != changed.end())
    return it->second;
  // Legacy broadcasting (`broadcast`, `axis`) aligned dimensions differently.
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == "broadcast" || (attr.name() == "axis" &&
                                       (node.op_type() == "Add" ||
                                        node.op_type() == "Sub" ||
                                        node.op_type() == "Mul" ||
                                        node.op_type() == "Div")))
      return 7;
  return 1;
}

const llvm::StringMap<Importer::NodeHandler> &Importer::handlers() {
  static const llvm::StringMap<NodeHandler> table = {
      {"Gemm", &Importer::importGemm},
      {"MatMul", &Importer::importMatMul},
      {"Add", &Importer::importBinary<AddOp>},
      {"Sub", &Importer::importBinary<SubOp>},
      {"Mul", &Importer::importBinary<MulOp>},
      {"Div", &Importer::importBinary<DivOp>},
      {"Relu", &Importer::importActivation<ReluOp>},
      {"Sigmoid", &Importer::importActivation<SigmoidOp>},
      {"Tanh", &Importer::importActivation<TanhOp>},
      {"LeakyRelu", &Importer::importLeakyRelu},
      {"Conv", &Importer::importConv},
      {"MaxPool", &Importer::importPool},
      {"AveragePool", &Importer::importPool},
      {"GlobalAveragePool", &Importer::importGlobalAveragePool},
      {"BatchNormalization", &Importer::importBatchNorm},
      {"Transpose", &Importer::importTranspose},
      {"Concat", &Importer::importConcat},
      {"Clip", &Importer::importClip},
      {"Sum", &Importer::importSum},
      {"ReduceMean", &Importer::importReduceMean},
      {"LogSoftmax", &Importer::importLogSoftmax},
      {"Pad", &Importer::importPad},
      {"LRN", &Importer::importLrn},
      {"Shape", &Importer::importShape},
      {"Gather", &Importer::importGather},
      {"Unsqueeze", &Importer::importUnsqueeze},
      {"Squeeze", &Importer::importSqueeze},
      {"Identity", &Importer::importIdentity},
      {"Dropout", &Importer::importDropout},
      {"Softmax", &Importer::importSoftmax},
      {"Flatten", &Importer::importFlatten},
      {"Reshape", &Importer::importReshape},
      {"Constant", &Importer::importConstant},
  };
  return table;
}

std::string Importer::symbolFor(StringRef onnxName) {
  std::string base;
  for (char c : onnxName)
    base.push_back(llvm::isAlnum(c) ? c : '_');
  if (base.empty() || llvm::isDigit(base[0]))
    base = "v_" + base;
  std::string name = base;
  for (int suffix = 1; !usedSymbols.insert(name).second; ++suffix)
    name = base + "_" + std::to_string(suffix);
  return name;
}

LogicalResult Importer::importFloatTensor(const onnx::TensorProto &tensor,
                                          StringRef name, bool trainable,
                                          Location loc) {
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL)
    return emitError(loc) << "tensor '" << name
                          << "' stores its data externally, which dlc does "
                             "not read yet";
  auto data = readElements<float>(tensor, tensor.float_data());
  if (!data)
    return emitError(loc) << "tensor '" << name
                          << "' holds fewer or more values than its shape";
  SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  auto init = DenseElementsAttr::get(type, ArrayRef<float>(*data));
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto variable = VariableOp::create(builder, loc, symbolFor(name), type, init,
                                     trainable, builder.getStringAttr(name));
  variables[name] = variable;
  return success();
}

LogicalResult Importer::importInitializers(const onnx::GraphProto &graph) {
  for (const onnx::TensorProto &tensor : graph.initializer()) {
    Location loc = NameLoc::get(builder.getStringAttr(tensor.name()), fileLoc());
    if (failed(checkStoredDims(tensor, "initializer", loc)))
      return failure();
    switch (tensor.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (failed(importFloatTensor(tensor, tensor.name(), /*trainable=*/true,
                                   loc)))
        return failure();
      break;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::BOOL: {
      auto data = readIntegers(tensor);
      if (!data)
        return emitError(loc) << "initializer '" << tensor.name()
                              << "' holds fewer or more values than its shape";
      intConstants[tensor.name()] = std::move(*data);
      break;
    }
    default:
      return emitError(loc) << "initializer '" << tensor.name()
                            << "' has element type "
                            << onnx::TensorProto::DataType_Name(
                                   static_cast<onnx::TensorProto::DataType>(
                                       tensor.data_type()))
                            << "; dlc supports float and int64 initializers";
    }
  }
  return success();
}

FailureOr<RankedTensorType> Importer::importDataInput(const onnx::GraphProto &graph) {
  const onnx::ValueInfoProto *data = nullptr;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (variables.count(input.name()) || intConstants.count(input.name()))
      continue;
    if (data)
      return emitError(fileLoc())
             << "model has more than one data input ('" << data->name()
             << "', '" << input.name() << "'); dlc trains single-input models";
    data = &input;
  }
  if (!data)
    return emitError(fileLoc()) << "model has no data input";
  Location loc = NameLoc::get(builder.getStringAttr(data->name()), fileLoc());
  const onnx::TypeProto &type = data->type();
  if (!type.has_tensor_type() ||
      type.tensor_type().elem_type() != onnx::TensorProto::FLOAT ||
      !type.tensor_type().has_shape())
    return emitError(loc) << "data input '" << data->name()
                          << "' must be a float tensor with a known shape";
  SmallVector<int64_t> shape;
  for (const auto &dim : type.tensor_type().shape().dim()) {
    // The batch dimension is replaced whatever it was; the rest must be fixed.
    if (shape.empty()) {
      shape.push_back(options.batchSize);
      continue;
    }
    if (!dim.has_dim_value() || dim.dim_value() <= 0)
      return emitError(loc) << "data input '" << data->name() << "' dimension "
                            << shape.size() << " is not a fixed size";
    shape.push_back(dim.dim_value());
  }
  if (shape.empty())
    return emitError(loc) << "data input '" << data->name()
                          << "' is a scalar; it needs a batch dimension";
  if (!checkedByteSize(shape, 4))
    return emitError(loc) << "data input '" << data->name() << "' with batch "
                          << options.batchSize << " (--batch) is larger than "
                          << kMaxTensorBytes << " bytes";

  module->setAttr(kOnnxInputNameAttr, builder.getStringAttr(data->name()));
  dataInputName = data->name();
  return RankedTensorType::get(shape, builder.getF32Type());
}

LogicalResult
Importer::importInferenceInputs(const onnx::GraphProto &graph,
                                SmallVector<std::string> &names,
                                SmallVector<Type> &types) {
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (variables.count(input.name()) || intConstants.count(input.name()))
      continue;
    Location loc = NameLoc::get(builder.getStringAttr(input.name()), fileLoc());
    const onnx::TypeProto &type = input.type();
    if (!type.has_tensor_type() || !type.tensor_type().has_shape())
      return emitError(loc) << "input '" << input.name()
                            << "' must be a tensor with a known shape";
    if (type.tensor_type().elem_type() != onnx::TensorProto::FLOAT)
      return emitError(loc)
             << "input '" << input.name() << "' has element type "
             << onnx::TensorProto::DataType_Name(
                    static_cast<onnx::TensorProto::DataType>(
                        type.tensor_type().elem_type()))
             << "; dlc supports float inputs";
    SmallVector<int64_t> shape;
    for (const auto &dim : type.tensor_type().shape().dim()) {
      if (!dim.has_dim_value() || dim.dim_value() < 0)
        return emitError(loc) << "input '" << input.name() << "' dimension "
                              << shape.size() << " is not a fixed size";
      shape.push_back(dim.dim_value());
    }
    if (!checkedByteSize(shape, 4))
      return emitError(loc) << "input '" << input.name()
                            << "' is larger than " << kMaxTensorBytes
                            << " bytes";
    names.push_back(input.name());
    types.push_back(RankedTensorType::get(shape, builder.getF32Type()));
  }
  // A graph of constants has no input; it still runs.
  return success();
}

FailureOr<Value> Importer::input(const onnx::NodeProto &node, int index) {
  if (!hasInput(node, index)) {
    nodeError(node) << "input " << index << " is missing";
    return failure();
  }
  const std::string &name = node.input(index);
  if (Value value = values.lookup(name))
    return value;
  auto variable = variables.find(name);
  if (variable != variables.end()) {
    // Loaded once, where first used; later uses share the load.
    Value load = LoadOp::create(builder, nodeLoc(node),
                                variable->second.getType(),
                                variable->second.getSymName());
    values[name] = load;
    return load;
  }
  if (intConstants.count(name)) {
    nodeError(node) << "input '" << name
                    << "' is an integer constant, which this op cannot take";
    return failure();
  }
  auto skipped = uncomputed.find(name);
  if (skipped != uncomputed.end()) {
    nodeError(node) << "input '" << name << "' is an extra output of "
                    << skipped->second << ", which dlc does not compute";
    return failure();
  }
  nodeError(node) << "input '" << name << "' is not defined by any earlier "
                                          "node, initializer or graph input";
  return failure();
}

FailureOr<RankedTensorType> Importer::inputType(const onnx::NodeProto &node,
                                                int index) {
  FailureOr<Value> value = input(node, index);
  if (failed(value))
    return failure();
  return cast<RankedTensorType>(value->getType());
}

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
  int64_t m = aType.getDimSize(transA ? 1 : 0);
  int64_t n = bType.getDimSize(transB ? 0 : 1);
  auto type = RankedTensorType::get({m, n}, builder.getF32Type());
  SmallVector<Value> operands = {*a, *b};
  if (hasInput(node, 2)) {
    FailureOr<Value> c = input(node, 2);
    if (failed(c))
      return failure();
    operands.push_back(*c);
  }
  auto gemm = GemmOp::create(builder, nodeLoc(node), TypeRange{type},
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
    auto type = RankedTensorType::get(
        {aType.getDimSize(0), bType.getDimSize(1)}, f32);
    auto gemm = GemmOp::create(builder, loc, TypeRange{type},
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
  if (lhsType.getDimSize(lhsType.getRank() - 1) !=
      rhsType.getDimSize(rhsType.getRank() - 2))
    return nodeError(node) << "shapes " << aType << " and " << bType
                           << " do not multiply";
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhsType.getShape().drop_back(2),
                                          rhsType.getShape().drop_back(2),
                                          shape))
    return nodeError(node) << "batch dimensions of " << aType << " and "
                           << bType << " do not broadcast";
  shape.push_back(lhsType.getDimSize(lhsType.getRank() - 2));
  shape.push_back(rhsType.getDimSize(rhsType.getRank() - 1));
  Value product;
  if (lhsType.getRank() == 2 && rhsType.getRank() == 2)
    product = GemmOp::create(builder, loc,
                             TypeRange{RankedTensorType::get(shape, f32)},
                             ValueRange{lhs, rhs}, ArrayRef<NamedAttribute>{});
  else
    product = MatMulOp::create(builder, loc, RankedTensorType::get(shape, f32),
                               lhs, rhs);
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

template <typename OpT>
LogicalResult Importer::importBinary(const onnx::NodeProto &node) {
  FailureOr<Value> lhs = input(node, 0), rhs = input(node, 1);
  if (failed(lhs) || failed(rhs))
    return failure();
  auto lhsType = cast<RankedTensorType>(lhs->getType());
  auto rhsType = cast<RankedTensorType>(rhs->getType());
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lhsType.getShape(),
                                          rhsType.getShape(), shape))
    return nodeError(node) << "shapes " << lhsType << " and " << rhsType
                           << " do not broadcast";
  define(node, OpT::create(builder, nodeLoc(node),
                           RankedTensorType::get(shape, builder.getF32Type()),
                           *lhs, *rhs));
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

namespace {
/// The largest size, stride or pad an attribute may give: a bound that keeps
/// the shape arithmetic on them far from overflow.
constexpr int64_t kMaxDimension = int64_t(1) << 31;

/// `2` rather than the diagnostic's `2.000000e+00`.
std::string shortNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

std::string listText(ArrayRef<int64_t> values) {
  std::string text = "[";
  for (auto [i, v] : llvm::enumerate(values))
    text += (i ? ", " : "") + std::to_string(v);
  return text + "]";
}
} // namespace

FailureOr<Importer::Window>
Importer::windowAttributes(const onnx::NodeProto &node, RankedTensorType input,
                           ArrayRef<int64_t> kernel) {
  Window window;
  size_t rank = kernel.size();
  window.kernel.assign(kernel.begin(), kernel.end());
  window.strides = intsAttr(node, "strides", SmallVector<int64_t>(rank, 1));
  window.dilations =
      intsAttr(node, "dilations", SmallVector<int64_t>(rank, 1));
  window.pads = intsAttr(node, "pads", SmallVector<int64_t>(2 * rank, 0));
  if (window.strides.size() != rank || window.dilations.size() != rank ||
      window.pads.size() != 2 * rank) {
    nodeError(node) << "strides " << listText(window.strides) << ", dilations "
                    << listText(window.dilations) << " and pads "
                    << listText(window.pads) << " do not describe a " << rank
                    << "-D window";
    return failure();
  }
  // Checked before any size is computed from them: a zero stride divides by
  // zero, a huge one overflows.
  struct Bound {
    const char *name;
    ArrayRef<int64_t> values;
    int64_t lowest;
  };
  for (const Bound &bound : {Bound{"kernel_shape ", window.kernel, 1},
                             Bound{"attribute strides=", window.strides, 1},
                             Bound{"attribute dilations=", window.dilations, 1},
                             Bound{"attribute pads=", window.pads, 0}})
    for (int64_t v : bound.values) {
      if (v >= bound.lowest && v <= kMaxDimension)
        continue;
      InFlightDiagnostic diag = nodeError(node)
                                << bound.name << listText(bound.values);
      if (v > kMaxDimension)
        diag << " exceeds " << kMaxDimension;
      else
        diag << (bound.lowest ? " must be positive" : " must not be negative");
      return failure();
    }
  std::string autoPad = stringAttr(node, "auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    window.pads.assign(2 * rank, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // Output = ceil(input / stride); the odd pad goes at the end for
    // SAME_UPPER, at the beginning for SAME_LOWER.
    for (size_t i = 0; i < rank; ++i) {
      int64_t in = input.getDimSize(2 + i), stride = window.strides[i];
      int64_t out = (in + stride - 1) / stride;
      int64_t span = window.dilations[i] * (window.kernel[i] - 1) + 1;
      int64_t total = std::max<int64_t>((out - 1) * stride + span - in, 0);
      int64_t small = total / 2, large = total - small;
      window.pads[i] = autoPad == "SAME_UPPER" ? small : large;
      window.pads[i + rank] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (intAttr(node, "ceil_mode", 0) == 1) {
    // Ceil mode: as many windows as start inside the input or its leading
    // pad (PyTorch's and ONNX's rule), made floor mode by padding the end.
    for (size_t i = 0; i < rank; ++i) {
      int64_t in = input.getDimSize(2 + i), stride = window.strides[i];
      int64_t span = window.dilations[i] * (window.kernel[i] - 1) + 1;
      int64_t padded = in + window.pads[i] + window.pads[i + rank];
      if (padded < span)
        continue; // does not fit; reported by the caller
      int64_t out = (padded - span + stride - 1) / stride + 1;
      if ((out - 1) * stride >= in + window.pads[i])
        --out;
      int64_t extra = (out - 1) * stride + span - padded;
      if (extra > 0) {
        window.pads[i + rank] += extra;
        window.ceilPadded = true;
      }
    }
  } else if (autoPad != "NOTSET") {
    nodeError(node) << "attribute auto_pad='" << autoPad
                    << "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID";
    return failure();
  }
  return window;
}

LogicalResult Importer::importConv(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0), w = input(node, 1);
  if (failed(x) || failed(w))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  auto wType = cast<RankedTensorType>(w->getType());
  if (xType.getRank() != 4 || wType.getRank() != 4)
    return nodeError(node) << "kernel_shape "
                           << listText(intsAttr(node, "kernel_shape",
                                                wType.getShape().drop_front(
                                                    std::min<int64_t>(
                                                        2, wType.getRank()))))
                           << " (" << wType.getRank() - 2
                           << "-D convolution) is not supported; dlc supports "
                              "2-D convolution on N x C x H x W inputs";
  SmallVector<int64_t> kernel(wType.getShape().drop_front(2));
  if (intsAttr(node, "kernel_shape", kernel) != kernel)
    return nodeError(node) << "kernel_shape "
                           << listText(intsAttr(node, "kernel_shape", kernel))
                           << " does not match the filter " << wType;
  FailureOr<Window> window = windowAttributes(node, xType, kernel);
  if (failed(window))
    return failure();
  int64_t group = intAttr(node, "group", 1);
  int64_t outChannels = wType.getDimSize(0);
  SmallVector<int64_t> shape = {xType.getDimSize(0), outChannels};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOutputSize(xType.getDimSize(2 + i), kernel[i],
                                     window->strides[i], window->pads[i],
                                     window->pads[i + 2],
                                     window->dilations[i]));
  if (shape[2] < 1 || shape[3] < 1)
    return nodeError(node) << "the " << listText(kernel)
                           << " window does not fit the input " << xType;
  SmallVector<Value> operands = {*x, *w};
  if (hasInput(node, 2)) {
    FailureOr<Value> b = input(node, 2);
    if (failed(b))
      return failure();
    operands.push_back(*b);
  }
  auto conv = Conv2DOp::create(
      builder, nodeLoc(node),
      TypeRange{RankedTensorType::get(shape, builder.getF32Type())}, operands,
      ArrayRef<NamedAttribute>{});
  conv.setStrides(window->strides);
  conv.setPads(window->pads);
  conv.setDilations(window->dilations);
  conv.setGroup(group);
  return defineVerified(node, conv);
}

LogicalResult Importer::importPool(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  SmallVector<int64_t> kernel = intsAttr(node, "kernel_shape", {});
  int64_t spatial = static_cast<int64_t>(kernel.size());
  if ((spatial != 1 && spatial != 2) || xType.getRank() != 2 + spatial)
    return nodeError(node) << "kernel_shape " << listText(kernel) << " ("
                           << kernel.size()
                           << "-D pooling) on " << xType
                           << " is not supported; dlc supports 1-D and 2-D "
                              "pooling on N x C x [H x] W inputs";
  if (int64_t ceil = intAttr(node, "ceil_mode", 0); ceil != 0 && ceil != 1)
    return nodeError(node) << "attribute ceil_mode=" << ceil
                           << " must be 0 or 1";
  if (node.output_size() > 1 && !node.output(1).empty())
    return nodeError(node) << "the Indices output is not supported";
  FailureOr<Window> window = windowAttributes(node, xType, kernel);
  if (failed(window))
    return failure();
  bool max = node.op_type() == "MaxPool";
  bool countIncludePad = intAttr(node, "count_include_pad", 0) != 0;
  if (!max && window->dilations != SmallVector<int64_t>(spatial, 1))
    return nodeError(node) << "attribute dilations="
                           << listText(window->dilations)
                           << " is not supported for average pooling";
  // 1-D pooling is 2-D pooling over N x C x L x 1.
  Window w2 = *window;
  Value input = *x;
  if (spatial == 1) {
    w2.kernel = {window->kernel[0], 1};
    w2.strides = {window->strides[0], 1};
    w2.dilations = {window->dilations[0], 1};
    w2.pads = {window->pads[0], 0, window->pads[1], 0};
    auto planar = RankedTensorType::get(
        {xType.getDimSize(0), xType.getDimSize(1), xType.getDimSize(2), 1},
        builder.getF32Type());
    input = ReshapeOp::create(builder, nodeLoc(node), planar, input);
  }
  auto inType = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape = {inType.getDimSize(0), inType.getDimSize(1)};
  for (int i = 0; i < 2; ++i)
    shape.push_back(windowOutputSize(inType.getDimSize(2 + i), w2.kernel[i],
                                     w2.strides[i], w2.pads[i],
                                     w2.pads[i + 2], w2.dilations[i]));
  if (shape[2] < 1 || shape[3] < 1)
    return nodeError(node) << "the " << listText(kernel)
                           << " window does not fit the input " << xType;
  // Ceil mode's extra end padding must not count as a window's elements.
  if (!max && countIncludePad && window->ceilPadded)
    return nodeError(node) << "ceil_mode=1 with count_include_pad=1 is not "
                              "supported where ceil mode pads the input";
  auto type = RankedTensorType::get(shape, builder.getF32Type());
  Operation *pool;
  if (max) {
    bool dilated = w2.dilations != SmallVector<int64_t>{1, 1};
    pool = MaxPool2DOp::create(
        builder, nodeLoc(node), type, input,
        builder.getDenseI64ArrayAttr(w2.kernel),
        builder.getDenseI64ArrayAttr(w2.strides),
        builder.getDenseI64ArrayAttr(w2.pads),
        dilated ? builder.getDenseI64ArrayAttr(w2.dilations)
                : DenseI64ArrayAttr());
  } else {
    pool = AvgPool2DOp::create(builder, nodeLoc(node), type, input, w2.kernel,
                               w2.strides, w2.pads, countIncludePad);
  }
  if (failed(verify(pool)))
    return failure();
  Value result = pool->getResult(0);
  if (spatial == 1)
    result = ReshapeOp::create(
        builder, nodeLoc(node),
        RankedTensorType::get({shape[0], shape[1], shape[2]},
                              builder.getF32Type()),
        result);
  define(node, result);
  return success();
}

LogicalResult Importer::importGlobalAveragePool(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto xType = cast<RankedTensorType>(x->getType());
  if (xType.getRank() != 4)
    return nodeError(node) << "input " << xType
                           << " is not N x C x H x W (2-D pooling)";
  auto type = RankedTensorType::get(
      {xType.getDimSize(0), xType.getDimSize(1), 1, 1}, builder.getF32Type());
  SmallVector<int64_t> kernel = {xType.getDimSize(2), xType.getDimSize(3)};
  return defineVerified(
      node, AvgPool2DOp::create(builder, nodeLoc(node), type, *x, kernel,
                                SmallVector<int64_t>{1, 1},
                                SmallVector<int64_t>{0, 0, 0, 0},
                                /*count_include_pad=*/false));
}

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
  // (x - mean) * rsqrt(variance + epsilon) * scale + bias, per channel.
  SmallVector<int64_t> statShape(xType.getRank(), 1);
  statShape[1] = xType.getDimSize(1);
  auto statType = RankedTensorType::get(statShape, builder.getF32Type());
  auto perChannel = [&](Value v) -> Value {
    return ReshapeOp::create(builder, loc, statType, v);
  };
  Value invStd = RsqrtOp::create(builder, loc, perChannel(*variance), epsilon);
  Value factor = MulOp::create(builder, loc, statType, invStd,
                               perChannel(scale));
  Value centered = SubOp::create(builder, loc, xType, x, perChannel(*mean));
  Value scaled = MulOp::create(builder, loc, xType, centered, factor);
  define(node, AddOp::create(builder, loc, xType, scaled, perChannel(bias)));
  return success();
}

LogicalResult Importer::importTranspose(const onnx::NodeProto &node) {
  FailureOr<Value> x = input(node, 0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  SmallVector<int64_t> reversed;
  for (int64_t d = type.getRank() - 1; d >= 0; --d)
    reversed.push_back(d);
  SmallVector<int64_t> perm = intsAttr(node, "perm", reversed);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= type.getRank())
      return nodeError(node) << "attribute perm=" << listText(perm)
                             << " is not a permutation of " << type;
    shape.push_back(type.getDimSize(p));
  }
  auto op = TransposeOp::create(
      builder, nodeLoc(node), RankedTensorType::get(shape, builder.getF32Type()),
      *x, perm);
  return defineVerified(node, op);
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
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : inputs) {
    auto type = cast<RankedTensorType>(v.getType());
    if (type.getRank() != first.getRank())
      return nodeError(node) << "inputs " << first << " and " << type
                             << " differ in rank";
    shape[axis] += type.getDimSize(axis);
  }
  auto op = ConcatOp::create(builder, nodeLoc(node),
                             RankedTensorType::get(shape, builder.getF32Type()),
                             inputs, axis);
  return defineVerified(node, op);
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
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(type.getDimSize(d) + low[d] + high[d]);
  define(node, PadOp::create(builder, nodeLoc(node),
                             RankedTensorType::get(shape, builder.getF32Type()),
                             *x, builder.getDenseI64ArrayAttr(low),
                             builder.getDenseI64ArrayAttr(high),
                             builder.getF32FloatAttr(value)));
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

LogicalResult Importer::importSoftmax(const onnx::NodeProto &node) {
  return importSoftmaxLike<SoftmaxOp>(node);
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

//===----------------------------------------------------------------------===//
// Driver
//===----------------------------------------------------------------------===//

LogicalResult Importer::importNode(const onnx::NodeProto &node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return nodeError(node) << "domain '" << node.domain()
                           << "' is not supported";
  auto handler = handlers().find(node.op_type());
  if (handler == handlers().end())
    return nodeError(node) << "unsupported op type '" << node.op_type() << "'";
  if (int64_t since = meaningUnchangedSince(node); opset < since)
    return nodeError(node) << "before opset " << since << " "
                           << node.op_type()
                           << " meant something else; re-export the model "
                              "at a newer opset";
  if (node.output_size() < 1)
    return nodeError(node) << "node has no output";
  // Non-finite attributes would reach the generated C++ as literals.
  for (const onnx::AttributeProto &attr : node.attribute()) {
    if (attr.type() == onnx::AttributeProto::FLOAT && !std::isfinite(attr.f()))
      return nodeError(node) << "attribute " << attr.name() << "=" << attr.f()
                             << " is not a finite number";
    for (float f : attr.floats())
      if (!std::isfinite(f))
        return nodeError(node) << "attribute " << attr.name()
                               << " holds the non-finite value " << f;
  }
  for (const std::string &output : node.output())
    if (!output.empty() && !definedNames.insert(output).second)
      return nodeError(node) << "output '" << output
                             << "' is already defined by an earlier node, "
                                "initializer or graph input (ONNX graphs are "
                                "in SSA form)";
  if (failed(handler->second(*this, node)))
    return failure();
  // Whatever the handler computed, no tensor may exceed the size limit.
  for (const std::string &output : node.output())
    if (Value value = values.lookup(output))
      if (failed(checkTensorSize(node, cast<RankedTensorType>(value.getType()))))
        return failure();
  return success();
}

OwningOpRef<ModuleOp> Importer::run(const onnx::ModelProto &model) {
  for (const onnx::OperatorSetIdProto &set : model.opset_import())
    if (set.domain().empty() || set.domain() == "ai.onnx")
      opset = set.version();
  if (opset == 0) {
    emitError(fileLoc()) << "model imports no default-domain opset";
    return nullptr;
  }
  if (opset > kMaxOpset) {
    emitError(fileLoc()) << "opset " << opset << " is newer than dlc supports ("
                         << kMinOpset << " to " << kMaxOpset << ")";
    return nullptr;
  }
  const onnx::GraphProto &graph = model.graph();
  if (graph.node_size() == 0) {
    emitError(fileLoc()) << "the model's graph has no nodes";
    return nullptr;
  }
  if (!options.inference && graph.output_size() != 1) {
    emitError(fileLoc()) << "the model has " << graph.output_size()
                         << " outputs; dlc trains single-output models";
    return nullptr;
  }

  OwningOpRef<ModuleOp> owned = ModuleOp::create(fileLoc());
  module = *owned;
  module->setAttr("dlc.opset", builder.getI64IntegerAttr(opset));
  if (failed(importInitializers(graph)))
    return nullptr;
  SmallVector<std::string> inputNames;
  SmallVector<Type> inputTypes;
  if (options.inference) {
    if (failed(importInferenceInputs(graph, inputNames, inputTypes)))
      return nullptr;
  } else {
    FailureOr<RankedTensorType> inputType = importDataInput(graph);
    if (failed(inputType))
      return nullptr;
    inputNames.push_back(dataInputName);
    inputTypes.push_back(*inputType);
  }

  builder.setInsertionPointToEnd(module.getBody());
  auto forward = func::FuncOp::create(
      builder, fileLoc(), "forward", builder.getFunctionType(inputTypes, {}));
  Block *body = forward.addEntryBlock();
  for (auto [name, arg] : llvm::zip(inputNames, body->getArguments()))
    values[name] = arg;
  builder.setInsertionPointToEnd(body);
  for (const onnx::TensorProto &tensor : graph.initializer())
    definedNames.insert(tensor.name());
  for (const onnx::ValueInfoProto &input : graph.input())
    definedNames.insert(input.name());
  for (const onnx::NodeProto &node : graph.node())
    if (failed(importNode(node)))
      return nullptr;

  SmallVector<Value> outputs;
  SmallVector<Attribute> outputNames;
  for (const onnx::ValueInfoProto &out : graph.output()) {
    Value output = values.lookup(out.name());
    // A constant (or initializer) returned as it is.
    if (auto variable = variables.find(out.name());
        !output && variable != variables.end())
      output = LoadOp::create(builder, fileLoc(),
                              variable->second.getType(),
                              variable->second.getSymName());
    if (!output) {
      emitError(fileLoc()) << "graph output '" << out.name()
                           << "' is not computed by any node";
      return nullptr;
    }
    outputs.push_back(output);
    outputNames.push_back(builder.getStringAttr(out.name()));
  }
  func::ReturnOp::create(builder, fileLoc(), outputs);
  forward.setType(
      builder.getFunctionType(inputTypes, ValueRange(outputs).getTypes()));
  SmallVector<Attribute> inputNameAttrs;
  for (const std::string &name : inputNames)
    inputNameAttrs.push_back(builder.getStringAttr(name));
  forward->setAttr("dlc.input_names", builder.getArrayAttr(inputNameAttrs));
  forward->setAttr("dlc.output_names", builder.getArrayAttr(outputNames));
  if (failed(verify(module)))
    return nullptr;
  return owned;
}

OwningOpRef<ModuleOp> dlc::importOnnxModel(MLIRContext *context,
                                           StringRef bytes, StringRef fileName,
                                           const OnnxImportOptions &options) {
  context->loadDialect<GraphDialect, func::FuncDialect>();
  onnx::ModelProto model;
  Location loc = FileLineColLoc::get(context, fileName, 0, 0);
  if (bytes.empty() ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      !model.has_graph() || model.ir_version() <= 0) {
    emitError(loc) << "not a valid ONNX model (the file is truncated, empty, "
                      "or not an ONNX protobuf)";
    return nullptr;
  }
  if (options.batchSize <= 0) {
    emitError(loc) << "batch size " << options.batchSize
                   << " must be positive";
    return nullptr;
  }
  return Importer(context, fileName, options).run(model);
}

std::vector<std::string> dlc::supportedOnnxOps() {
  return Importer::supportedOps();
}
