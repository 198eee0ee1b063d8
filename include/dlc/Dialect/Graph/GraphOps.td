//===- GraphOps.td - graph dialect operations --------------*- tablegen -*-===//
//
// Forward ops carry GradientOpInterface; the gradient-only ops below them are
// what those interfaces build. Shapes are static; verifiers check them.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_GRAPH_GRAPHOPS_TD
#define DLC_DIALECT_GRAPH_GRAPHOPS_TD

include "dlc/Dialect/Graph/GraphDialect.td"
include "dlc/Dialect/Graph/GraphInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

def Graph_F32Tensor : RankedTensorOf<[F32]>;
def Graph_LabelTensor : 1DTensorOf<[I32]>;
def Graph_F32Scalar : 0DTensorOf<[F32]>,
    BuildableType<"::mlir::RankedTensorType::get({}, $_builder.getF32Type())">;

//===----------------------------------------------------------------------===//
// State
//===----------------------------------------------------------------------===//

def Graph_VariableOp : Graph_Op<"variable", [Symbol]> {
  let summary = "A named tensor that lives across training steps";
  let description = [{
    Model parameters (`trainable`), constants of the model, and optimizer
    state. `initial_value` is absent for state that starts at zero.
    `onnx_name` is the ONNX initializer the variable came from; the trained
    model is written back under that name.

    ```mlir
    graph.variable trainable @fc1_weight {onnx_name = "fc1.weight"}
        : tensor<512x784xf32> = dense<...> : tensor<512x784xf32>
    graph.variable @fc1_weight_velocity : tensor<512x784xf32>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Graph_F32Tensor>:$type,
                       OptionalAttr<ElementsAttr>:$initial_value,
                       UnitAttr:$trainable,
                       OptionalAttr<StrAttr>:$onnx_name);
  let assemblyFormat = [{
    (`trainable` $trainable^)? $sym_name attr-dict `:` $type
    (`=` $initial_value^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
  }];
}

def Graph_LoadOp : Graph_Op<"load", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead]>]> {
  let summary = "Reads the current value of a variable";
  let description = [{
    ```mlir
    %w = graph.load @fc1_weight : tensor<512x784xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$variable);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$variable attr-dict `:` type($result)";
}

def Graph_SgdUpdateOp : Graph_Op<"sgd_update", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Stochastic gradient descent step on a variable, in place";
  let description = [{
    PyTorch's SGD with the run's hyperparameters (learning rate after its
    schedule, momentum, weight decay: the trainer sets them each step; the
    compile-time values are only their defaults, recorded on the module as
    `dlc.hyperparameters`). With velocity `v`:
    `v = momentum * v + (g + weight_decay * w)`, `w = w - lr * v`. Without a
    velocity variable (compiled with momentum 0),
    `w = w - lr * (g + weight_decay * w)`.

    ```mlir
    graph.sgd_update @fc1_weight, %g velocity @fc1_weight_velocity
        : tensor<512x784xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param, Graph_F32Tensor:$gradient,
                       OptionalAttr<FlatSymbolRefAttr>:$velocity);
  let assemblyFormat = [{
    $param `,` $gradient (`velocity` $velocity^)? attr-dict `:` type($gradient)
  }];
}

def Graph_AdamUpdateOp : Graph_Op<"adam_update", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Adam or AdamW step on a variable, in place";
  let description = [{
    `torch.optim.Adam` (or, with `decoupled`, `torch.optim.AdamW`) with the
    run's hyperparameters (learning rate, beta1, beta2, eps, weight decay)
    and step count, set by the trainer. `first_moment` and `second_moment`
    are the optimizer's state variables, of the parameter's type.

    ```mlir
    graph.adam_update @w, %g moments @w_m, @w_v {decoupled} : tensor<3x4xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$param, Graph_F32Tensor:$gradient,
                       FlatSymbolRefAttr:$first_moment,
                       FlatSymbolRefAttr:$second_moment,
                       UnitAttr:$decoupled);
  let assemblyFormat = [{
    $param `,` $gradient `moments` $first_moment `,` $second_moment attr-dict
    `:` type($gradient)
  }];
}

def Graph_AllReduceMeanOp : Graph_Op<"allreduce_mean", [
    SameOperandsAndResultType]> {
  let summary = "Averages a tensor over all data-parallel ranks";
  let description = [{
    Not `Pure`: it communicates, so it must not be removed or duplicated. With
    one rank it is the identity.

    ```mlir
    %avg = graph.allreduce_mean %g : tensor<512x784xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Forward ops
//===----------------------------------------------------------------------===//

def Graph_GemmOp : Graph_Op<"gemm", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "General matrix product, ONNX Gemm semantics";
  let description = [{
    `result = alpha * op(a) * op(b) + beta * c`, where `op` transposes when
    `trans_a` / `trans_b` is set and `c` (optional) broadcasts to the result.

    ```mlir
    %y = graph.gemm %x, %w, %b {trans_b}
        : (tensor<128x784xf32>, tensor<512x784xf32>, tensor<512xf32>)
        -> tensor<128x512xf32>
    ```
  }];
  let arguments = (ins 2DTensorOf<[F32]>:$a, 2DTensorOf<[F32]>:$b,
                       Optional<Graph_F32Tensor>:$c,
                       UnitAttr:$trans_a, UnitAttr:$trans_b,
                       DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0f">:$beta);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)
  }];
}

/// Elementwise arithmetic with numpy broadcasting.
class Graph_BinaryOp<string mnemonic, string what, string example>
    : Graph_Op<mnemonic, [Pure, InferTypeOpAdaptor,
        DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Elementwise " # what # " with numpy broadcasting";
  let description = [{
    ```mlir
    }] # example # [{

    ```
  }];
  let arguments = (ins Graph_F32Tensor:$lhs, Graph_F32Tensor:$rhs);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def Graph_MatMulOp : Graph_Op<"matmul", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Batched matrix product with numpy broadcasting of the batch";
  let description = [{
    The last two dimensions of each operand are a matrix (transposed when
    `trans_a` / `trans_b` is set); the leading ones are batch dimensions,
    broadcast against each other. 2-D products use `graph.gemm`.

    ```mlir
    %y = graph.matmul %q, %k {trans_b}
        : (tensor<8x4x16x32xf32>, tensor<8x4x16x32xf32>) -> tensor<8x4x16x16xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$a, Graph_F32Tensor:$b,
                       UnitAttr:$trans_a, UnitAttr:$trans_b);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$a `,` $b attr-dict `:` functional-type(operands, results)";
}

def Graph_AddOp : Graph_BinaryOp<"add", "sum",
    "%z = graph.add %x, %b : (tensor<128x10xf32>, tensor<10xf32>) -> tensor<128x10xf32>">;
def Graph_SubOp : Graph_BinaryOp<"sub", "difference",
    "%z = graph.sub %x, %m : (tensor<128x10xf32>, tensor<1x10xf32>) -> tensor<128x10xf32>">;
def Graph_MulOp : Graph_BinaryOp<"mul", "product",
    "%z = graph.mul %x, %s : (tensor<128x10xf32>, tensor<f32>) -> tensor<128x10xf32>">;
def Graph_DivOp : Graph_BinaryOp<"div", "quotient",
    "%z = graph.div %x, %d : (tensor<128x10xf32>, tensor<128x1xf32>) -> tensor<128x10xf32>">;

/// Elementwise activation functions.
class Graph_ActivationOp<string mnemonic, string what>
    : Graph_Op<mnemonic, [Pure, SameOperandsAndResultType,
        DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = what;
  let description = [{
    ```mlir
    %y = graph.}] # mnemonic # [{ %x : tensor<128x512xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Graph_ReluOp : Graph_ActivationOp<"relu", "Rectified linear unit, max(x, 0)">;
def Graph_SigmoidOp : Graph_ActivationOp<"sigmoid", "Logistic sigmoid, 1 / (1 + exp(-x))">;
def Graph_TanhOp : Graph_ActivationOp<"tanh", "Hyperbolic tangent">;

def Graph_LeakyReluOp : Graph_Op<"leaky_relu", [Pure,
    SameOperandsAndResultType,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "x where x >= 0, alpha * x elsewhere";
  let description = [{
    ```mlir
    %y = graph.leaky_relu %x {alpha = 0.01 : f32} : tensor<128x512xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, F32Attr:$alpha);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Convolution and pooling over NCHW tensors. Windows are described by
// kernel (pooling only), strides, pads [top, left, bottom, right] and
// dilations (convolution only), as ONNX does.
//===----------------------------------------------------------------------===//

def Graph_Conv2DOp : Graph_Op<"conv2d", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "2-D convolution (cross-correlation), ONNX Conv semantics";
  let description = [{
    `input` is N x C x H x W, `filter` O x C/group x KH x KW, `bias` (optional)
    O; the result is N x O x OH x OW.

    ```mlir
    %y = graph.conv2d %x, %w, %b {strides = array<i64: 1, 1>,
        pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<128x1x28x28xf32>, tensor<6x1x5x5xf32>, tensor<6xf32>)
        -> tensor<128x6x28x28xf32>
    ```
  }];
  let arguments = (ins 4DTensorOf<[F32]>:$input, 4DTensorOf<[F32]>:$filter,
                       Optional<1DTensorOf<[F32]>>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs 4DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $filter (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Graph_Conv2DBackwardDataOp : Graph_Op<"conv2d_backward_data", [Pure]> {
  let summary = "Gradient of conv2d with respect to its input";
  let description = [{
    ```mlir
    %dx = graph.conv2d_backward_data %dy, %w {strides = array<i64: 1, 1>,
        pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<128x6x24x24xf32>, tensor<6x1x5x5xf32>) -> tensor<128x1x28x28xf32>
    ```
  }];
  let arguments = (ins 4DTensorOf<[F32]>:$grad, 4DTensorOf<[F32]>:$filter,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs 4DTensorOf<[F32]>:$result);
  let assemblyFormat = "$grad `,` $filter attr-dict `:` functional-type(operands, results)";
}

def Graph_Conv2DBackwardFilterOp : Graph_Op<"conv2d_backward_filter", [Pure]> {
  let summary = "Gradient of conv2d with respect to its filter";
  let description = [{
    ```mlir
    %dw = graph.conv2d_backward_filter %dy, %x {strides = array<i64: 1, 1>,
        pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<128x6x24x24xf32>, tensor<128x1x28x28xf32>) -> tensor<6x1x5x5xf32>
    ```
  }];
  let arguments = (ins 4DTensorOf<[F32]>:$grad, 4DTensorOf<[F32]>:$input,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs 4DTensorOf<[F32]>:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` functional-type(operands, results)";
}

class Graph_PoolOp<string mnemonic, string what, list<Trait> traits = []>
    : Graph_Op<mnemonic, !listconcat([Pure], traits)> {
  let summary = what;
  let results = (outs 4DTensorOf<[F32]>:$result);
}

def Graph_MaxPool2DOp : Graph_PoolOp<"max_pool2d", "2-D max pooling",
    [InferTypeOpAdaptor, DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let description = [{
    Padding never wins the maximum. `dilations` (default 1, 1) spaces the
    window's taps.

    ```mlir
    %y = graph.max_pool2d %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>,
        pads = array<i64: 0, 0, 0, 0>} : tensor<128x6x28x28xf32> -> tensor<128x6x14x14xf32>
    ```
  }];
  let arguments = (ins 4DTensorOf<[F32]>:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       OptionalAttr<DenseI64ArrayAttr>:$dilations);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Graph_MaxPool2DGradOp : Graph_PoolOp<"max_pool2d_grad",
    "Gradient of max_pool2d: each window's gradient goes to its (first) maximum",
    [AllTypesMatch<["input", "result"]>]> {
  let description = [{
    ```mlir
    %dx = graph.max_pool2d_grad %dy, %x {kernel = array<i64: 2, 2>,
        strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
        : tensor<128x6x14x14xf32>, tensor<128x6x28x28xf32>
    ```
  }];
  let arguments = (ins 4DTensorOf<[F32]>:$grad, 4DTensorOf<[F32]>:$input,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$pads,
                       OptionalAttr<DenseI64ArrayAttr>:$dilations);
  let assemblyFormat = [{
    $grad `,` $input attr-dict `:` type($grad) `,` type($input)
  }];
}

def Graph_AvgPool2DOp : Graph_PoolOp<"avg_pool2d", "2-D average pooling",
    [InferTypeOpAdaptor, DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let description = [{
    With `count_include_pad`, every window divides by the kernel's size;
    without, by the number of input elements it covers.

    ```mlir
    %y = graph.avg_pool2d %x {kernel = array<i64: 7, 7>, strides = array<i64: 1, 1>,
        pads = array<i64: 0, 0, 0, 0>} : tensor<32x512x7x7xf32> -> tensor<32x512x1x1xf32>
    ```
  }];
  let arguments = (ins 4DTensorOf<[F32]>:$input, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       UnitAttr:$count_include_pad);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Graph_AvgPool2DGradOp : Graph_PoolOp<"avg_pool2d_grad",
    "Gradient of avg_pool2d: each window's gradient spread over it"> {
  let description = [{
    ```mlir
    %dx = graph.avg_pool2d_grad %dy {kernel = array<i64: 2, 2>,
        strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>}
        : tensor<8x4x2x2xf32> -> tensor<8x4x4x4xf32>
    ```
  }];
  let arguments = (ins 4DTensorOf<[F32]>:$grad, DenseI64ArrayAttr:$kernel,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       UnitAttr:$count_include_pad);
  let assemblyFormat = "$grad attr-dict `:` type($grad) `->` type($result)";
}

//===----------------------------------------------------------------------===//
// Batch normalization
//===----------------------------------------------------------------------===//

def Graph_BatchNormOp : Graph_Op<"batch_norm", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead]>, AllTypesMatch<["input", "result"]>,
    AllTypesMatch<["scale", "bias"]>]> {
  let summary = "Batch normalization over the channel dimension (dim 1)";
  let description = [{
    As written, the inference form: normalizes with the running statistics
    held in `running_mean` and `running_var`. dlc-build-training-graph
    rewrites it in the training step into its training form (batch
    statistics, running-statistics update) and dlc-expand-inference-forms rewrites
    what is left into plain arithmetic; no later pass sees this op.

    ```mlir
    %y = graph.batch_norm %x, %scale, %bias {running_mean = @bn_mean,
        running_var = @bn_var, epsilon = 1.0e-05 : f32, momentum = 0.9 : f32}
        : tensor<32x64x8x8xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, 1DTensorOf<[F32]>:$scale,
                       1DTensorOf<[F32]>:$bias,
                       FlatSymbolRefAttr:$running_mean,
                       FlatSymbolRefAttr:$running_var,
                       F32Attr:$epsilon, F32Attr:$momentum);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias attr-dict `:` type($input) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Graph_BatchNormTrainOp : Graph_Op<"batch_norm_train", [Pure,
    AllTypesMatch<["input", "result"]>,
    AllTypesMatch<["scale", "bias", "mean", "variance"]>,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Batch normalization with the batch's own statistics";
  let description = [{
    The training form of `batch_norm`: normalizes each channel (dim 1) by the
    mean and biased variance of the batch over every other dimension, then
    scales and shifts. Also returns those statistics, for the running
    averages. Only `result` is differentiable; `mean` and `variance` feed
    no gradient.

    ```mlir
    %y, %mean, %var = graph.batch_norm_train %x, %scale, %bias
        {epsilon = 1.0e-05 : f32} : tensor<32x64x8x8xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, 1DTensorOf<[F32]>:$scale,
                       1DTensorOf<[F32]>:$bias, F32Attr:$epsilon);
  let results = (outs Graph_F32Tensor:$result, 1DTensorOf<[F32]>:$mean,
                      1DTensorOf<[F32]>:$variance);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias attr-dict `:` type($input) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Graph_BatchNormInferenceOp : Graph_Op<"batch_norm_inference", [Pure,
    AllTypesMatch<["input", "result"]>,
    AllTypesMatch<["scale", "bias", "mean", "variance"]>]> {
  let summary = "Batch normalization with given statistics, as one kernel";
  let description = [{
    The inference form of `batch_norm`:
    `(x - mean) / sqrt(variance + epsilon) * scale + bias` per channel
    (dim 1). Not differentiable: training with frozen statistics spells it
    out in arithmetic instead.

    ```mlir
    %y = graph.batch_norm_inference %x, %scale, %bias, %mean, %var
        {epsilon = 1.0e-05 : f32} : tensor<32x64x8x8xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, 1DTensorOf<[F32]>:$scale,
                       1DTensorOf<[F32]>:$bias, 1DTensorOf<[F32]>:$mean,
                       1DTensorOf<[F32]>:$variance, F32Attr:$epsilon);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:`
    type($input) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Graph_BatchNormGradOp : Graph_Op<"batch_norm_grad", [Pure,
    AllTypesMatch<["input", "grad", "input_grad"]>,
    AllTypesMatch<["scale", "mean", "variance", "scale_grad", "bias_grad"]>]> {
  let summary = "Gradient of batch_norm_train, from its result";
  let description = [{
    The gradients of the loss with respect to batch_norm_train's input,
    scale and bias, given the gradient `grad` of its result and the batch
    statistics it computed.

    ```mlir
    %dx, %dscale, %dbias = graph.batch_norm_grad %dy, %x, %scale, %mean, %var
        {epsilon = 1.0e-05 : f32} : tensor<32x64x8x8xf32>, tensor<64xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$input,
                       1DTensorOf<[F32]>:$scale, 1DTensorOf<[F32]>:$mean,
                       1DTensorOf<[F32]>:$variance, F32Attr:$epsilon);
  let results = (outs Graph_F32Tensor:$input_grad,
                      1DTensorOf<[F32]>:$scale_grad,
                      1DTensorOf<[F32]>:$bias_grad);
  let assemblyFormat = [{
    $grad `,` $input `,` $scale `,` $mean `,` $variance attr-dict `:`
    type($input) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Graph_DropoutOp : Graph_Op<"dropout", [Pure,
    SameOperandsAndResultType]> {
  let summary = "Dropout; as written, its inference form (the identity)";
  let description = [{
    dlc-build-training-graph rewrites it in the training step into
    `input * graph.dropout_mask`; dlc-expand-inference-forms rewrites what is
    left into the identity.

    ```mlir
    %y = graph.dropout %x {ratio = 0.5 : f32} : tensor<128x4096xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, F32Attr:$ratio);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Graph_DropoutMaskOp : Graph_Op<"dropout_mask", []> {
  let summary = "A fresh random dropout mask for each training step";
  let description = [{
    Each element is 0 with probability `ratio`, else 1 / (1 - ratio), drawn
    from a counter-based generator keyed by the trainer's seed, the rank,
    the step and `stream` (one per mask in the program), so runs are
    reproducible and every rank draws its own. Not `Pure`: two masks of the
    same shape must not be merged.

    ```mlir
    %m = graph.dropout_mask {ratio = 0.5 : f32, stream = 0 : i64} : tensor<128x4096xf32>
    ```
  }];
  let arguments = (ins F32Attr:$ratio, I64Attr:$stream);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Graph_RunningUpdateOp : Graph_Op<"running_update", [
    DeclareOpInterfaceMethods<SymbolUserOpInterface>,
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Exponential moving average of a statistic, in place";
  let description = [{
    `v = momentum * v + (1 - momentum) * correction * statistic`; the
    correction turns a batch's population variance into PyTorch's unbiased
    estimate.

    ```mlir
    graph.running_update @bn_var, %var {momentum = 0.9 : f32,
        correction = 1.00195694 : f32} : tensor<64xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$variable, Graph_F32Tensor:$statistic,
                       F32Attr:$momentum, F32Attr:$correction);
  let assemblyFormat = "$variable `,` $statistic attr-dict `:` type($statistic)";
}

def Graph_RsqrtOp : Graph_Op<"rsqrt", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "1 / sqrt(x + epsilon)";
  let description = [{
    ```mlir
    %s = graph.rsqrt %var {epsilon = 1.0e-05 : f32} : tensor<1x64x1x1xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, F32Attr:$epsilon);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Graph_TransposeOp : Graph_Op<"transpose", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Permutes dimensions: result dim i is input dim permutation[i]";
  let description = [{
    ```mlir
    %y = graph.transpose %x {permutation = array<i64: 0, 2, 1>}
        : tensor<8x3x5xf32> -> tensor<8x5x3xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Graph_ConcatOp : Graph_Op<"concat", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Joins tensors along one dimension";
  let description = [{
    ```mlir
    %y = graph.concat %a, %b {axis = 1 : i64}
        : (tensor<8x16x4x4xf32>, tensor<8x8x4x4xf32>) -> tensor<8x24x4x4xf32>
    ```
  }];
  let arguments = (ins Variadic<Graph_F32Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $result)";
}

def Graph_SliceOp : Graph_Op<"slice", [Pure]> {
  let summary = "The part of a tensor from `start` along `axis`";
  let description = [{
    The result's type gives the part's size; every other dimension is kept.
    The adjoint of one operand of `graph.concat`.

    ```mlir
    %b = graph.slice %y {axis = 1 : i64, start = 16 : i64}
        : tensor<8x24x4x4xf32> -> tensor<8x8x4x4xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, I64Attr:$axis, I64Attr:$start);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Graph_PadOp : Graph_Op<"pad", [Pure, InferTypeOpAdaptor,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Pads every dimension with a constant value";
  let description = [{
    `low[d]` values before and `high[d]` after dimension d.

    ```mlir
    %y = graph.pad %x {low = array<i64: 0, 0, 1, 1>, high = array<i64: 0, 0, 1, 1>,
        value = 0.0 : f32} : tensor<8x3x4x4xf32> -> tensor<8x3x6x6xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, DenseI64ArrayAttr:$low,
                       DenseI64ArrayAttr:$high, F32Attr:$value);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Graph_CropOp : Graph_Op<"crop", [Pure]> {
  let summary = "The part of a tensor from `offsets` on, of the result's shape";
  let description = [{
    The adjoint of `graph.pad`.

    ```mlir
    %dx = graph.crop %dy {offsets = array<i64: 0, 0, 1, 1>}
        : tensor<8x3x6x6xf32> -> tensor<8x3x4x4xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, DenseI64ArrayAttr:$offsets);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
}

def Graph_LrnOp : Graph_Op<"lrn", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Local response normalization across channels (ONNX LRN)";
  let description = [{
    `y = x / (bias + alpha / size * sum of x^2 over `size` neighbouring
    channels)^beta`, on N x C x ... tensors.

    ```mlir
    %y = graph.lrn %x {size = 5 : i64, alpha = 1.0e-04 : f32, beta = 0.75 : f32,
        bias = 2.0 : f32} : tensor<8x96x27x27xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, I64Attr:$size, F32Attr:$alpha,
                       F32Attr:$beta, F32Attr:$bias);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Graph_LrnGradOp : Graph_Op<"lrn_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "Gradient of lrn, from its input and output";
  let description = [{
    The output is what cuDNN's LRN backward reads besides the input; the
    CPU kernel works from the input alone.

    ```mlir
    %dx = graph.lrn_grad %dy, %x, %y {size = 5 : i64, alpha = 1.0e-04 : f32,
        beta = 0.75 : f32, bias = 2.0 : f32} : tensor<8x96x27x27xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$input,
                       Graph_F32Tensor:$output, I64Attr:$size, F32Attr:$alpha,
                       F32Attr:$beta, F32Attr:$bias);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat =
      "$grad `,` $input `,` $output attr-dict `:` type($result)";
}

def Graph_ClipOp : Graph_Op<"clip", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "min(max(x, min), max)";
  let description = [{
    ```mlir
    %y = graph.clip %x {min = 0.0 : f32, max = 6.0 : f32} : tensor<8x32xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, F32Attr:$min, F32Attr:$max);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def Graph_ClipGradOp : Graph_Op<"clip_grad", [Pure, SameOperandsAndResultType]> {
  let summary = "Gradient of clip: grad where min <= input <= max, else 0";
  let description = [{
    ```mlir
    %dx = graph.clip_grad %dy, %x {min = 0.0 : f32, max = 6.0 : f32} : tensor<8x32xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$input,
                       F32Attr:$min, F32Attr:$max);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($result)";
}

def Graph_LogSoftmaxOp : Graph_Op<"log_softmax", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "log(softmax(x)) along one axis (default: the last)";
  let description = [{
    ```mlir
    %p = graph.log_softmax %logits : tensor<128x10xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Graph_LogSoftmaxGradOp : Graph_Op<"log_softmax_grad", [Pure,
    SameOperandsAndResultType]> {
  let summary = "Gradient of log_softmax: dy - exp(y) * sum(dy) along the axis";
  let description = [{
    ```mlir
    %dx = graph.log_softmax_grad %dy, %y : tensor<128x10xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$output,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($result)";
}

def Graph_ReshapeOp : Graph_Op<"reshape", [Pure,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Reinterprets a tensor's shape; the element count is kept";
  let description = [{
    ONNX Reshape (with a constant shape) and Flatten both become this op.

    ```mlir
    %y = graph.reshape %x : tensor<128x1x28x28xf32> -> tensor<128x784xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Graph_SoftmaxOp : Graph_Op<"softmax", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Softmax along one axis (default: the last)";
  let description = [{
    ```mlir
    %p = graph.softmax %logits : tensor<128x10xf32>
    %q = graph.softmax %x {axis = 1 : i64} : tensor<8x3x5xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Losses: the mean over the rank's batch of a per-sample loss against
// integer class labels.
//===----------------------------------------------------------------------===//

class Graph_LossOp<string mnemonic> : Graph_Op<mnemonic, [Pure,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let arguments = (ins 2DTensorOf<[F32]>:$input, Graph_LabelTensor:$labels);
  let results = (outs Graph_F32Scalar:$loss);
  let assemblyFormat = [{
    $input `,` $labels attr-dict `:` type($input) `,` type($labels)
  }];
  let hasVerifier = 1;
}

def Graph_SoftmaxCrossEntropyOp : Graph_LossOp<"softmax_cross_entropy"> {
  let summary = "Cross-entropy of softmax(logits) against class labels";
  let description = [{
    Computed from the logits through log-sum-exp, so no logarithm of a
    rounded probability is ever taken.

    ```mlir
    %l = graph.softmax_cross_entropy %logits, %labels : tensor<128x10xf32>, tensor<128xi32>
    ```
  }];
}

def Graph_MseLossOp : Graph_LossOp<"mse_loss"> {
  let summary = "Mean squared error of predictions against one-hot labels";
  let description = [{
    The mean over all elements, as PyTorch's `MSELoss` with the default
    reduction, of `(input - one_hot(labels))^2`.

    ```mlir
    %l = graph.mse_loss %pred, %labels : tensor<128x10xf32>, tensor<128xi32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

/// Gradients of activations, computed from the saved forward output.
class Graph_ActivationGradOp<string mnemonic, string forward, string formula>
    : Graph_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "Gradient of " # forward # ": " # formula;
  let description = [{
    ```mlir
    %dx = graph.}] # mnemonic # [{ %dy, %y : tensor<128x512xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$output);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($result)";
}

def Graph_ReluGradOp : Graph_ActivationGradOp<"relu_grad", "relu",
    "grad where output > 0, else 0">;
def Graph_SigmoidGradOp : Graph_ActivationGradOp<"sigmoid_grad", "sigmoid",
    "grad * output * (1 - output)">;
def Graph_TanhGradOp : Graph_ActivationGradOp<"tanh_grad", "tanh",
    "grad * (1 - output^2)">;
def Graph_RsqrtGradOp : Graph_ActivationGradOp<"rsqrt_grad", "rsqrt",
    "-grad * output^3 / 2">;

def Graph_LeakyReluGradOp : Graph_Op<"leaky_relu_grad", [Pure,
    SameOperandsAndResultType]> {
  let summary = "Gradient of leaky_relu: grad where input >= 0, else alpha * grad";
  let description = [{
    Reads the forward input, not the output: with a negative alpha the
    output's sign says nothing about the input's.

    ```mlir
    %dx = graph.leaky_relu_grad %dy, %x {alpha = 0.01 : f32} : tensor<128x512xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$input,
                       F32Attr:$alpha);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $input attr-dict `:` type($result)";
}

def Graph_SoftmaxGradOp : Graph_Op<"softmax_grad", [Pure,
    SameOperandsAndResultType]> {
  let summary = "Gradient of softmax: y * (dy - sum(dy * y)) along the axis";
  let description = [{
    ```mlir
    %dx = graph.softmax_grad %dy, %y : tensor<128x10xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$grad, Graph_F32Tensor:$output,
                       DefaultValuedAttr<I64Attr, "-1">:$axis);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$grad `,` $output attr-dict `:` type($result)";
}

def Graph_ReduceSumToOp : Graph_Op<"reduce_sum_to", [Pure,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Sums a tensor down to a shape it was broadcast from";
  let description = [{
    The adjoint of numpy broadcasting: the result's shape must broadcast to the
    input's; broadcast dimensions are summed.

    ```mlir
    %db = graph.reduce_sum_to %dy : tensor<128x512xf32> -> tensor<512xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Graph_BroadcastOp : Graph_Op<"broadcast", [Pure,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Broadcasts a tensor to a larger shape (numpy rules)";
  let description = [{
    The adjoint of `graph.reduce_sum_to`.

    ```mlir
    %y = graph.broadcast %mean : tensor<1x64x1x1xf32> -> tensor<32x64x8x8xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Graph_ScaleOp : Graph_Op<"scale", [Pure, SameOperandsAndResultType,
    DeclareOpInterfaceMethods<GradientOpInterface>]> {
  let summary = "Multiplies every element by a constant factor";
  let description = [{
    ```mlir
    %y = graph.scale %x {factor = 5.0e-01 : f32} : tensor<512xf32>
    ```
  }];
  let arguments = (ins Graph_F32Tensor:$input, F32Attr:$factor);
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

class Graph_LossGradOp<string mnemonic, string lossName>
    : Graph_Op<mnemonic, [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Gradient of " # lossName # " with respect to its input";
  let arguments = (ins 2DTensorOf<[F32]>:$input, Graph_LabelTensor:$labels,
                       Graph_F32Scalar:$grad);
  let results = (outs 2DTensorOf<[F32]>:$result);
  let assemblyFormat = [{
    $input `,` $labels `,` $grad attr-dict `:` type($input) `,` type($labels)
  }];
}

def Graph_SoftmaxCrossEntropyGradOp
    : Graph_LossGradOp<"softmax_cross_entropy_grad", "softmax_cross_entropy"> {
  let description = [{
    `grad * (softmax(input) - one_hot(labels)) / batch`.

    ```mlir
    %d = graph.softmax_cross_entropy_grad %logits, %labels, %dl
        : tensor<128x10xf32>, tensor<128xi32>
    ```
  }];
}

def Graph_MseLossGradOp : Graph_LossGradOp<"mse_loss_grad", "mse_loss"> {
  let description = [{
    `grad * 2 * (input - one_hot(labels)) / numel(input)`.

    ```mlir
    %d = graph.mse_loss_grad %pred, %labels, %dl : tensor<128x10xf32>, tensor<128xi32>
    ```
  }];
}

def Graph_OnesOp : Graph_Op<"ones", [Pure]> {
  let summary = "A tensor filled with 1; seeds reverse-mode autodiff";
  let description = [{
    ```mlir
    %one = graph.ones : tensor<f32>
    ```
  }];
  let results = (outs Graph_F32Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

#endif // DLC_DIALECT_GRAPH_GRAPHOPS_TD
