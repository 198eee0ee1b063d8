//===- ExecAttrs.td - execution dialect attributes ---------*- tablegen -*-===//
//
// The arguments of a kernel call that are not plain numbers: a pointer into
// one of the kernel's buffers, a runtime enumerator, a runtime geometry
// struct, a null pointer.
//
//===----------------------------------------------------------------------===//

#ifndef DLC_DIALECT_EXEC_EXECATTRS_TD
#define DLC_DIALECT_EXEC_EXECATTRS_TD

include "dlc/Dialect/Exec/ExecDialect.td"
include "mlir/IR/AttrTypeBase.td"

class Exec_Attr<string name, string attrMnemonic>
    : AttrDef<Exec_Dialect, name> {
  let mnemonic = attrMnemonic;
}

def Exec_PointerAttr : Exec_Attr<"Pointer", "ptr"> {
  let summary = "The address of a kernel's buffer operand";
  let description = [{
    Operand `operand` of the kernel (inputs, then outputs, then scratch,
    counted from 0), `element_offset` elements in:
    `#exec.ptr<2>`, `#exec.ptr<2, 1024>`.
  }];
  let parameters = (ins "unsigned":$operand,
                        DefaultValuedParameter<"int64_t", "0">:$element_offset);
  let assemblyFormat = "`<` $operand (`,` $element_offset^)? `>`";
}

def Exec_EnumAttr : Exec_Attr<"Enum", "enum"> {
  let summary = "An enumerator of the runtime's ABI";
  let description = [{
    `#exec.enum<"Binary::Add">` is `dlc::rt::Binary::Add`.
  }];
  let parameters = (ins StringRefParameter<>:$name);
  let assemblyFormat = "`<` $name `>`";
}

def Exec_StructAttr : Exec_Attr<"Struct", "struct"> {
  let summary = "A constant struct of the runtime's ABI, field by field";
  let description = [{
    `#exec.struct<"BatchNormGeometry", [16, 64, 3136]>` is a
    `dlc::rt::BatchNormGeometry` with those fields, in declaration order.
  }];
  let parameters = (ins StringRefParameter<>:$type,
                        ArrayRefParameter<"int64_t">:$fields);
  let assemblyFormat = "`<` $type `,` `[` $fields `]` `>`";
}

def Exec_NullAttr : Exec_Attr<"Null", "null"> {
  let summary = "An absent optional buffer (a null pointer)";
}

#endif // DLC_DIALECT_EXEC_EXECATTRS_TD
