//===- Importer.cpp - the model, its initializers and inputs, dispatch ----===//

#include "Importer.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;
using namespace dlc::onnx_import;

/// The first opset from which a node reads as dlc imports it. Older opsets
/// (1 to 6) are accepted op by op: most ops only lost the legacy
/// `consumed_inputs` hint, which changes no values.
int64_t dlc::onnx_import::meaningUnchangedSince(const onnx::NodeProto &node) {
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
  static const HandlerTable table = [] {
    HandlerTable table;
    addLinearAlgebraHandlers(table);
    addElementwiseHandlers(table);
    addConvolutionAndPoolingHandlers(table);
    addNormalizationHandlers(table);
    addDataMovementHandlers(table);
    return table;
  }();
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
