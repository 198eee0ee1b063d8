//===- ExecDependences.h - what must run before what in a step --*- C++ -*-===//
//
// The operations of an exec block that run (kernels, collectives, waits),
// and for each, the ones that must run before it: the writer of what it
// reads, the writer and the readers of the previous contents of what it
// writes (buffers compared by storage: views alias their source; a global
// is one storage however many `exec.global_ref`s name it), and the
// producers of its token. Any order of the running operations that keeps
// these is the same computation; the other operations (allocations, views,
// global references, the stream) only name buffers and can go just before
// their first user. Schedulers (memory, communication) choose among such
// orders.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_ANALYSIS_EXECDEPENDENCES_H
#define DLC_ANALYSIS_EXECDEPENDENCES_H

#include "mlir/IR/Block.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

namespace dlc {

/// What identifies `buffer`'s storage: a global's symbol (however many
/// `exec.global_ref`s name it), else the transient root through views.
const void *storageKey(mlir::Value buffer);

/// The buffers `op` reads and writes: a kernel's inputs, and its outputs
/// and scratch; a collective's buffer both; a wait writes its collective's
/// buffer, whose result lands by then.
void bufferAccesses(mlir::Operation *op,
                    llvm::SmallVectorImpl<mlir::Value> &reads,
                    llvm::SmallVectorImpl<mlir::Value> &writes);

/// The storage of every buffer the kernels of `body` write from `source`'s
/// contents, directly or through other buffers (not `source` itself): from
/// the labels, the loss and every gradient.
llvm::DenseSet<mlir::Value> storageComputedFrom(mlir::Block &body,
                                                mlir::Value source);

class ExecDependences {
public:
  explicit ExecDependences(mlir::Block &block);

  /// The operations that run, in block order.
  llvm::ArrayRef<mlir::Operation *> getOperations() const { return ops; }
  /// Indices (into getOperations) of what must run before operation `i`.
  llvm::ArrayRef<unsigned> getPredecessors(unsigned i) const {
    return predecessors[i];
  }
  /// The storages (transient roots: allocations, arguments) operation `i`
  /// touches, each once; globals are left out (they live throughout).
  llvm::ArrayRef<mlir::Value> getTransients(unsigned i) const {
    return transients[i];
  }

  /// Whether `op` only names a buffer (allocation, view, global reference,
  /// stream) rather than running.
  static bool namesOnly(mlir::Operation *op);

  /// Moves the block's operations into `order` (indices of every running
  /// operation once), each naming operation just before its first user,
  /// the terminator last.
  void reorder(mlir::Block &block, llvm::ArrayRef<unsigned> order) const;

private:
  llvm::SmallVector<mlir::Operation *> ops;
  llvm::SmallVector<llvm::SmallVector<unsigned>> predecessors;
  llvm::SmallVector<llvm::SmallVector<mlir::Value>> transients;
};

} // namespace dlc

#endif // DLC_ANALYSIS_EXECDEPENDENCES_H
