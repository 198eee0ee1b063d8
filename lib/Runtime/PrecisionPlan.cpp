//===- PrecisionPlan.cpp - the formats a trainer rounds its tensors to ----===//

#include "PrecisionPlan.h"

#include "Error.h"
#include "JsonText.h"

using namespace dlc::rt;

std::vector<precision::TensorFormat>
dlc::rt::compiledFormats(const ModelInfo &model) {
  std::vector<precision::TensorFormat> formats(model.numPrecision);
  for (int i = 0; i < model.numPrecision; ++i) {
    const PrecisionSlot &slot = model.precision[i];
    std::optional<precision::Format> format = precision::parseFormat(slot.format);
    if (!format)
      throw Error(std::string("the program gives tensor '") + slot.name +
                  "' the unknown format '" + slot.format + "'");
    formats[i] = {*format, slot.exponent};
  }
  return formats;
}

std::string dlc::rt::precisionPlanJson(
    const ModelInfo &model, const std::vector<precision::TensorFormat> &formats,
    const std::vector<std::string> &decidedBy) {
  std::string json = "{\"tensors\": [";
  for (int i = 0; i < model.numPrecision; ++i) {
    const PrecisionSlot &slot = model.precision[i];
    json += std::string(i ? ",\n  " : "\n  ") + "{\"name\": \"" +
            jsonEscaped(slot.name) + "\", \"kind\": \"" + slot.kind +
            "\", \"elements\": " + std::to_string(slot.numElements) +
            ", \"format\": \"" + precision::info(formats[i].format).name +
            "\", \"exponent\": " + std::to_string(formats[i].exponent) +
            ", \"decided_by\": " + decidedBy[i] + "}";
  }
  return json + "]}\n";
}
