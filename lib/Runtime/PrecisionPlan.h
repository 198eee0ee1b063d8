//===- PrecisionPlan.h - the formats a trainer rounds its tensors to -*- C++ -*-===//
//
// The trainer's side of --precision: the table of formats roundToFormat
// reads, started from the plan the program was compiled with, and the plan
// written back out (--precision-plan-out) in the JSON `dlc
// --precision-plan` reads.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_LIB_RUNTIME_PRECISIONPLAN_H
#define DLC_LIB_RUNTIME_PRECISIONPLAN_H

#include "dlc/Runtime/Model.h"
#include "dlc/Runtime/Precision/Formats.h"

#include <string>
#include <vector>

namespace dlc::rt {

/// A format per dlc_model.precision slot, as compiled.
std::vector<precision::TensorFormat> compiledFormats(const ModelInfo &model);

/// The plan: per tensor its name, kind, elements, format, exponent and what
/// decided it (`decidedBy`, a JSON value per slot).
std::string precisionPlanJson(const ModelInfo &model,
                              const std::vector<precision::TensorFormat> &formats,
                              const std::vector<std::string> &decidedBy);

} // namespace dlc::rt

#endif // DLC_LIB_RUNTIME_PRECISIONPLAN_H
