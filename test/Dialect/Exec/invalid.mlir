// RUN: dlc-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{buffer element type 'index' is not a float or integer type}}
func.func @bad_element(%x: !exec.buffer<4xindex>) { return }

// -----

// expected-error @+1 {{initial value of type 'tensor<4xf32>' does not fill '!exec.buffer<3xf32>'}}
exec.global @g : !exec.buffer<3xf32> = dense<0.0> : tensor<4xf32>

// -----

// expected-error @+1 {{alignment 48 is not a positive power of two}}
exec.global @g {alignment = 48 : i64} : !exec.buffer<3xf32>

// -----

func.func @misaligned() {
  // expected-error @+1 {{offset 32 is not a non-negative multiple of the alignment 64}}
  %b = exec.alloc {offset = 32 : i64} : !exec.buffer<3xf32>
  return
}

// -----

exec.global @g : !exec.buffer<3xf32>
func.func @ref_type() {
  // expected-error @+1 {{type '!exec.buffer<4xf32>' does not match global @g of type '!exec.buffer<3xf32>'}}
  %b = exec.global_ref @g : !exec.buffer<4xf32>
  return
}

// -----

func.func @view_size(%x: !exec.buffer<2x3xf32>) {
  // expected-error @+1 {{views 24 bytes as '!exec.buffer<5xf32>' of 20 bytes}}
  %v = exec.view %x : !exec.buffer<2x3xf32> -> !exec.buffer<5xf32>
  return
}

// -----

func.func @undeclared_in_place(%x: !exec.buffer<4xf32>) {
  // expected-error @+1 {{output #0 overwrites input #0 without being declared in place}}
  exec.kernel "relu" ins(%x : !exec.buffer<4xf32>) outs(%x : !exec.buffer<4xf32>)
  return
}

// -----

func.func @wrong_in_place(%x: !exec.buffer<4xf32>, %y: !exec.buffer<4xf32>) {
  // expected-error @+1 {{output #0 is declared in place of input #0 but is another buffer}}
  exec.kernel "relu" ins(%x : !exec.buffer<4xf32>) outs(%y : !exec.buffer<4xf32>) {in_place = array<i64: 0>}
  return
}

// -----

func.func @in_place_count(%x: !exec.buffer<4xf32>) {
  // expected-error @+1 {{in_place has 2 entries for 1 outputs}}
  exec.kernel "relu" ins(%x : !exec.buffer<4xf32>) outs(%x : !exec.buffer<4xf32>) {in_place = array<i64: 0, 0>}
  return
}

// -----

func.func @scratch_alias(%x: !exec.buffer<4xf32>, %y: !exec.buffer<4xf32>) {
  // expected-error @+1 {{a scratch buffer is also an input or output}}
  exec.kernel "k" ins(%x : !exec.buffer<4xf32>) outs(%y : !exec.buffer<4xf32>) scratch(%x : !exec.buffer<4xf32>)
  return
}

// -----

func.func @unwaited(%g: !exec.buffer<4xf32>) {
  // expected-error @+1 {{token is never waited for, and no exec.carried earlier in the block finishes it in the next step}}
  %t = exec.allreduce_start %g : !exec.buffer<4xf32>
  return
}

// -----

func.func @waited_twice(%g: !exec.buffer<4xf32>) {
  // expected-error @+1 {{token must be consumed by exactly one exec.wait}}
  %t = exec.allreduce_start %g : !exec.buffer<4xf32>
  exec.wait %t
  exec.wait %t
  return
}

// -----

func.func @carried_touched_in_flight(%w: !exec.buffer<4xf32>, %g: !exec.buffer<4xf32>) {
  exec.carried %g : !exec.buffer<4xf32> {
    exec.kernel "sgd" ins(%w, %g : !exec.buffer<4xf32>, !exec.buffer<4xf32>) outs(%w : !exec.buffer<4xf32>) {in_place = array<i64: 0>}
  }
  %t = exec.allreduce_start %g : !exec.buffer<4xf32>
  // expected-error @+1 {{uses a buffer that a collective carried into the next step still works on}}
  exec.kernel "relu" ins(%g : !exec.buffer<4xf32>) outs(%w : !exec.buffer<4xf32>)
  return
}

// -----

func.func @carried_body(%w: !exec.buffer<4xf32>, %g: !exec.buffer<4xf32>) {
  exec.carried %g : !exec.buffer<4xf32> {
    // expected-error @+1 {{in exec.carried: its body holds kernels only}}
    %a = exec.alloc : !exec.buffer<4xf32>
  }
  %t = exec.allreduce_start %g : !exec.buffer<4xf32>
  return
}

// -----

func.func @touched_in_flight(%g: !exec.buffer<4xf32>, %y: !exec.buffer<4xf32>) {
  // expected-note @+1 {{the collective starts here; its exec.wait comes later}}
  %t = exec.allreduce_start %g : !exec.buffer<4xf32>
  // expected-error @+1 {{uses a buffer that a collective started earlier still works on}}
  exec.kernel "relu" ins(%g : !exec.buffer<4xf32>) outs(%y : !exec.buffer<4xf32>)
  exec.wait %t
  return
}

// -----

func.func @pointer_out_of_range(%x: !exec.buffer<4xf32>) {
  // expected-error @+1 {{argument #0 points to buffer operand #1 of 1}}
  exec.kernel "fill" outs(%x : !exec.buffer<4xf32>) {args = [#exec.ptr<1>]}
  return
}

// -----

func.func @pointer_past_end(%x: !exec.buffer<4xf32>) {
  // expected-error @+1 {{argument #0 points 4 elements into '!exec.buffer<4xf32>'}}
  exec.kernel "fill" outs(%x : !exec.buffer<4xf32>) {args = [#exec.ptr<0, 4>]}
  return
}

// -----

func.func @buffer_not_passed(%x: !exec.buffer<4xf32>, %y: !exec.buffer<4xf32>) {
  // expected-error @+1 {{buffer operand #1 is not passed to the kernel}}
  exec.kernel "scale" ins(%x : !exec.buffer<4xf32>) outs(%y : !exec.buffer<4xf32>) {args = [#exec.ptr<0>, 4]}
  return
}

// -----

func.func @unprintable_argument(%x: !exec.buffer<4xf32>) {
  // expected-error @+1 {{argument #1 ("four") is not a buffer pointer, an ABI constant}}
  exec.kernel "fill" outs(%x : !exec.buffer<4xf32>) {args = [#exec.ptr<0>, "four"]}
  return
}

// -----

func.func @reusable_out_of_range(%x: !exec.buffer<4xf32>, %y: !exec.buffer<4xf32>) {
  // expected-error @+1 {{reusable entry 1 is not an input index}}
  exec.kernel "relu" ins(%x : !exec.buffer<4xf32>) outs(%y : !exec.buffer<4xf32>) {reusable = array<i64: 0, 1>}
  return
}

// -----

func.func @joins_waited(%g: !exec.buffer<4xf32>) {
  // expected-error @+1 {{joins_next needs a start carried into the next step (a token nothing waits for)}}
  %t = exec.allreduce_start %g {joins_next} : !exec.buffer<4xf32>
  exec.wait %t
  return
}

// -----

func.func @joins_other_allocation(%w: !exec.buffer<4xf32>) {
  %r = exec.alloc : !exec.buffer<32xf32>
  %a = exec.view %r {byte_offset = 0 : i64} : !exec.buffer<32xf32> -> !exec.buffer<4xf32>
  %b = exec.alloc : !exec.buffer<4xf32>
  exec.carried %a : !exec.buffer<4xf32> {
    exec.kernel "sgd" ins(%w, %a : !exec.buffer<4xf32>, !exec.buffer<4xf32>) outs(%w : !exec.buffer<4xf32>) {in_place = array<i64: 0>}
  }
  exec.carried %b : !exec.buffer<4xf32> {
    exec.kernel "sgd" ins(%w, %b : !exec.buffer<4xf32>, !exec.buffer<4xf32>) outs(%w : !exec.buffer<4xf32>) {in_place = array<i64: 0>}
  }
  // expected-error @+1 {{joins_next, but the next exec.allreduce_start is not carried on the same allocation}}
  %ta = exec.allreduce_start %a {joins_next} : !exec.buffer<4xf32>
  %tb = exec.allreduce_start %b : !exec.buffer<4xf32>
  return
}

// -----

func.func @joins_with_a_gap(%w: !exec.buffer<4xf32>) {
  %r = exec.alloc : !exec.buffer<64xf32>
  %a = exec.view %r {byte_offset = 0 : i64} : !exec.buffer<64xf32> -> !exec.buffer<4xf32>
  %b = exec.view %r {byte_offset = 128 : i64} : !exec.buffer<64xf32> -> !exec.buffer<4xf32>
  exec.carried %a : !exec.buffer<4xf32> {
    exec.kernel "sgd" ins(%w, %a : !exec.buffer<4xf32>, !exec.buffer<4xf32>) outs(%w : !exec.buffer<4xf32>) {in_place = array<i64: 0>}
  }
  exec.carried %b : !exec.buffer<4xf32> {
    exec.kernel "sgd" ins(%w, %b : !exec.buffer<4xf32>, !exec.buffer<4xf32>) outs(%w : !exec.buffer<4xf32>) {in_place = array<i64: 0>}
  }
  // expected-error @+1 {{joins_next, but the next exec.allreduce_start's buffer does not follow this one's bytes}}
  %ta = exec.allreduce_start %a {joins_next} : !exec.buffer<4xf32>
  %tb = exec.allreduce_start %b : !exec.buffer<4xf32>
  return
}
