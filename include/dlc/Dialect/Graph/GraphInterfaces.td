//===- GraphInterfaces.td - graph op interfaces ------------*- tablegen -*-===//
//
// GradientOpInterface: each differentiable op states its own vector-Jacobian
// product, so reverse-mode autodiff needs no central switch over op kinds.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_GRAPH_GRAPHINTERFACES_TD
#define DLC_DIALECT_GRAPH_GRAPHINTERFACES_TD

include "mlir/IR/OpBase.td"

def GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::dlc::graph";
  let description = [{
    An op that can propagate gradients from its result back to its operands.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at the builder's insertion point, the gradient of the loss with
        respect to each operand, given `resultGradient`, the gradient with
        respect to the op's first result (the only differentiable one: further
        results, such as batch statistics, carry no gradient). Returns one
        value per operand; a null value marks an operand that receives no
        gradient.
      }],
      "::llvm::SmallVector<::mlir::Value>", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Value":$resultGradient)>,
  ];
}

#endif // DLC_DIALECT_GRAPH_GRAPHINTERFACES_TD
