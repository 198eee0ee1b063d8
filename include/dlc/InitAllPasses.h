//===- InitAllPasses.h - every pass dlc's tools know ------------*- C++ -*-===//

#ifndef DLC_INITALLPASSES_H
#define DLC_INITALLPASSES_H

#include "dlc/Conversion/Passes.h"
#include "dlc/Pipeline/Pipeline.h"
#include "dlc/Target/Passes.h"
#include "dlc/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

namespace dlc {

inline void registerAllPasses() {
  registerDLCPasses();
  registerDLCConversionPasses();
  registerDLCTargetPasses();
  registerPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
}

} // namespace dlc

#endif // DLC_INITALLPASSES_H
