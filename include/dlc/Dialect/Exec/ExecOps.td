//===- ExecOps.td - execution dialect operations -----------*- tablegen -*-===//

#ifndef DLC_DIALECT_EXEC_EXECOPS_TD
#define DLC_DIALECT_EXEC_EXECOPS_TD

include "dlc/Dialect/Exec/ExecDialect.td"
include "dlc/Dialect/Exec/ExecAttrs.td"
include "dlc/Dialect/Exec/ExecTypes.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

def Exec_GlobalOp : Exec_Op<"global", [Symbol]> {
  let summary = "A buffer that lives for the whole run";
  let description = [{
    Parameters, optimizer state and running statistics: placed once, at
    `offset` in the arena (set by planning), and initialised from
    `initial_value` (zeros without one). `onnx_name` is the initializer the
    buffer came from, for writing the trained model back out.

    ```mlir
    exec.global @fc1_weight {alignment = 64 : i64, offset = 0 : i64}
        : !exec.buffer<512x784xf32> = dense<0.5> : tensor<512x784xf32>
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name,
                       TypeAttrOf<Exec_BufferType>:$type,
                       OptionalAttr<ElementsAttr>:$initial_value,
                       OptionalAttr<StrAttr>:$onnx_name,
                       DefaultValuedAttr<I64Attr, "64">:$alignment,
                       OptionalAttr<I64Attr>:$offset);
  let assemblyFormat = [{
    $sym_name attr-dict `:` $type (`=` $initial_value^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    BufferType getBufferType() { return ::llvm::cast<BufferType>(getType()); }
  }];
}

def Exec_GlobalRefOp : Exec_Op<"global_ref", [Pure,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "The buffer of an `exec.global`";
  let description = [{
    ```mlir
    %w = exec.global_ref @fc1_weight : !exec.buffer<512x784xf32>
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$global);
  let results = (outs Exec_BufferType:$result);
  let assemblyFormat = "$global attr-dict `:` qualified(type($result))";
}

def Exec_AllocOp : Exec_Op<"alloc", [MemoryEffects<[MemAlloc]>]> {
  let summary = "A transient buffer";
  let description = [{
    Live from its first use to its last (or, for a buffer an asynchronous
    operation works on, to that operation's wait). Planning sets `offset`;
    buffers whose lifetimes do not overlap may share bytes.

    ```mlir
    %h = exec.alloc {alignment = 64 : i64} : !exec.buffer<128x512xf32>
    ```
  }];
  let arguments = (ins DefaultValuedAttr<I64Attr, "64">:$alignment,
                       OptionalAttr<I64Attr>:$offset);
  let results = (outs Exec_BufferType:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Exec_ViewOp : Exec_Op<"view", [Pure]> {
  let summary = "The same bytes seen with another shape";
  let description = [{
    A reshape that copies nothing: the result aliases the source, which
    must have exactly as many bytes. With `byte_offset`, the result is the
    part of the source that starts that many bytes in (a gradient inside
    the bucket that one collective averages), and must fit in it.

    ```mlir
    %flat = exec.view %x : !exec.buffer<128x1x28x28xf32> -> !exec.buffer<128x784xf32>
    %db = exec.view %bucket {byte_offset = 1024 : i64}
        : !exec.buffer<4096xf32> -> !exec.buffer<512xf32>
    ```
  }];
  let arguments = (ins Exec_BufferType:$source,
                       OptionalAttr<I64Attr>:$byte_offset);
  let results = (outs Exec_BufferType:$result);
  let assemblyFormat = [{
    $source attr-dict `:` qualified(type($source)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def Exec_StreamOp : Exec_Op<"stream", [Pure]> {
  let summary = "The target's stream (CUDA) that kernels are queued on";
  let description = [{
    ```mlir
    %s = exec.stream : !exec.stream
    ```
  }];
  let results = (outs Exec_StreamType:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
}

def Exec_KernelOp : Exec_Op<"kernel", [AttrSizedOperandSegments,
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "One call of a runtime kernel";
  let description = [{
    Reads `ins`, writes `outs` and may use `scratch` as it likes (library
    workspaces, layout copies). An output that overwrites an input is in
    place: `in_place[i]` is the index of the input that output `i`
    overwrites, or -1, and an output may share a buffer with an input only
    if declared so. `reusable` lists the inputs whose bytes an output of
    the same buffer type may take once nothing later reads them (an
    elementwise kernel lists all of them; batch norm's gradient lists the
    output gradient, which oneDNN overwrites in place): `dlc-reuse-in-place`
    decides. On the CUDA target the kernel is queued on `stream`.

    `args` are the runtime call's arguments after its context, in order:
    `#exec.ptr<N>` is the address of buffer operand N (inputs, outputs,
    scratch, counted together), `#exec.enum`, `#exec.struct` and
    `#exec.null` are ABI constants, and integers, floats, booleans and
    `array<i64: ...>` are passed as they are. Without `args` the call takes
    every buffer in operand order. Lowering to EmitC prints one call per
    kernel from this and nothing else.

    ```mlir
    exec.kernel "relu" ins(%h : !exec.buffer<128x512xf32>)
        outs(%h : !exec.buffer<128x512xf32>) {in_place = array<i64: 0>}
    exec.kernel "gemm" on %s ins(%x, %w : !exec.buffer<128x784xf32>,
        !exec.buffer<512x784xf32>) outs(%y : !exec.buffer<128x512xf32>)
        {args = [false, true, 128, 512, 784, 1.0 : f32, #exec.ptr<0>,
                 #exec.ptr<1>, 0.0 : f32, #exec.ptr<2>]}
    ```
  }];
  let arguments = (ins StrAttr:$callee,
                       Optional<Exec_StreamType>:$stream,
                       Variadic<Exec_BufferType>:$inputs,
                       Variadic<Exec_BufferType>:$outputs,
                       Variadic<Exec_BufferType>:$scratch,
                       OptionalAttr<DenseI64ArrayAttr>:$in_place,
                       OptionalAttr<ArrayAttr>:$args,
                       OptionalAttr<DenseI64ArrayAttr>:$reusable);
  let assemblyFormat = [{
    $callee (`on` $stream^)? (`ins` `(` $inputs^ `:` type($inputs) `)`)?
    (`outs` `(` $outputs^ `:` type($outputs) `)`)?
    (`scratch` `(` $scratch^ `:` type($scratch) `)`)? attr-dict
  }];
  let extraClassDeclaration = [{
    /// Inputs, outputs and scratch, in the order `#exec.ptr` counts them.
    ::llvm::SmallVector<::mlir::Value> getBuffers();
    /// `args`, or, without it, a pointer to every buffer in order.
    ::llvm::SmallVector<::mlir::Attribute> getCallArguments();

  private:
    ::mlir::LogicalResult verifyArguments();
  public:
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Asynchronous operations
//===----------------------------------------------------------------------===//

def Exec_AllReduceStartOp : Exec_Op<"allreduce_start", [
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Starts averaging a buffer over all ranks, in place";
  let description = [{
    Returns at once; the buffer holds the mean only after the `exec.wait`
    that consumes the token, and nothing may read or write it before then.

    ```mlir
    %t = exec.allreduce_start %grad : !exec.buffer<512x784xf32>
    exec.wait %t
    ```

    With `joins_next` (a start carried into the next step), the runtime may
    hold the average back and average it together with the next
    `exec.allreduce_start`'s buffer, which the compiler placed in the next
    bytes of the same allocation: one collective over both, where the link
    it measures at start-up makes the latency saved worth the wait.
  }];
  let arguments = (ins Exec_BufferType:$buffer, UnitAttr:$joins_next);
  let results = (outs Exec_TokenType:$token);
  let assemblyFormat = "$buffer attr-dict `:` qualified(type($buffer))";
  let hasVerifier = 1;
}

def Exec_WaitOp : Exec_Op<"wait", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Waits for an asynchronous operation to finish";
  let arguments = (ins Exec_TokenType:$token);
  let assemblyFormat = "$token attr-dict";
}

def Exec_CarriedOp : Exec_Op<"carried", [SingleBlock, NoTerminator,
    MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Finishes, in this step, a collective the step before started";
  let description = [{
    Software pipelining across steps (`--overlap=next-forward`): a step's
    `exec.allreduce_start` whose token nothing waits for leaves its
    average in flight into the next step. There `exec.carried` on the same
    buffer waits for it and then runs its body, the updates that read the
    average. On a step that follows no such start (the first, or one after
    the trainer has flushed what was carried) it does nothing.

    The buffer holds data from its start to the end of the step and again
    from the start of the next step to here; memory planning gives it the
    same bytes in both.

    ```mlir
    exec.carried %g : !exec.buffer<512xf32> {
      exec.kernel "sgdUpdate" ins(%w, %g : ...) outs(%w : ...)
    }
    ...
    %t = exec.allreduce_start %g : !exec.buffer<512xf32>
    ```
  }];
  let arguments = (ins Exec_BufferType:$buffer);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$buffer attr-dict `:` qualified(type($buffer)) $body";
  let hasVerifier = 1;
}

#endif // DLC_DIALECT_EXEC_EXECOPS_TD
