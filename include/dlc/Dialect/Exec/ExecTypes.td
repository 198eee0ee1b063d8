//===- ExecTypes.td - execution dialect types --------------*- tablegen -*-===//

#ifndef DLC_DIALECT_EXEC_EXECTYPES_TD
#define DLC_DIALECT_EXEC_EXECTYPES_TD

include "dlc/Dialect/Exec/ExecDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Exec_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Exec_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

def Exec_BufferType : Exec_Type<"Buffer", "buffer"> {
  let summary = "A region of bytes holding a tensor of a static shape";
  let description = [{
    The shape and element type say how many bytes the buffer needs and how
    kernels read them; the element type is any float or integer type (f32
    today; bf16, f16 and i8 fit as they are).

    ```mlir
    !exec.buffer<128x512xf32>
    !exec.buffer<f32>          // a scalar
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The number of elements and of bytes (sub-byte types round up).
    int64_t getNumElements() const;
    int64_t getSizeInBytes() const;
  }];
}

def Exec_TokenType : Exec_Type<"Token", "token"> {
  let summary = "The completion of an asynchronous operation";
  let description = [{
    Returned by an asynchronous operation and consumed by the one
    `exec.wait` after which its results may be used.
  }];
}

def Exec_StreamType : Exec_Type<"Stream", "stream"> {
  let summary = "An ordered queue of device work (a CUDA stream)";
}

#endif // DLC_DIALECT_EXEC_EXECTYPES_TD
