//===- CpuWorkspaces.h - what the CPU kernels need from the arena -*- C++ -*-===//
//
// The CPU kernels built on oneDNN need bytes besides their operands: the
// layout copies, oneDNN's scratchpad, results nobody reads. The compiler
// plans them in the arena, one scratch buffer per call, and asks these
// functions how large: they build the same primitive descriptors the
// kernels run (no code is generated), on the compiling machine's CPU. A
// kernel that finds less than it needs at run time (another CPU picked
// other kernels) takes the runtime's shared workspace instead.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_RUNTIME_CPUWORKSPACES_H
#define DLC_RUNTIME_CPUWORKSPACES_H

#include "dlc/Runtime/Kernels.h"

#include <cstdint>

namespace dlc::rt {

/// The four calls of a convolution: conv2d without and with a bias,
/// conv2dBackwardData, conv2dBackwardFilter.
enum class ConvKernel { Forward, ForwardWithBias, BackwardData, BackwardFilter };
/// maxPool2d, maxPool2dGrad, avgPool2d, avgPool2dGrad.
enum class PoolKernel { MaxForward, MaxBackward, AvgForward, AvgBackward };

/// The scratch bytes one call takes; -1 where oneDNN refuses the geometry
/// (the call would fail at run time as well).
int64_t conv2dWorkspaceBytes(const Conv2DGeometry &g, ConvKernel kernel);
/// 0 where the geometry takes the plain loops, which need none.
int64_t pool2dWorkspaceBytes(const Pool2DGeometry &g, PoolKernel kernel);
/// Whether oneDNN pools this geometry (max or average); elsewhere plain
/// loops do, which read NCHW only.
bool pool2dOnLibrary(const Pool2DGeometry &g, bool max);
/// The channel block of the layout oneDNN picks for convolutions' inputs
/// and outputs on this CPU: 16 (nChw16c, AVX-512), 8 (nChw8c, AVX2), or 0
/// (plain NCHW).
int64_t preferredChannelBlock();
/// batchNormInference, batchNormTraining, batchNormTrainingGrad.
enum class NormKernel { Inference, Training, TrainingBackward };
int64_t batchNormWorkspaceBytes(const BatchNormGeometry &g, float epsilon,
                                NormKernel kernel);

} // namespace dlc::rt

#endif // DLC_RUNTIME_CPUWORKSPACES_H
