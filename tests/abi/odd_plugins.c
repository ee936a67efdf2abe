/* Plugins that break the loading contract, one per build (BNC_ODD_PLUGIN):
 * FUTURE speaks only major version 2; SHORT_TABLE gives a table shorter than
 * version 1.0's; NO_GETTER exports no bnc_get_kernel_api; CREATE_FAILS
 * cannot create its instance; UNKNOWN_OUTPUT_BIT returns BNC_OK with a
 * not_produced bit the header does not define; OLD_TABLE is a version 1.0
 * table (struct_size ends at batch_norm) with the strides capability set
 * past its end, which bncheck must not read. */
#include <stdio.h>

#include <bncheck/bncheck_kernel.h>

#define FUTURE 1
#define SHORT_TABLE 2
#define NO_GETTER 3
#define CREATE_FAILS 4
#define UNKNOWN_OUTPUT_BIT 5
#define OLD_TABLE 6

#if BNC_ODD_PLUGIN == CREATE_FAILS
static bnc_status odd_create(void** instance, char* message, size_t capacity) {
  (void)instance;
  snprintf(message, capacity, "no licence for this machine");
  return BNC_ERROR;
}
#endif

static bnc_status odd_batch_norm(void* instance, const bnc_batch_norm_args* args, char* message,
                                 size_t capacity) {
  (void)instance;
#if BNC_ODD_PLUGIN == UNKNOWN_OUTPUT_BIT
  (void)message;
  (void)capacity;
  if (BNC_HAS_FIELD(args, bnc_batch_norm_args, not_produced)) *args->not_produced |= 1u << 9;
  return BNC_OK;
#else
  (void)args;
  snprintf(message, capacity, "odd plugin: never computes");
  return BNC_UNIMPLEMENTED;
#endif
}

static bnc_kernel_api odd_api = {
    sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, "odd", NULL, NULL, odd_batch_norm, 0,
};

#if BNC_ODD_PLUGIN == NO_GETTER
BNC_EXPORT const bnc_kernel_api* bnc_get_api(uint32_t major_version);
BNC_EXPORT const bnc_kernel_api* bnc_get_api(uint32_t major_version) {
  return major_version == BNC_API_MAJOR ? &odd_api : NULL;
}
#else
BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version) {
#if BNC_ODD_PLUGIN == FUTURE
  return major_version == 2 ? &odd_api : NULL;
#elif BNC_ODD_PLUGIN == SHORT_TABLE
  odd_api.struct_size = BNC_STRUCT_SIZE(bnc_kernel_api, name);
  return major_version == BNC_API_MAJOR ? &odd_api : NULL;
#elif BNC_ODD_PLUGIN == OLD_TABLE
  odd_api.struct_size = BNC_KERNEL_API_SIZE_1_0;
  odd_api.minor_version = 0;
  odd_api.capabilities = BNC_CAPABILITY_STRIDES;
  return major_version == BNC_API_MAJOR ? &odd_api : NULL;
#elif BNC_ODD_PLUGIN == CREATE_FAILS
  odd_api.create = odd_create;
  return major_version == BNC_API_MAJOR ? &odd_api : NULL;
#else
  return major_version == BNC_API_MAJOR ? &odd_api : NULL;
#endif
}
#endif
