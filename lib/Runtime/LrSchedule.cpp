//===- LrSchedule.cpp - the learning rate of each step --------------------===//

#include "LrSchedule.h"
#include "Error.h"

#include <algorithm>
#include <cmath>

using namespace dlc::rt;

double LrSchedule::at(double base, int64_t t) const {
  double lr = base;
  switch (kind) {
  case Kind::Constant:
    break;
  case Kind::Step:
    lr = base * std::pow(gamma, static_cast<double>(t / stepSize));
    break;
  case Kind::Cosine:
    lr = minLr + (base - minLr) *
                     (1.0 + std::cos(M_PI * static_cast<double>(t) /
                                     static_cast<double>(cosineSteps))) /
                     2.0;
    break;
  }
  if (warmupSteps > 0)
    lr *= warmupStartFactor + (1.0 - warmupStartFactor) *
                                  static_cast<double>(std::min(t, warmupSteps)) /
                                  static_cast<double>(warmupSteps);
  return lr;
}

LrSchedule::Kind dlc::rt::parseScheduleKind(const std::string &name) {
  if (name == "constant")
    return LrSchedule::Kind::Constant;
  if (name == "step")
    return LrSchedule::Kind::Step;
  if (name == "cosine")
    return LrSchedule::Kind::Cosine;
  throw Error("--lr-schedule " + name + ": expected constant, step or cosine");
}
