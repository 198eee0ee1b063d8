//===- Importer.h - the ONNX importer's state and helpers -------*- C++ -*-===//
//
// The importer walks the ONNX graph in order (ONNX requires topological
// order) and builds one graph-dialect op per node. Float initializers become
// trainable variables; integer tensors (Reshape's shape) are kept as
// compile-time constants. Importer.cpp holds the model-level work and the
// dispatch; each op family's importers are in a file of their own and
// register themselves in the handler table.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_IMPORT_ONNX_IMPORTER_H
#define DLC_LIB_IMPORT_ONNX_IMPORTER_H

#include "dlc/Import/OnnxImporter.h"
#include "dlc/Dialect/Graph/GraphOps.h"
#include "dlc/Dialect/Graph/GraphShapes.h"
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

namespace dlc::onnx_import {

using namespace mlir;
using namespace dlc::graph;

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
inline bool isIntegerTensor(const onnx::TensorProto &tensor) {
  return tensor.data_type() == onnx::TensorProto::INT64 ||
         tensor.data_type() == onnx::TensorProto::INT32 ||
         tensor.data_type() == onnx::TensorProto::BOOL;
}

inline std::optional<std::vector<int64_t>>
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

/// The largest size, stride or pad an attribute may give: a bound that keeps
/// the shape arithmetic on them far from overflow.
constexpr int64_t kMaxDimension = int64_t(1) << 31;

/// `2` rather than the diagnostic's `2.000000e+00`.
inline std::string shortNumber(double value) {
  std::string text;
  llvm::raw_string_ostream(text) << llvm::format("%g", value);
  return text;
}

inline std::string listText(ArrayRef<int64_t> values) {
  std::string text = "[";
  for (auto [i, v] : llvm::enumerate(values))
    text += (i ? ", " : "") + std::to_string(v);
  return text + "]";
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
  /// The importers of each op family register themselves (one file each).
  using HandlerTable = llvm::StringMap<NodeHandler>;
  static void addLinearAlgebraHandlers(HandlerTable &table);
  static void addElementwiseHandlers(HandlerTable &table);
  static void addConvolutionAndPoolingHandlers(HandlerTable &table);
  static void addNormalizationHandlers(HandlerTable &table);
  static void addDataMovementHandlers(HandlerTable &table);

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

  /// The shape functions' (GraphShapes.h) errors, naming the node.
  auto shapeErrors(const onnx::NodeProto &node) {
    return [this, &node] { return nodeError(node); };
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


/// The first opset from which a node reads as dlc imports it.
int64_t meaningUnchangedSince(const onnx::NodeProto &node);

} // namespace dlc::onnx_import

#endif // DLC_LIB_IMPORT_ONNX_IMPORTER_H
