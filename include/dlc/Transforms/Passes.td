//===- Passes.td - dlc cross-dialect passes ----------------*- tablegen -*-===//

#ifndef DLC_TRANSFORMS_PASSES_TD
#define DLC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def BuildTrainingGraph : Pass<"dlc-build-training-graph", "mlir::ModuleOp"> {
  let summary = "Appends loss, reverse-mode gradients and the optimizer";
  let description = [{
    From the module's `@forward(inputs) -> output` function, builds
    `@train_step(inputs, labels) -> loss`: the forward ops, the loss, the
    gradient of every op through `GradientOpInterface` in reverse order, a
    `graph.allreduce_mean` of each parameter gradient (data parallelism), and
    an optimizer update of every trainable variable: `graph.sgd_update`
    (velocity variables are added when the momentum is non-zero) or
    `graph.adam_update` (two moment variables per parameter). The
    hyperparameters are run-time values; the options' values are recorded
    as their defaults in the module's `dlc.hyperparameters` dictionary.

    When `@forward` ends in `graph.softmax` and the loss is cross-entropy, the
    loss takes the softmax's input as logits, so it never takes the logarithm
    of a rounded probability. `graph.batch_norm` is rewritten in the training
    step into its training form (or, with `batchnorm=frozen`, its inference
    form) before differentiation: one `graph.batch_norm_train`, whose
    gradient is the fused `graph.batch_norm_grad`, or, with
    `fused-batchnorm=false` (for backends without those kernels), the same
    statistics and normalization as elementwise arithmetic. `graph.dropout`
    becomes a product with a fresh random mask (or, with `dropout=off`, the
    identity).
  }];
  let options = [
    Option<"batchNorm", "batchnorm", "dlc::BatchNormMode",
           /*default=*/"dlc::BatchNormMode::Train",
           "Batch normalization while training", [{DLC_BATCHNORM_VALUES}]>,
    Option<"fusedBatchNorm", "fused-batchnorm", "bool", /*default=*/"true",
           "Train batch normalization as one fused op (false: as elementwise "
           "arithmetic, for backends without the fused kernels)">,
    Option<"dropout", "dropout", "dlc::DropoutMode",
           /*default=*/"dlc::DropoutMode::Train", "Dropout while training",
           [{DLC_DROPOUT_VALUES}]>,
    Option<"loss", "loss", "dlc::Loss", /*default=*/"dlc::Loss::CrossEntropy",
           "Loss function", [{DLC_LOSS_VALUES}]>,
    Option<"optimizer", "optimizer", "dlc::Optimizer",
           /*default=*/"dlc::Optimizer::Sgd", "Optimizer",
           [{DLC_OPTIMIZER_VALUES}]>,
    Option<"learningRate", "lr", "float", /*default=*/"0.01f",
           "Default learning rate">,
    Option<"momentum", "momentum", "float", /*default=*/"0.0f",
           "Default SGD momentum (0: no velocity state)">,
    Option<"weightDecay", "weight-decay", "float", /*default=*/"0.0f",
           "Default weight decay (L2 for sgd and adam, decoupled for adamw)">,
    Option<"beta1", "beta1", "float", /*default=*/"0.9f",
           "Default Adam beta1">,
    Option<"beta2", "beta2", "float", /*default=*/"0.999f",
           "Default Adam beta2">,
    Option<"eps", "eps", "float", /*default=*/"1e-8f",
           "Default Adam epsilon">,
  ];
  let dependentDialects = ["dlc::graph::GraphDialect",
                           "mlir::func::FuncDialect"];
}

def ExpandInferenceForms : Pass<"dlc-expand-inference-forms", "mlir::ModuleOp"> {
  let summary = "Rewrites batch_norm and dropout into their inference forms";
  let description = [{
    What is left of them after the training step has been built (those of
    `@forward`): `graph.batch_norm` becomes one
    `graph.batch_norm_inference` of the loaded running statistics (oneDNN's
    or cuDNN's inference-form kernel), and `graph.dropout` the identity.
  }];
  let dependentDialects = ["dlc::graph::GraphDialect"];
}

def ScheduleMemory : Pass<"dlc-schedule-memory", "mlir::ModuleOp"> {
  let summary = "Orders each function's operations for the lowest peak of live bytes";
  let description = [{
    The order of the operations in an exec block is the schedule; this pass
    chooses it. Any order that keeps the buffers' dependences is legal: a
    reader after the writer it reads, a writer after the readers of the
    previous contents (a parameter's update after the forward and
    backward kernels that read the old weights), a wait after its start.
    It builds candidate orders -- the order it was given, a list schedule
    that runs next, among the operations whose dependences are done, the
    one that frees the most bytes net of what it allocates (as XLA's list
    scheduler), and a depth-first schedule (as XLA's DFS scheduler) -- and
    keeps the one whose peak of live bytes (`BufferLiveness`) is lowest. The list schedule is what Shirahata et
    al. describe for the backward pass: each layer's weight and data
    gradients in the order that frees memory first, and each weight
    gradient reduced and applied to its parameter as soon as the layer's
    data gradient has read the old weights, so one buffer holds the weight
    gradients in turn. Allocations and views move to just before their
    first user. The schedule chosen and the peaks of the candidates are
    recorded on each function (`dlc.schedule`).
  }];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def ScheduleCollectives : Pass<"dlc-schedule-collectives", "mlir::ModuleOp"> {
  let summary = "Places each gradient's allreduce start and wait to overlap it with compute";
  let description = [{
    Runs after dlc-schedule-memory, on the order it chose. With
    `overlap=backward` each `exec.allreduce_start` moves to just after the
    last operation it depends on (the kernel that made the gradient final)
    and each `exec.wait` to just before the first operation that depends on
    it (the parameter's update), so that the rest of the backward pass runs
    while the gradient is averaged. With `overlap=none` each wait follows
    its start at once: the step blocks on every collective. Nothing else
    moves; the memory plan, made afterwards, keeps each gradient live until
    its wait. With `defer`, each wait and the updates after it then move
    on down the step: with overlap=backward as far as the gradient's longer
    life keeps every position within the peak of live bytes, with
    overlap=backward-late to the end of the step (every gradient kept until
    then, as DistributedDataParallel does: more overlap, more memory).

    With `overlap=next-forward` (software pipelining across steps) each
    wait and the optimizer updates that depend on it leave the step: they
    become an `exec.carried` on the gradient, placed before the first
    operation that touches the parameters they write, which in the next
    step is that layer's forward. The average then overlaps the rest of
    the backward pass and the next forward pass up to that layer; the
    gradient's buffer is live from its production to the end of the step
    and from the start of the next to its `exec.carried`.

    Then, with `overlap=next-forward` (`hoist`), each gradient's last
    producer and its start move up the step to just after what the
    producer depends on, where the step's peak of live bytes (in the
    forward pass, where the averages carried from the step before are
    held) with the parameters and optimizer state grows by at most
    `hoist-peak-growth` in all: the memory schedule
    leaves large weight gradients, which take more than they free, to the
    backward pass's end, where their averages would have least time on
    the link (AlexNet's fc6, 151 MB: to average it on 64 ranks at
    10 Gbit/s takes longer than the next forward pass waits for it).
    Gradients that move to the same place keep their order.

    Last, with `overlap=next-forward`, gradients whose averages start one
    after another are bucketed: one collective on one
    allocation, each gradient a view into it at a 64-byte aligned offset,
    so that the bucket is averaged in place. By the alpha-beta model (a
    collective of n bytes costs alpha + n / beta, `comm-alpha-us` and
    `comm-gbit`), a bucket takes gradients while alpha stays over a tenth
    of its cost: up to 9 alpha beta bytes; a larger gradient is averaged
    alone.

    With `runtime-buckets`, alpha and beta are left to the trainer, which
    measures the link at start-up: the same runs of gradients are placed
    contiguously, up to `region-bytes` each, but every gradient keeps its
    own start and exec.carried; each start but a run's last is marked
    `joins_next`, and the runtime cuts each run into collectives by the same
    rule with the measured alpha and beta.
  }];
  let options = [
    Option<"overlap", "overlap", "std::string", /*default=*/"\"backward\"",
           "next-forward: wait and update in the next step, just before the "
           "layer's forward; backward: start as early and wait as late as "
           "the peak of live bytes allows; backward-late: wait at the end "
           "of the step; none: wait right after each start">,
    Option<"commAlphaUs", "comm-alpha-us", "double", /*default=*/"50.0",
           "overlap=next-forward: the latency of one collective, in "
           "microseconds, for bucketing (0: one collective per gradient)">,
    Option<"commGbit", "comm-gbit", "double", /*default=*/"10.0",
           "overlap=next-forward: the network's bandwidth, in Gbit/s, for "
           "bucketing">,
    Option<"hoist", "hoist", "bool", /*default=*/"true",
           "overlap=next-forward: move each gradient's producer and start up "
           "the backward pass where the step's peak of live bytes allows">,
    Option<"hoistPeakGrowth", "hoist-peak-growth", "double",
           /*default=*/"0.01",
           "hoist: how much the moves may raise the step's memory (its "
           "peak of live bytes with the parameters and optimizer state) in "
           "all, as a fraction of it">,
    Option<"runtimeBuckets", "runtime-buckets", "bool", /*default=*/"false",
           "overlap=next-forward: place runs of gradients contiguously and "
           "let the runtime bucket them with the link it measures, instead "
           "of bucketing here by comm-alpha-us and comm-gbit">,
    Option<"regionBytes", "region-bytes", "int64_t",
           /*default=*/"int64_t(1) << 20",
           "runtime-buckets: the most bytes the runtime may average in one "
           "collective. Beyond 1 MiB, merging saves little (alpha is under a "
           "tenth of the cost wherever alpha beta is under 116 KB: 10 Gbit/s "
           "and 90 us, 100 Gbit/s and 9 us) and keeps gradients live longer">,
    Option<"nextForwardPeakLimit", "next-forward-peak-limit", "double",
           /*default=*/"0.0",
           "overlap=next-forward: where pipelining would raise the step's "
           "peak of live bytes above this multiple of overlap=backward's, "
           "schedule as overlap=backward instead (dlc.overlap on the "
           "function says which); 0: always pipeline">,
    Option<"defer", "defer", "bool", /*default=*/"true",
           "move waits and updates down the step (off under a memory "
           "budget: the rematerializer needs the room)">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def Rematerialize : Pass<"dlc-rematerialize", "mlir::ModuleOp"> {
  let summary = "Recomputes values instead of keeping them, to fit a memory budget";
  let description = [{
    While the globals plus a function's peak of live bytes exceed `budget`
    (bytes; 0: no budget), a value live across the peak but not used there
    (an activation kept from the forward pass for the backward pass) is
    dropped after its last use before the peak and recomputed, by a copy of
    the kernel that produced it, just before its first use after the peak;
    an input of that kernel that is gone by then is recomputed first, two
    kernels deep (a segment from the nearest kept value, as Chen et al.'s
    checkpoints). The kernels that qualify are activations, elementwise
    arithmetic, batch normalization, pooling and convolutions, and only
    where their inputs still hold the same contents there (live, and not
    written in between; a weight not yet updated). Among those live at the
    peak, the most bytes per recomputed operation go first, so convolutions
    are recomputed only where nothing cheaper frees the bytes. The
    added operations are counted in `dlc.recomputed_flops` on the module.
    A recomputation that does not lower the peak (its copy raises another
    point above it) is undone. Whether the budget is met is for
    `dlc-plan-memory` to say, with the same budget, once in-place reuse has
    run: it fails naming the smallest arena reached.
  }];
  let options = [
    Option<"budget", "budget", "int64_t", /*default=*/"0",
           "Bytes the arena may take (0: no budget)">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def ReuseInPlace : Pass<"dlc-reuse-in-place", "mlir::ModuleOp"> {
  let summary = "Lets kernels write over a reusable input that dies there";
  let description = [{
    In the order the block now has, a kernel's output takes the bytes of one
    of its `reusable` inputs of the same buffer type (any input of an
    elementwise kernel: activations and their gradients, arithmetic,
    gradient accumulation, clipping; the output gradient of batch norm's
    gradient) when that input is an allocation nothing reads after the
    kernel (no later reader, no collective pending on it, not returned):
    the output's `exec.alloc` goes away, its users use the input, and the
    kernel declares the output `in_place`. The planner then has one buffer
    where it had two live at once. Runs after `dlc-schedule-memory`, whose
    order decides what dies where.
  }];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def InstrumentStatistics : Pass<"dlc-instrument-statistics", "mlir::ModuleOp"> {
  let summary = "Records where the values of the tensors that matter fall";
  let description = [{
    In `@train_step`, a `recordStatistics` kernel reads each tensor that a
    format choice needs statistics of (`--tensor-stats`; the trainer gathers them
    every `--stats-every` steps): the parameters (at the step's start), the
    activations kept for the backward pass (the data input, and what the
    forward pass writes and a kernel computed from the labels reads), the
    activation gradients (what is computed from the labels, but for the
    loss and the weight gradients) and the weight gradients (what the
    optimizer updates read), each after the kernel that writes its final
    value. Runs after the schedule, before in-place reuse, so that a kernel
    that later writes over a tensor runs after its statistics are read.
    Each kernel names a slot; the module's `dlc.statistics` lists the
    slots in order: the tensor's name (the ONNX initializer, or the ONNX
    node that made it, with `:grad` for a gradient), its kind
    (`weight`, `activation`, `activation_gradient`, `weight_gradient`)
    and its elements.
  }];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def AssignPrecision : Pass<"dlc-assign-precision", "mlir::ModuleOp"> {
  let summary = "Chooses the number format of each tensor that matters";
  let description = [{
    Gives each tensor of `@train_step` that a format is chosen for (the
    weights, the activations kept for the backward pass, the activation
    gradients and the weight gradients, as `dlc-instrument-statistics`
    finds them) a format: `format` for all of them (`dlc --precision=bf16`),
    or each its own from a precision plan, the JSON file a trainer writes
    with `--precision-plan-out` (`dlc --precision-plan FILE`):

    ```json
    {"tensors": [{"name": "fc1.weight", "kind": "weight",
                  "format": "bf16", "exponent": 0}, ...],
     "default": "fp32"}
    ```

    A plan must name each tensor of the model, or give a `default` for
    those it leaves out, and only the model's tensors. The formats are
    `fp32`, `bf16`, `fp16`, `fp8e4m3`, `fp8e5m2`, `int8` and `int16`; the
    exponent scales the encoding by a power of two (the fixed-point
    formats' position of the binary point). The module's `dlc.precision`
    lists the tensors in order with their formats: each one's index is its
    slot in the runtime's table of formats. `dlc-lower-precision` makes the
    step round to them. Master weights and optimizer state stay fp32.
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"fp32\"",
           "the format of every tensor (without a plan)">,
    Option<"plan", "plan", "std::string", /*default=*/"\"\"",
           "a precision plan (JSON) that gives each tensor its format">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def LowerPrecision : Pass<"dlc-lower-precision", "mlir::ModuleOp"> {
  let summary = "Makes the training step keep each tensor in its format";
  let description = [{
    For each tensor that `dlc.precision` gives a format other than fp32, a
    `roundToFormat` kernel (arguments: source, destination, elements, the
    tensor's slot) rounds it to that format, to nearest with ties to even,
    as the hardware converts; the kernels that read it then read values
    the format holds exactly, whatever arithmetic they run in. Each kernel
    but the optimizer's update reads a weight through a copy rounded from
    the master weight (which stays fp32) just before it, one copy per
    reader so that none outlives its reader; the data input is rounded in
    place before the first kernel; every other tensor is rounded in place
    right after the kernel that writes its final value. An activation that
    the backward pass reads is kept for it in its format's codes (a
    `!exec.buffer` of `bf16`, `f16`, `f8E4M3FN`, `f8E5M2`, `i8` or `i16`):
    `packToFormat` once the forward pass has read it, `unpackFromFormat`
    into an fp32 buffer just before the first backward kernel that reads
    it, which all read that one. The format and exponent come from the
    runtime's table (slot), which the trainer fills from the module's plan
    and may change while it trains; a value past the format's largest
    saturates to it, counted (the trainer moves the tensor's exponent).
    With `adjustable` (`dlc --precision=auto`), every tensor gets its
    kernel, fp32 ones included, so that the trainer can choose each one's
    format once it has calibration statistics (activations stay in fp32
    buffers, whose width does not depend on it), and the module is marked
    `dlc.precision_adjustable`. Runs right after `dlc-assign-precision`, on
    the same step.
  }];
  let options = [
    Option<"adjustable", "adjustable", "bool", /*default=*/"false",
           "round every tensor, fp32 ones too (the trainer chooses)">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def PoisonFreed : Pass<"dlc-poison-freed", "mlir::ModuleOp"> {
  let summary = "Debugging: overwrites each buffer with NaNs after its last use";
  let description = [{
    After the operation that last touches an allocation (its last reader,
    or the wait of a collective on it), a `poison` kernel sets its bytes
    to 0xFF, a NaN in every floating-point format. A plan that is right
    computes the same step with or without it; a kernel that reads a
    buffer after the point where the plan gave its bytes away (a wrong live
    range, a wrong in-place reuse, a schedule that breaks a dependence)
    reads NaNs, and the loss shows it. `dlc --debug-poison-freed` adds it
    before the arena is planned.
  }];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

def PlanMemory : Pass<"dlc-plan-memory", "mlir::ModuleOp"> {
  let summary = "Places every exec buffer in one static arena";
  let description = [{
    Globals get persistent slots at the start of the arena, in module
    order. Within each function, every transient buffer (`exec.alloc`s and
    the function's arguments) gets an offset in a shared scratch region,
    reused once the buffer's live range (`BufferLiveness`: from its
    allocation to its last use, through views, and to the wait of any
    collective working on it) has passed, by the best of several placement
    heuristics (`ArenaPlacement.h`). The offsets are the `offset`
    attributes of `exec.global` and `exec.alloc`, `dlc.arg_offsets` on each
    function, and the total size
    `dlc.arena_size` on the module; all are byte offsets, 64-byte aligned
    (or more, as a buffer asks). With a `budget`, an arena larger than it
    is an error that names both.
  }];
  let options = [
    Option<"budget", "budget", "int64_t", /*default=*/"0",
           "Bytes the arena may take (0: no budget)">,
  ];
  let dependentDialects = ["dlc::exec::ExecDialect"];
}

#endif // DLC_TRANSFORMS_PASSES_TD
