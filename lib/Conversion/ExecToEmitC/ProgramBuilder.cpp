//===- ProgramBuilder.cpp - exec operations printed as runtime calls ------===//
//
// One to one: an exec.kernel is one call of `dlc::rt::<callee>` with the
// context and its `args` (buffer pointers into the arena, constants),
// bracketed by traceBegin/traceEnd for the trainer's --trace, an
// allreduce_start/wait pair the two calls of the runtime's communication
// ABI, an exec.carried a branch on whether the step before left its
// average in flight; buffers, views and streams print nothing.
//
//===----------------------------------------------------------------------===//

#include "ProgramBuilder.h"
#include "dlc/Transforms/Passes.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace dlc;

ProgramBuilder::ProgramBuilder(ModuleOp module, Operation *firstOldOp)
    : module(module), ctx(module.getContext()), builder(ctx), top(ctx) {
  top.setInsertionPoint(firstOldOp);
  builder.setInsertionPointToEnd(module.getBody());
}

int64_t ProgramBuilder::offsetOf(Value buffer) {
  int64_t within = exec::byteOffsetInStorage(buffer);
  return within + offsetOfStorage(exec::storageOf(buffer));
}

int64_t ProgramBuilder::offsetOfStorage(Value buffer) {
  if (auto arg = dyn_cast<BlockArgument>(buffer)) {
    auto func = cast<func::FuncOp>(arg.getOwner()->getParentOp());
    auto offsets = func->getAttrOfType<ArrayAttr>(kArgOffsetsAttr);
    return cast<IntegerAttr>(offsets[arg.getArgNumber()]).getInt();
  }
  if (auto ref = buffer.getDefiningOp<exec::GlobalRefOp>())
    return *module.lookupSymbol<exec::GlobalOp>(ref.getGlobalAttr())
                .getOffset();
  return *buffer.getDefiningOp<exec::AllocOp>().getOffset();
}

Value ProgramBuilder::pointer(int64_t offset, Type elementType) {
  // The narrow formats' codes (bf16, fp16, fp8, fixed point) reach the
  // runtime as the integers of their width.
  if (!elementType.isF32() && !elementType.isInteger(32))
    elementType = builder.getIntegerType(elementType.getIntOrFloatBitWidth());
  Value &slot = pointers[{offset, elementType}];
  if (!slot) {
    auto type = emitc::PointerType::get(elementType);
    StringRef helper = elementType.isF32()           ? "dlc::rt::f32At"
                       : elementType.isInteger(8)  ? "dlc::rt::i8At"
                       : elementType.isInteger(16) ? "dlc::rt::i16At"
                                                   : "dlc::rt::i32At";
    slot = emitc::CallOpaqueOp::create(
               builder, loc(), TypeRange{type}, helper, ValueRange{arena},
               builder.getArrayAttr(
                   {builder.getIndexAttr(0), builder.getI64IntegerAttr(offset)}))
               .getResult(0);
  }
  return slot;
}

StringRef ProgramBuilder::arrayGlobal(ArrayRef<int64_t> values) {
  std::string &name =
      arrays[std::vector<int64_t>(values.begin(), values.end())];
  if (name.empty()) {
    name = llvm::formatv("dlc_dims{0}", arrays.size() - 1).str();
    auto type =
        RankedTensorType::get({(int64_t)values.size()}, top.getI64Type());
    emitc::GlobalOp::create(
        top, loc(), name,
        emitc::ArrayType::get({(int64_t)values.size()}, top.getI64Type()),
        DenseElementsAttr::get(type, values), /*extern_specifier=*/false,
        /*static_specifier=*/true, /*const_specifier=*/true);
  }
  return name;
}

Value ProgramBuilder::structGlobal(StringRef type, ArrayRef<int64_t> fields) {
  std::string &name =
      structs[{type.str(), std::vector<int64_t>(fields.begin(), fields.end())}];
  auto opaqueType = emitc::OpaqueType::get(ctx, ("dlc::rt::" + type).str());
  if (name.empty()) {
    name = llvm::formatv("dlc_geometry{0}", structs.size() - 1).str();
    std::string init;
    llvm::raw_string_ostream os(init);
    os << "{";
    llvm::interleaveComma(fields, os);
    os << "}";
    emitc::GlobalOp::create(top, loc(), name, opaqueType,
                            emitc::OpaqueAttr::get(ctx, init),
                            /*extern_specifier=*/false,
                            /*static_specifier=*/true,
                            /*const_specifier=*/true);
  }
  Value global = emitc::GetGlobalOp::create(
      builder, loc(), emitc::LValueType::get(opaqueType), name);
  return emitc::LoadOp::create(builder, loc(), opaqueType, global);
}

Value ProgramBuilder::call(StringRef callee, ArrayRef<Value> values,
                           ArrayRef<Attribute> order, Type resultType) {
  SmallVector<Value> operands = {context};
  llvm::append_range(operands, values);
  SmallVector<Attribute> args = {builder.getIndexAttr(0)};
  llvm::append_range(args, order);
  auto callOp = emitc::CallOpaqueOp::create(
      builder, loc(), resultType ? TypeRange{resultType} : TypeRange{},
      ("dlc::rt::" + callee).str(), operands, builder.getArrayAttr(args));
  return resultType ? callOp.getResult(0) : Value();
}

LogicalResult ProgramBuilder::lowerKernel(exec::KernelOp kernel) {
  SmallVector<Value> buffers = kernel.getBuffers();
  SmallVector<Value> values;
  SmallVector<Attribute> order;
  // An operand is referred to by its index among the call's operands; the
  // context is operand 0.
  auto operand = [&](Value value) {
    order.push_back(builder.getIndexAttr(values.size() + 1));
    values.push_back(value);
  };
  for (Attribute arg : kernel.getCallArguments()) {
    if (auto ptr = dyn_cast<exec::PointerAttr>(arg)) {
      Value buffer = buffers[ptr.getOperand()];
      Type element = cast<exec::BufferType>(buffer.getType()).getElementType();
      int64_t bytes = element.getIntOrFloatBitWidth() / 8;
      operand(pointer(offsetOf(buffer) + ptr.getElementOffset() * bytes,
                      element));
    } else if (auto array = dyn_cast<DenseI64ArrayAttr>(arg)) {
      int64_t size = array.size();
      operand(emitc::GetGlobalOp::create(
          builder, loc(), emitc::ArrayType::get({size}, builder.getI64Type()),
          arrayGlobal(array.asArrayRef())));
    } else if (auto geometry = dyn_cast<exec::StructAttr>(arg)) {
      operand(structGlobal(geometry.getType(), geometry.getFields()));
    } else if (auto enumerator = dyn_cast<exec::EnumAttr>(arg)) {
      order.push_back(opaque(("dlc::rt::" + enumerator.getName()).str()));
    } else if (isa<exec::NullAttr>(arg)) {
      order.push_back(opaque("nullptr"));
    } else {
      order.push_back(arg);
    }
  }
  // Each call bracketed for the trainer's --trace (a branch when off).
  call("traceBegin", {}, {opaque(("\"" + kernel.getCallee() + "\"").str())});
  call(kernel.getCallee(), values, order);
  call("traceEnd", {}, {});
  return success();
}

LogicalResult ProgramBuilder::lowerCarried(exec::CarriedOp carried) {
  Value pending = call(
      "allReduceMeanWaitCarried", {},
      {builder.getI64IntegerAttr(carriedSlots.lookup(carried.getBuffer()))},
      builder.getI1Type());
  auto ifOp = emitc::IfOp::create(builder, loc(), pending,
                                  /*addThenBlock=*/true,
                                  /*addElseBlock=*/false);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(&ifOp.getThenRegion().front());
  // Pointers named inside the branch stay inside it.
  auto outside = pointers;
  for (Operation &op : carried.getBody().front())
    if (failed(lowerKernel(cast<exec::KernelOp>(op))))
      return failure();
  emitc::YieldOp::create(builder, loc());
  pointers = std::move(outside);
  return success();
}

LogicalResult ProgramBuilder::lowerOp(Operation &op) {
  if (auto alloc = dyn_cast<exec::AllocOp>(op); alloc && !alloc.getOffset())
    return op.emitOpError("has no planned offset; run dlc-plan-memory first");
  return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
      .Case<exec::AllocOp, exec::ViewOp, exec::GlobalRefOp, exec::StreamOp,
            func::ReturnOp>([](Operation *) { return success(); })
      .Case([&](exec::KernelOp kernel) { return lowerKernel(kernel); })
      .Case([&](exec::CarriedOp carried) { return lowerCarried(carried); })
      .Case([&](exec::AllReduceStartOp start) -> LogicalResult {
        auto type = cast<exec::BufferType>(start.getBuffer().getType());
        Value data =
            pointer(offsetOf(start.getBuffer()), type.getElementType());
        auto count = builder.getI64IntegerAttr(type.getNumElements());
        if (start.getToken().use_empty()) {
          // Left in flight for the next step's exec.carried.
          // Needed in the next step, after this step's waits, in the
          // order of the exec.carried ops.
          auto slot = carriedSlots.find(start.getBuffer());
          if (slot == carriedSlots.end())
            return start.emitOpError(
                "is carried into the next step, but no exec.carried names "
                "its buffer");
          call("allReduceMeanStartCarried", {data},
               {builder.getIndexAttr(1), count,
                builder.getI64IntegerAttr(waitOrder.size() + slot->second),
                builder.getI64IntegerAttr(slot->second),
                builder.getBoolAttr(start.getJoinsNext())});
          return success();
        }
        handles[start.getToken()] = call(
            "allReduceMeanStart", {data},
            {builder.getIndexAttr(1), count,
             builder.getI64IntegerAttr(waitOrder.lookup(start.getToken()))},
            builder.getI64Type());
        return success();
      })
      .Case([&](exec::WaitOp wait) {
        call("allReduceMeanWait", {handles.lookup(wait.getToken())},
             {builder.getIndexAttr(1)});
        return success();
      })
      .Default([](Operation *op) {
        return op->emitOpError("has no lowering to the runtime");
      });
}

LogicalResult ProgramBuilder::beginFunction(func::FuncOp func, StringRef name) {
  auto contextType = emitc::OpaqueType::get(ctx, "dlc::rt::Context &");
  auto arenaType =
      emitc::PointerType::get(emitc::OpaqueType::get(ctx, "char"));
  builder.setInsertionPointToEnd(module.getBody());
  auto emitted = emitc::FuncOp::create(
      builder, func.getLoc(), name,
      builder.getFunctionType({contextType, arenaType}, {}));
  emitted.setSpecifiersAttr(builder.getStrArrayAttr({"static"}));
  Block *body = emitted.addEntryBlock();
  builder.setInsertionPointToStart(body);
  context = body->getArgument(0);
  arena = body->getArgument(1);
  pointers.clear();
  handles.clear();
  carriedSlots.clear();
  for (auto carried : func.front().getOps<exec::CarriedOp>())
    carriedSlots.try_emplace(carried.getBuffer(), carriedSlots.size());
  waitOrder.clear();
  for (auto wait : func.front().getOps<exec::WaitOp>())
    waitOrder.try_emplace(wait.getToken(), waitOrder.size());
  if (!func->hasAttr(kArgOffsetsAttr))
    return func.emitOpError("has no planned offsets; run dlc-plan-memory first");
  return success();
}

LogicalResult ProgramBuilder::buildFunction(func::FuncOp func, StringRef name) {
  if (failed(beginFunction(func, name)))
    return failure();
  for (Operation &op : func.front())
    if (failed(lowerOp(op)))
      return failure();
  emitc::ReturnOp::create(builder, func.getLoc(), Value());
  builder.setInsertionPointToEnd(module.getBody());
  return success();
}

LogicalResult ProgramBuilder::buildCarriedFlush(func::FuncOp func,
                                                StringRef name) {
  if (failed(beginFunction(func, name)))
    return failure();
  for (auto carried : func.front().getOps<exec::CarriedOp>())
    if (failed(lowerCarried(carried)))
      return failure();
  emitc::ReturnOp::create(builder, func.getLoc(), Value());
  builder.setInsertionPointToEnd(module.getBody());
  return success();
}
