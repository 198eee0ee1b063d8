//===- GraphDialect.td - dlc graph dialect definition ------*- tablegen -*-===//
//
// The graph dialect holds a model as tensor-valued operations: the forward
// pass imported from ONNX, and the training step built from it.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_GRAPH_GRAPHDIALECT_TD
#define DLC_DIALECT_GRAPH_GRAPHDIALECT_TD

include "mlir/IR/OpBase.td"

def Graph_Dialect : Dialect {
  let name = "graph";
  let cppNamespace = "::dlc::graph";
  let summary = "Tensor-level operations of a neural network and its training step";
  let description = [{
    Values are ranked tensors with static shapes (the batch size is fixed at
    compile time). Model parameters and optimizer state live in module-level
    `graph.variable` symbols; functions read them with `graph.load` and the
    optimizer updates them in place with `graph.sgd_update`.
  }];
}

class Graph_Op<string mnemonic, list<Trait> traits = []>
    : Op<Graph_Dialect, mnemonic, traits>;

#endif // DLC_DIALECT_GRAPH_GRAPHDIALECT_TD
