//===- CpuGeometry.h - The runtime's geometry structs in kernel args -*- C++
//-*-===//
//
// The oneDNN-backed calls take a geometry struct first (dlc/Runtime/
// Kernels.h), written into `args` as an `#exec.struct` field by field in
// declaration order. The lowering writes them without their layout fields
// (which default to 0, plain NCHW); dlc-assign-cpu-layouts writes them
// whole. These read either form back and write the whole one.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_TARGET_CPU_CPUGEOMETRY_H
#define DLC_LIB_TARGET_CPU_CPUGEOMETRY_H

#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Runtime/Kernels.h"

#include <optional>

namespace dlc::cpu {

/// The geometry in `args[0]`, if it is one of that struct.
std::optional<rt::Conv2DGeometry>
readConvGeometry(llvm::ArrayRef<mlir::Attribute> args);
std::optional<rt::Pool2DGeometry>
readPoolGeometry(llvm::ArrayRef<mlir::Attribute> args);
std::optional<rt::BatchNormGeometry>
readBatchNormGeometry(llvm::ArrayRef<mlir::Attribute> args);

/// Every field of `g`, layouts included.
exec::StructAttr geometryAttr(mlir::MLIRContext *ctx,
                              const rt::Conv2DGeometry &g);
exec::StructAttr geometryAttr(mlir::MLIRContext *ctx,
                              const rt::Pool2DGeometry &g);
exec::StructAttr geometryAttr(mlir::MLIRContext *ctx,
                              const rt::BatchNormGeometry &g);

} // namespace dlc::cpu

#endif // DLC_LIB_TARGET_CPU_CPUGEOMETRY_H
