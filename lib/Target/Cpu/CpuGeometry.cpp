//===- CpuGeometry.cpp - The runtime's geometry structs in kernel args ----===//

#include "CpuGeometry.h"

using namespace mlir;

namespace dlc::cpu {

namespace {
/// The fields of `args[0]` if it is a `type` of `shortForm` fields, of
/// `fullForm`, or of a form between (the later fields default to 0).
std::optional<ArrayRef<int64_t>> fieldsOf(ArrayRef<Attribute> args,
                                          StringRef type, size_t shortForm,
                                          size_t fullForm) {
  auto geometry =
      args.empty() ? exec::StructAttr() : dyn_cast<exec::StructAttr>(args[0]);
  if (!geometry || geometry.getType() != type)
    return std::nullopt;
  size_t n = geometry.getFields().size();
  if (n < shortForm || n > fullForm)
    return std::nullopt;
  return geometry.getFields();
}

/// Field `i`, or 0 (plain NCHW) where the short form stops.
int64_t fieldOr0(ArrayRef<int64_t> f, size_t i) {
  return i < f.size() ? f[i] : 0;
}
} // namespace

std::optional<rt::Conv2DGeometry> readConvGeometry(ArrayRef<Attribute> args) {
  auto f = fieldsOf(args, "Conv2DGeometry", 19, 22);
  if (!f)
    return std::nullopt;
  const ArrayRef<int64_t> &v = *f;
  rt::Conv2DGeometry g{v[0],  v[1],  v[2],  v[3],  v[4],  v[5],  v[6],
                       v[7],  v[8],  v[9],  v[10], v[11], v[12], v[13],
                       v[14], v[15], v[16], v[17], v[18]};
  g.inputBlock = fieldOr0(v, 19);
  g.outputBlock = fieldOr0(v, 20);
  g.bf16Operands = fieldOr0(v, 21);
  return g;
}

std::optional<rt::Pool2DGeometry> readPoolGeometry(ArrayRef<Attribute> args) {
  auto f = fieldsOf(args, "Pool2DGeometry", 17, 19);
  if (!f)
    return std::nullopt;
  const ArrayRef<int64_t> &v = *f;
  rt::Pool2DGeometry g{v[0],  v[1],  v[2],       v[3],  v[4],  v[5],
                       v[6],  v[7],  v[8],       v[9],  v[10], v[11],
                       v[12], v[13], v[14] != 0, v[15], v[16]};
  g.inputBlock = fieldOr0(v, 17);
  g.outputBlock = fieldOr0(v, 18);
  return g;
}

std::optional<rt::BatchNormGeometry>
readBatchNormGeometry(ArrayRef<Attribute> args) {
  auto f = fieldsOf(args, "BatchNormGeometry", 3, 4);
  if (!f)
    return std::nullopt;
  const ArrayRef<int64_t> &v = *f;
  return rt::BatchNormGeometry{v[0], v[1], v[2], fieldOr0(v, 3)};
}

exec::StructAttr geometryAttr(MLIRContext *ctx, const rt::Conv2DGeometry &g) {
  SmallVector<int64_t> fields = {
      g.batch,       g.inChannels,   g.inHeight,      g.inWidth,
      g.outChannels, g.kernelHeight, g.kernelWidth,   g.outHeight,
      g.outWidth,    g.strideH,      g.strideW,       g.padTop,
      g.padLeft,     g.padBottom,    g.padRight,      g.dilationH,
      g.dilationW,   g.groups,       g.imagesPerCall, g.inputBlock,
      g.outputBlock};
  // The arithmetic field only where it is not fp32's (its default).
  if (g.bf16Operands)
    fields.push_back(g.bf16Operands);
  return exec::StructAttr::get(ctx, "Conv2DGeometry", fields);
}

exec::StructAttr geometryAttr(MLIRContext *ctx, const rt::Pool2DGeometry &g) {
  return exec::StructAttr::get(
      ctx, "Pool2DGeometry",
      {g.batch, g.channels, g.inHeight, g.inWidth, g.outHeight, g.outWidth,
       g.kernelHeight, g.kernelWidth, g.strideH, g.strideW, g.padTop, g.padLeft,
       g.padBottom, g.padRight, g.countIncludePad, g.dilationH, g.dilationW,
       g.inputBlock, g.outputBlock});
}

exec::StructAttr geometryAttr(MLIRContext *ctx,
                              const rt::BatchNormGeometry &g) {
  return exec::StructAttr::get(ctx, "BatchNormGeometry",
                               {g.batch, g.channels, g.spatial, g.block});
}

} // namespace dlc::cpu
