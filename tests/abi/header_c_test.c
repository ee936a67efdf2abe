/* include/bncheck/bncheck_kernel.h compiles as strict C99 (-std=c99 -Wall -Wextra
 * -pedantic -Werror, set in CMakeLists.txt) and its size macros agree with
 * the structs: a plain C program, run by ctest, exits 0 when all hold. */
#include <stdio.h>

#include <bncheck/bncheck_kernel.h>

/* C99 has no _Static_assert: a negative array size fails the build. */
#define STATIC_CHECK(name, cond) typedef char static_check_##name[(cond) ? 1 : -1]

STATIC_CHECK(struct_size_first_args, offsetof(bnc_batch_norm_args, struct_size) == 0);
STATIC_CHECK(struct_size_first_api, offsetof(bnc_kernel_api, struct_size) == 0);
STATIC_CHECK(args_1_2_is_whole_struct, BNC_BATCH_NORM_ARGS_SIZE_1_2 == sizeof(bnc_batch_norm_args));
STATIC_CHECK(args_1_0_is_a_prefix, BNC_BATCH_NORM_ARGS_SIZE_1_0 < BNC_BATCH_NORM_ARGS_SIZE_1_1);
STATIC_CHECK(args_1_1_is_a_prefix, BNC_BATCH_NORM_ARGS_SIZE_1_1 < BNC_BATCH_NORM_ARGS_SIZE_1_2);
STATIC_CHECK(api_1_3_is_whole_struct, BNC_KERNEL_API_SIZE_1_3 == sizeof(bnc_kernel_api));
STATIC_CHECK(api_1_0_ends_at_batch_norm, BNC_KERNEL_API_SIZE_1_0 == offsetof(bnc_kernel_api, capabilities));
STATIC_CHECK(status_is_32_bits, sizeof(bnc_status) == 4);
STATIC_CHECK(doubles_aligned, offsetof(bnc_batch_norm_args, eps) % sizeof(double) == 0);

static int failures = 0;

static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "header_c_test: %s\n", what);
    ++failures;
  }
}

static bnc_status no_op(void* instance, const bnc_batch_norm_args* args, char* message, size_t capacity) {
  (void)instance;
  (void)args;
  (void)message;
  (void)capacity;
  return BNC_UNIMPLEMENTED;
}

int main(void) {
  bnc_batch_norm_args args = {0};
  bnc_kernel_api api = {sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, "c99", NULL, NULL, no_op, 0};
  bnc_get_kernel_api_fn getter = NULL;
  char message[256] = "";
  int64_t shape[4] = {2, 3, 4, 5}, strides[4] = {60, 1, 15, 3}; /* nhwc as the header's table has it */
  DLTensor x;

  args.struct_size = sizeof args;
  args.op = BNC_OP_BACKWARD;
  args.layout = BNC_LAYOUT_NHWC;
  args.profile = BNC_PROFILE_CUDNN;
  x.data = NULL;
  x.device.device_type = kDLCPU;
  x.device.device_id = 0;
  x.ndim = 4;
  x.dtype.code = kDLFloat;
  x.dtype.bits = 32;
  x.dtype.lanes = 1;
  x.shape = shape;
  x.strides = strides;
  x.byte_offset = 0;
  args.x = &x;

  check(BNC_HAS_FIELD(&args, bnc_batch_norm_args, dbeta), "a 1.0 args struct holds dbeta");
  args.struct_size = BNC_STRUCT_SIZE(bnc_batch_norm_args, momentum);
  check(!BNC_HAS_FIELD(&args, bnc_batch_norm_args, x), "a struct cut after momentum does not hold x");
  check(BNC_HAS_FIELD(&args, bnc_batch_norm_args, eps), "a struct cut after momentum holds eps");
  check(BNC_HAS_FIELD(&api, bnc_kernel_api, batch_norm), "a 1.0 table holds batch_norm");
  check(api.batch_norm(NULL, &args, message, sizeof message) == BNC_UNIMPLEMENTED, "calls through the table");
  check(BNC_OK == 0 && BNC_UNIMPLEMENTED == 1 && BNC_INVALID_ARGUMENT == 2 && BNC_ERROR == 3,
        "status values are fixed");
  check(BNC_OP_FORWARD_TRAINING == 0 && BNC_OP_FORWARD_INFERENCE == 1 && BNC_OP_BACKWARD == 2 &&
            BNC_OP_MERGE_STATISTICS == 3,
        "op values");
  check(BNC_LAYOUT_NC == 0 && BNC_LAYOUT_NDHWC == 4 && BNC_PROFILE_ONNX == 0 && BNC_PROFILE_CUDNN == 2,
        "layout and profile values");
  (void)getter;
  return failures == 0 ? 0 : 1;
}
