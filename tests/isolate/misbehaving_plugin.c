/* Test plugins that misbehave in one way each, chosen at build time by
 * BNC_MISBEHAVIOUR, on forward_training problems only; every other problem
 * gets the example plugin's correct batch norm, so a test can show that the
 * case after a crash runs and passes. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The example's correct kernel, its exported getter renamed out of the way. */
#define bnc_get_kernel_api example_get_kernel_api
#include "example_plugin.c"
#undef bnc_get_kernel_api

#define CRASH 1       /* writes through a wild pointer: SIGSEGV outside every buffer */
#define ABORT 2       /* abort(): SIGABRT */
#define HANG 3        /* spins for ever */
#define OVERRUN 4     /* computes, then writes one element past the end of y */
#define UNDERRUN 5    /* computes, then writes the byte before y */
#define WRITE_INPUT 6 /* computes, then changes x[0] */
#define LAZY 7        /* returns BNC_OK having written nothing */
#define EXIT 8        /* exit(3) in the middle of the call */

#if BNC_MISBEHAVIOUR == OVERRUN
static size_t bytes_of(const DLTensor* t) {
  size_t n = (size_t)(t->dtype.bits / 8);
  int k;
  for (k = 0; k < t->ndim; ++k) n *= (size_t)t->shape[k];
  return n;
}
#endif

#if BNC_MISBEHAVIOUR == OVERRUN || BNC_MISBEHAVIOUR == UNDERRUN || BNC_MISBEHAVIOUR == WRITE_INPUT
static unsigned char* first_byte(const DLTensor* t) { return (unsigned char*)t->data + t->byte_offset; }
#endif

static bnc_status misbehaving_batch_norm(void* instance, const bnc_batch_norm_args* a, char* message,
                                         size_t capacity) {
  bnc_status s;
  if (a->op != BNC_OP_FORWARD_TRAINING) return example_batch_norm(instance, a, message, capacity);
#if BNC_MISBEHAVIOUR == CRASH
  {
    volatile int* volatile wild = (volatile int*)(uintptr_t)16;
    *wild = 1;
  }
#elif BNC_MISBEHAVIOUR == ABORT
  abort();
#elif BNC_MISBEHAVIOUR == HANG
  {
    volatile int spin = 1;
    while (spin) {
    }
  }
#elif BNC_MISBEHAVIOUR == EXIT
  exit(3);
#elif BNC_MISBEHAVIOUR == LAZY
  return BNC_OK;
#endif
  s = example_batch_norm(instance, a, message, capacity);
#if BNC_MISBEHAVIOUR == OVERRUN
  memset(first_byte(a->y) + bytes_of(a->y), 0, (size_t)(a->y->dtype.bits / 8));
#elif BNC_MISBEHAVIOUR == UNDERRUN
  first_byte(a->y)[-1] = 0;
#elif BNC_MISBEHAVIOUR == WRITE_INPUT
  first_byte(a->x)[0] ^= 1;
#endif
  return s;
}

static const bnc_kernel_api misbehaving_api = {
    sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, "misbehaving test plugin",
    NULL, NULL, misbehaving_batch_norm,
    0, /* capabilities: dense tensors only */
};

BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version) {
  return major_version == BNC_API_MAJOR ? &misbehaving_api : NULL;
}
