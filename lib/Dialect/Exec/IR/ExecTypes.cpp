//===- ExecTypes.cpp - execution dialect types ----------------------------===//
//
// `!exec.buffer<128x512xf32>`: the shape as a dimension list, as builtin
// tensors print theirs, then the element type.
//
//===----------------------------------------------------------------------===//

#include "dlc/Dialect/Exec/ExecOps.h"
#include "dlc/Support/CheckedMath.h"
#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace dlc::exec;

Type BufferType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Type elementType;
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/true) ||
      parser.parseType(elementType) || parser.parseGreater())
    return Type();
  return parser.getChecked<BufferType>(parser.getContext(),
                                       ArrayRef<int64_t>(shape), elementType);
}

void BufferType::print(AsmPrinter &printer) const {
  printer << "<";
  for (int64_t d : getShape())
    printer << d << "x";
  printer << getElementType() << ">";
}

LogicalResult
BufferType::verify(function_ref<InFlightDiagnostic()> emitError,
                   ArrayRef<int64_t> shape, Type elementType) {
  if (!isa<FloatType, IntegerType>(elementType))
    return emitError() << "buffer element type " << elementType
                       << " is not a float or integer type";
  unsigned bits = elementType.getIntOrFloatBitWidth();
  if (!dlc::checkedByteSize(shape, (bits + 7) / 8))
    return emitError() << "buffer shape has a negative dimension or more "
                          "than "
                       << dlc::kMaxTensorBytes << " bytes";
  return success();
}

int64_t BufferType::getNumElements() const {
  return *dlc::checkedElementCount(getShape());
}

int64_t BufferType::getSizeInBytes() const {
  unsigned bits = getElementType().getIntOrFloatBitWidth();
  return (getNumElements() * bits + 7) / 8;
}
