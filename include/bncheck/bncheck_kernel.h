/* bncheck_kernel.h: the C interface a batch-normalization kernel implements in
 * a shared library so that bncheck can load it (dlopen) and judge it against
 * the exact reference. Version 1.3. Plain C99; include it from C or C++.
 *
 * A plugin exports one function, bnc_get_kernel_api, that hands out a table
 * of function pointers. Build and run (docs/plugins.md has the details):
 *
 *   gcc -std=c99 -O2 -shared -fPIC -I abi my_kernel.c -o libmy_kernel.so -lm
 *   bncheck run --kernel ./libmy_kernel.so
 *
 * Compatibility rules, for the plugin and for bncheck alike:
 * - Every struct begins with struct_size, set by whoever fills the struct to
 *   sizeof the struct as it was compiled. Fields are only ever appended
 *   (a minor version); a reader uses a field only if struct_size covers it
 *   (BNC_HAS_FIELD), so an old plugin works with a new bncheck and back.
 * - A change that is not an append is a new major version. The getter is
 *   told the major version the caller speaks and returns NULL when it does
 *   not speak it; bncheck then refuses the plugin with a clear message.
 * - Nothing crosses the interface but status codes and a message: no C++
 *   exceptions, no longjmp, no exit(). A C++ plugin wraps every function
 *   body in try/catch.
 */
#ifndef BNCHECK_KERNEL_H_
#define BNCHECK_KERNEL_H_

#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The interface version this header describes. */
#define BNC_API_MAJOR 1
#define BNC_API_MINOR 3

/* Marks the one function a plugin exports. */
#if defined(_WIN32)
#define BNC_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define BNC_EXPORT __attribute__((visibility("default")))
#else
#define BNC_EXPORT
#endif

/* Bytes of struct `type` up to and including `field`: the struct_size of a
 * struct as the version that ended with `field` defined it. */
#define BNC_STRUCT_SIZE(type, field) (offsetof(type, field) + sizeof(((type*)0)->field))
/* Whether the struct at `ptr` (of type `type`) holds `field`. */
#define BNC_HAS_FIELD(ptr, type, field) ((ptr)->struct_size >= BNC_STRUCT_SIZE(type, field))

/* ---- Status codes ------------------------------------------------------ */

/* What a call returns. Values are fixed forever; new ones may be added, and
 * bncheck treats a value it does not know as BNC_ERROR. */
typedef int32_t bnc_status;
enum {
  BNC_OK = 0,               /* done: every output of the op is written */
  BNC_UNIMPLEMENTED = 1,    /* this kernel does not support this problem (a data
                               type, layout, op, profile...): reported as
                               skipped, never as failed */
  BNC_INVALID_ARGUMENT = 2, /* the arguments break this header's contract */
  BNC_ERROR = 3             /* any other failure (out of memory, device error) */
};

/* ---- What to compute ----------------------------------------------------- */

/* The operation. */
typedef int32_t bnc_op;
enum {
  BNC_OP_FORWARD_TRAINING = 0,  /* y from the batch statistics; writes mean,
                                   var, invstd; updates the running statistics */
  BNC_OP_FORWARD_INFERENCE = 1, /* y from the running statistics */
  BNC_OP_BACKWARD = 2,          /* dx, dgamma, dbeta from dy and the saved statistics */
  BNC_OP_MERGE_STATISTICS = 3   /* since 1.2: the batch's mean, var, invstd from
                                   per-shard statistics (SyncBatchNorm's gather);
                                   a plugin that predates it answers
                                   BNC_UNIMPLEMENTED for an op it does not know */
};

/* Memory layout of the data tensors x, y, dy, dx. Redundant with their
 * strides (below), given so a kernel can dispatch without decoding them,
 * unless the kernel declares BNC_CAPABILITY_STRIDES (1.3): then it is the
 * problem's layout, and each data tensor's own strides say where it lies. */
typedef int32_t bnc_layout;
enum {
  BNC_LAYOUT_NC = 0,    /* (N, C): a batch of feature vectors */
  BNC_LAYOUT_NCHW = 1,  /* channel-first, 2-D spatial */
  BNC_LAYOUT_NHWC = 2,  /* channel-last, 2-D spatial */
  BNC_LAYOUT_NCDHW = 3, /* channel-first, 3-D spatial */
  BNC_LAYOUT_NDHWC = 4  /* channel-last, 3-D spatial */
};

/* The running-statistics convention (bncheck's "profile"). With M the
 * reduction length N*D*H*W, var the biased batch variance and m the momentum:
 *   ONNX:           running_mean = m*running_mean + (1-m)*mean
 *                   running_var  = m*running_var  + (1-m)*var
 *   PYTORCH, CUDNN: running_mean = (1-m)*running_mean + m*mean
 *                   running_var  = (1-m)*running_var  + m*var*M/(M-1)
 *                   (NaN when M = 1)
 * The saved statistics are mean, var and invstd = 1/sqrt(var + eps) in every
 * profile; bncheck checks var under ONNX and invstd under the others. */
typedef int32_t bnc_profile;
enum {
  BNC_PROFILE_ONNX = 0,
  BNC_PROFILE_PYTORCH = 1,
  BNC_PROFILE_CUDNN = 2
};

/* The arguments of one batch-norm call. bncheck owns this struct and every
 * tensor and buffer it points to; the kernel borrows them for the duration of
 * the call only and keeps no pointer after it returns.
 *
 * Tensors are DLPack DLTensors (dlpack/dlpack.h, version 0.6 or later):
 * - device: kDLCPU, device_id 0 (this version passes host memory only; a GPU
 *   kernel copies to and from its device inside the call).
 * - dtype: data tensors x, y, dy, dx hold the problem's data type, one of
 *   {kDLFloat, 64, 1}, {kDLFloat, 32, 1}, {kDLFloat, 16, 1} (IEEE binary16),
 *   {kDLBfloat, 16, 1}; per-channel tensors hold its parameter type,
 *   {kDLFloat, 64, 1} or {kDLFloat, 32, 1}.
 * - shape: data tensors have the logical shape in channel-first order
 *   whatever the layout: (N, C) for NC, (N, C, H, W) for NCHW and NHWC,
 *   (N, C, D, H, W) for NCDHW and NDHWC. Per-channel tensors have shape (C).
 * - strides: in elements, never NULL, one per axis of shape. They give the
 *   memory layout; bncheck passes dense tensors in the problem's layout:
 *     NC     (N, C)          strides (C, 1)
 *     NCHW   (N, C, H, W)    strides (C*H*W, H*W, W, 1)
 *     NHWC   (N, C, H, W)    strides (H*W*C, 1, W*C, C)
 *     NCDHW  (N, C, D, H, W) strides (C*D*H*W, D*H*W, H*W, W, 1)
 *     NDHWC  (N, C, D, H, W) strides (D*H*W*C, 1, H*W*C, W*C, C)
 *     per-channel (C)        strides (1)
 *   An axis of extent 1 still has the stride of the dense layout.
 *   Since 1.3, to a kernel that declares BNC_CAPABILITY_STRIDES (below),
 *   each data tensor may lie otherwise, on its own (bug class 2 of the
 *   README: mixed memory formats, sliced views): in either format of the
 *   layout's spatial rank (NCHW or NHWC for a 2-D problem), and as channels
 *   [k, k + C) of a tensor of C' > C channels in that format. Its strides
 *   are then the table's for its format with C replaced by C' (NHWC:
 *   (H*W*C', 1, W*C', C')), data points at the wider tensor, and
 *   byte_offset at channel k; the other channels are padding that inputs
 *   hold NaN in and that a kernel must not write. A kernel that does not
 *   declare the capability is given dense tensors only; bncheck reports
 *   problems whose tensors lie otherwise as skipped for it.
 * - The first element is at (char*)data + byte_offset. data is aligned to
 *   the element size, not necessarily to more; honour byte_offset.
 * - const applies to the descriptor (data, shape, strides...), which the
 *   kernel must not change; outputs are written through data.
 * - Inputs must not be written (bncheck checks them after the call).
 *   Outputs arrive filled with NaN: every element must be written. Writing
 *   outside a tensor is a failure (bncheck places guard pages after the
 *   outputs when it isolates the kernel).
 *
 * Which tensors each op uses (the others are NULL):
 *   FORWARD_TRAINING   reads x, gamma, beta; writes y, mean, var, invstd;
 *                      reads and overwrites running_mean, running_var
 *   FORWARD_INFERENCE  reads x, gamma, beta, running_mean, running_var; writes y
 *   BACKWARD           reads x, dy, gamma and the saved mean, var, invstd
 *                      (the batch statistics of x, rounded to the parameter
 *                      type); writes dx, dgamma, dbeta
 *   MERGE_STATISTICS   (1.2) reads shard_count, shard_mean, shard_m2; writes
 *                      mean, var, invstd; x, gamma and every other tensor
 *                      are NULL, layout is NC. S shards, C channels:
 *                      shard_count (S) {kDLFloat, 64, 1}, integers >= 1
 *                      whose sum is at most 2^53; shard_mean and shard_m2
 *                      (S, C) strides (C, 1) in the parameter type: shard
 *                      i's mean of channel c and its sum of squared
 *                      deviations from that mean (M2 >= 0, 0 for a shard of
 *                      one value). With N = sum n_i the outputs are
 *                      mean = sum n_i mean_i / N, var = (sum M2_i +
 *                      sum n_i (mean_i - mean)^2) / N (biased) and
 *                      invstd = 1/sqrt(var + eps). var or invstd may be
 *                      declared not produced (BNC_OUTPUT_VAR, _INVSTD).
 * y = gamma*(x - mean)*invstd + beta with eps inside the square root. */
typedef struct bnc_batch_norm_args {
  size_t struct_size; /* sizeof(bnc_batch_norm_args) as the caller compiled it */
  bnc_op op;
  bnc_layout layout;
  bnc_profile profile;
  uint32_t reserved;  /* 0; keeps the doubles aligned the same way everywhere */
  double eps;         /* added to the variance inside the square root; >= 0, finite */
  double momentum;    /* finite; its meaning depends on profile */
  const DLTensor* x;  /* data */
  const DLTensor* dy; /* data, BACKWARD */
  const DLTensor* gamma;
  const DLTensor* beta;          /* forward ops */
  const DLTensor* y;             /* data, written by forward ops */
  const DLTensor* dx;            /* data, written by BACKWARD */
  const DLTensor* mean;          /* written by FORWARD_TRAINING, read by BACKWARD */
  const DLTensor* var;           /* biased variance; as mean */
  const DLTensor* invstd;        /* 1/sqrt(var + eps); as mean */
  const DLTensor* running_mean;  /* read by FORWARD_INFERENCE; read and
                                    overwritten by FORWARD_TRAINING */
  const DLTensor* running_var;   /* as running_mean */
  const DLTensor* dgamma;        /* written by BACKWARD */
  const DLTensor* dbeta;         /* written by BACKWARD */
  /* Since 1.1 (check with BNC_HAS_FIELD): never NULL, 0 on entry. A kernel
   * that does not compute some outputs of FORWARD_TRAINING sets their
   * BNC_OUTPUT_* bits here and returns BNC_OK: a library that saves invstd
   * but no variance, or keeps no running statistics. bncheck then does not
   * check those outputs and says so in every report. Only these five may be
   * declared; any other bit, or any bit for another op, fails the case.
   * Deriving such an output in the plugin instead would have bncheck judge
   * the plugin's arithmetic, not the library's. */
  uint32_t* not_produced;
  /* Since 1.2: the inputs of MERGE_STATISTICS (above); NULL for other ops. */
  const DLTensor* shard_count;
  const DLTensor* shard_mean;
  const DLTensor* shard_m2;
  /* Fields appended in later minor versions go here. */
} bnc_batch_norm_args;
/* The size of bnc_batch_norm_args in versions 1.0, 1.1 and 1.2. */
#define BNC_BATCH_NORM_ARGS_SIZE_1_0 BNC_STRUCT_SIZE(bnc_batch_norm_args, dbeta)
#define BNC_BATCH_NORM_ARGS_SIZE_1_1 BNC_STRUCT_SIZE(bnc_batch_norm_args, not_produced)
#define BNC_BATCH_NORM_ARGS_SIZE_1_2 BNC_STRUCT_SIZE(bnc_batch_norm_args, shard_m2)

/* Bits of bnc_batch_norm_args.not_produced (1.1). */
enum {
  BNC_OUTPUT_MEAN = 1u << 0,
  BNC_OUTPUT_VAR = 1u << 1,
  BNC_OUTPUT_INVSTD = 1u << 2,
  BNC_OUTPUT_RUNNING_MEAN = 1u << 3,
  BNC_OUTPUT_RUNNING_VAR = 1u << 4
};

/* ---- The function table ------------------------------------------------- */

/* Messages: every function that may fail takes a buffer `message` of
 * `message_capacity` bytes (never NULL, capacity at least 256), holding ""
 * on entry. On any status but BNC_OK the plugin may write one line there,
 * NUL-terminated and truncated to fit, saying why; bncheck prints it in the
 * report (a skip's reason, a failure's cause). */
typedef struct bnc_kernel_api {
  size_t struct_size;     /* sizeof(bnc_kernel_api) as the plugin compiled it */
  uint32_t major_version; /* BNC_API_MAJOR the plugin was built against */
  uint32_t minor_version; /* BNC_API_MINOR the plugin was built against */
  /* A short name for reports ("acme-bn 2.1"); static storage, valid until
   * the library is unloaded. May be NULL. */
  const char* name;
  /* Makes an instance: handles, workspaces, device context. Optional (NULL:
   * the instance is NULL). Called once, lazily, before the first
   * batch_norm call of the process; when bncheck isolates the kernel, every
   * case runs in a fresh child process that calls create itself (so a CUDA
   * context is never inherited across fork). On failure returns a status
   * other than BNC_OK and leaves *instance unset; bncheck then fails every
   * case with the message. */
  bnc_status (*create)(void** instance, char* message, size_t message_capacity);
  /* Frees an instance create made. Optional. Not called in isolated child
   * processes, which exit after the call. */
  void (*destroy)(void* instance);
  /* Runs one batch-norm call (see bnc_batch_norm_args). Returns BNC_OK with
   * every output written, BNC_UNIMPLEMENTED (nothing need be written) for a
   * problem this kernel does not support, or an error. Never called
   * concurrently on one instance. Required. */
  bnc_status (*batch_norm)(void* instance, const bnc_batch_norm_args* args, char* message,
                           size_t message_capacity);
  /* Since 1.3 (bncheck checks with BNC_HAS_FIELD): what the kernel takes
   * beyond the 1.0 contract, BNC_CAPABILITY_* bits; 0 for nothing more. */
  uint64_t capabilities;
  /* Fields appended in later minor versions go here. */
} bnc_kernel_api;
/* The size of bnc_kernel_api in versions 1.0 (to 1.2) and 1.3. */
#define BNC_KERNEL_API_SIZE_1_0 BNC_STRUCT_SIZE(bnc_kernel_api, batch_norm)
#define BNC_KERNEL_API_SIZE_1_3 BNC_STRUCT_SIZE(bnc_kernel_api, capabilities)

/* Bits of bnc_kernel_api.capabilities (1.3). */
/* Data tensors in any storage the header describes (their own format, a
 * channel slice): the kernel honours every stride and byte_offset. */
#define BNC_CAPABILITY_STRIDES ((uint64_t)1)

/* The one exported function. Returns the plugin's table for interface major
 * version `major_version` (bncheck passes BNC_API_MAJOR), or NULL when the
 * plugin does not speak that major version. The table has static storage and
 * stays valid until the library is unloaded; calling this twice gives the
 * same table. Must not fail otherwise. */
BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version);
/* Its type and name, for dlsym. */
typedef const bnc_kernel_api* (*bnc_get_kernel_api_fn)(uint32_t major_version);
#define BNC_GET_KERNEL_API_SYMBOL "bnc_get_kernel_api"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BNCHECK_KERNEL_H_ */
