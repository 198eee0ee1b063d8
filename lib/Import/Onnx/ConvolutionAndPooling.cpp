//===- ConvolutionAndPooling.cpp - ONNX Conv and pooling ------------------===//

#include "Importer.h"

using namespace mlir;
using namespace dlc;
using namespace dlc::graph;
using namespace dlc::onnx_import;

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
  SmallVector<Value> operands = {*x, *w};
  RankedTensorType biasType;
  if (hasInput(node, 2)) {
    FailureOr<Value> b = input(node, 2);
    if (failed(b))
      return failure();
    operands.push_back(*b);
    biasType = cast<RankedTensorType>(b->getType());
    if (biasType.getRank() != 1)
      return nodeError(node) << "bias " << biasType << " is not 1-D";
  }
  FailureOr<RankedTensorType> type =
      conv2DType(shapeErrors(node), xType, wType, biasType, window->strides,
                 window->pads, window->dilations, group);
  if (failed(type))
    return failure();
  auto conv = Conv2DOp::create(builder, nodeLoc(node), TypeRange{*type},
                               operands, ArrayRef<NamedAttribute>{});
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
  FailureOr<RankedTensorType> type =
      windowType(shapeErrors(node), inType, w2.kernel, w2.strides, w2.pads,
                 w2.dilations, inType.getDimSize(1));
  if (failed(type))
    return failure();
  ArrayRef<int64_t> shape = type->getShape();
  // Ceil mode's extra end padding must not count as a window's elements.
  if (!max && countIncludePad && window->ceilPadded)
    return nodeError(node) << "ceil_mode=1 with count_include_pad=1 is not "
                              "supported where ceil mode pads the input";
  Operation *pool;
  if (max) {
    bool dilated = w2.dilations != SmallVector<int64_t>{1, 1};
    pool = MaxPool2DOp::create(
        builder, nodeLoc(node), *type, input,
        builder.getDenseI64ArrayAttr(w2.kernel),
        builder.getDenseI64ArrayAttr(w2.strides),
        builder.getDenseI64ArrayAttr(w2.pads),
        dilated ? builder.getDenseI64ArrayAttr(w2.dilations)
                : DenseI64ArrayAttr());
  } else {
    pool = AvgPool2DOp::create(builder, nodeLoc(node), *type, input, w2.kernel,
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
  // One window over the whole plane: the op infers N x C x 1 x 1.
  SmallVector<int64_t> kernel = {xType.getDimSize(2), xType.getDimSize(3)};
  return defineVerified(
      node, AvgPool2DOp::create(builder, nodeLoc(node), *x, kernel,
                                SmallVector<int64_t>{1, 1},
                                SmallVector<int64_t>{0, 0, 0, 0},
                                /*count_include_pad=*/false));
}

void Importer::addConvolutionAndPoolingHandlers(HandlerTable &table) {
  table["Conv"] = &Importer::importConv;
  table["MaxPool"] = &Importer::importPool;
  table["AveragePool"] = &Importer::importPool;
  table["GlobalAveragePool"] = &Importer::importGlobalAveragePool;
}
