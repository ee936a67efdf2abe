/* A minimal batch-normalization kernel behind bncheck's C interface
 * (include/bncheck/bncheck_kernel.h), as a vendor would write one: plain C99, float32 or
 * float64 data with float32 or float64 parameters, any layout (it follows
 * the DLPack strides), every op and profile, computed in double with a
 * shifted two-pass variance. Build it and judge it on the golden corpus:
 *
 *   gcc -std=c99 -O2 -shared -fPIC -I abi examples/plugin/example_plugin.c -o libexample_plugin.so -lm
 *   build/cli/bncheck run --kernel ./libexample_plugin.so
 *
 * float16 and bfloat16 data are answered BNC_UNIMPLEMENTED, which bncheck
 * reports as skipped with this plugin's reason. */
#include <math.h>
#include <stdio.h>

#include <bncheck/bncheck_kernel.h>

/* Element (sample n, channel c, spatial position s) of a data tensor: the
 * logical coordinates times the strides, so NCHW and NHWC need no code. */
static int64_t offset(const DLTensor* t, int64_t n, int64_t c, int64_t s) {
  int64_t off = n * t->strides[0] + c * t->strides[1];
  int k;
  for (k = t->ndim - 1; k >= 2; --k) {
    off += (s % t->shape[k]) * t->strides[k];
    s /= t->shape[k];
  }
  return off;
}

static double get(const DLTensor* t, int64_t i) {
  const char* base = (const char*)t->data + t->byte_offset;
  return t->dtype.bits == 64 ? ((const double*)base)[i] : (double)((const float*)base)[i];
}

/* Rounds once to the tensor's type (a C cast rounds to nearest). */
static void put(const DLTensor* t, int64_t i, double v) {
  char* base = (char*)t->data + t->byte_offset;
  if (t->dtype.bits == 64)
    ((double*)base)[i] = v;
  else
    ((float*)base)[i] = (float)v;
}

static int is_f32_or_f64(const DLTensor* t) {
  return t->dtype.code == kDLFloat && t->dtype.lanes == 1 && (t->dtype.bits == 32 || t->dtype.bits == 64);
}

static bnc_status example_batch_norm(void* instance, const bnc_batch_norm_args* a, char* message,
                                     size_t capacity) {
  const DLTensor* x;
  int64_t N, C, S = 1, M, n, c, s;
  int k;
  (void)instance;
  if (a != NULL && a->op != BNC_OP_FORWARD_TRAINING && a->op != BNC_OP_FORWARD_INFERENCE &&
      a->op != BNC_OP_BACKWARD) {  /* MERGE_STATISTICS (1.2) and later ops: no x to read */
    snprintf(message, capacity, "example: op %d is not implemented", (int)a->op);
    return BNC_UNIMPLEMENTED;
  }
  if (a == NULL || a->struct_size < BNC_BATCH_NORM_ARGS_SIZE_1_0 || a->x == NULL || a->gamma == NULL ||
      a->x->strides == NULL) {
    snprintf(message, capacity, "example: arguments do not follow bncheck_kernel.h 1.0");
    return BNC_INVALID_ARGUMENT;
  }
  x = a->x;
  if (!is_f32_or_f64(x) || !is_f32_or_f64(a->gamma)) {
    snprintf(message, capacity, "example: only float32 and float64 tensors (x has %d-bit type code %d)",
             (int)x->dtype.bits, (int)x->dtype.code);
    return BNC_UNIMPLEMENTED;
  }
  if (a->profile < BNC_PROFILE_ONNX || a->profile > BNC_PROFILE_CUDNN) {
    snprintf(message, capacity, "example: unknown profile %d", (int)a->profile);
    return BNC_UNIMPLEMENTED;
  }
  N = x->shape[0];
  C = x->shape[1];
  for (k = 2; k < x->ndim; ++k) S *= x->shape[k];
  M = N * S;

  for (c = 0; c < C; ++c) {
    const double gamma = get(a->gamma, c);
    if (a->op == BNC_OP_FORWARD_TRAINING) {
      /* Sums of x - K with K the channel's first element: a constant channel
       * gives mean = K and var = 0 exactly (so y = beta exactly), and a large
       * offset does not cost the sum its precision. */
      const double K = get(x, offset(x, 0, c, 0));
      double sum = 0, m2 = 0, mean, var, invstd, m = a->momentum;
      for (n = 0; n < N; ++n)
        for (s = 0; s < S; ++s) sum += get(x, offset(x, n, c, s)) - K;
      mean = K + sum / (double)M;
      for (n = 0; n < N; ++n)
        for (s = 0; s < S; ++s) {
          const double d = get(x, offset(x, n, c, s)) - mean;
          m2 += d * d;
        }
      var = m2 / (double)M;
      invstd = 1.0 / sqrt(var + a->eps);
      for (n = 0; n < N; ++n)
        for (s = 0; s < S; ++s) {
          const int64_t i = offset(x, n, c, s);
          put(a->y, offset(a->y, n, c, s), (get(x, i) - mean) * (gamma * invstd) + get(a->beta, c));
        }
      if (a->mean) put(a->mean, c, mean);
      if (a->var) put(a->var, c, var);
      if (a->invstd) put(a->invstd, c, invstd);
      if (a->profile == BNC_PROFILE_ONNX) {
        put(a->running_mean, c, m * get(a->running_mean, c) + (1 - m) * mean);
        put(a->running_var, c, m * get(a->running_var, c) + (1 - m) * var);
      } else {
        const double unbiased = M > 1 ? m2 / (double)(M - 1) : NAN;
        put(a->running_mean, c, (1 - m) * get(a->running_mean, c) + m * mean);
        put(a->running_var, c, (1 - m) * get(a->running_var, c) + m * unbiased);
      }
    } else if (a->op == BNC_OP_FORWARD_INFERENCE) {
      const double rm = get(a->running_mean, c);
      const double scale = gamma * (1.0 / sqrt(get(a->running_var, c) + a->eps));
      for (n = 0; n < N; ++n)
        for (s = 0; s < S; ++s)
          put(a->y, offset(a->y, n, c, s), (get(x, offset(x, n, c, s)) - rm) * scale + get(a->beta, c));
    } else if (a->op == BNC_OP_BACKWARD) {
      /* With the saved mean and invstd, xhat = (x - mean) invstd:
       * dbeta = sum dy, dgamma = sum dy xhat,
       * dx = gamma invstd (dy - dbeta/M - xhat dgamma/M). */
      const double mean = get(a->mean, c), invstd = get(a->invstd, c);
      double dbeta = 0, dot = 0, dgamma;
      for (n = 0; n < N; ++n)
        for (s = 0; s < S; ++s) {
          const double dy = get(a->dy, offset(a->dy, n, c, s));
          dbeta += dy;
          dot += dy * (get(x, offset(x, n, c, s)) - mean);
        }
      dgamma = dot * invstd;
      for (n = 0; n < N; ++n)
        for (s = 0; s < S; ++s) {
          const double xc = get(x, offset(x, n, c, s)) - mean;
          const double dy = get(a->dy, offset(a->dy, n, c, s));
          const double dx = (gamma * invstd) * ((dy - dbeta / (double)M) - xc * ((invstd * dgamma) / (double)M));
          put(a->dx, offset(a->dx, n, c, s), dx);
        }
      put(a->dgamma, c, dgamma);
      put(a->dbeta, c, dbeta);
    } else {
      snprintf(message, capacity, "example: unknown op %d", (int)a->op);
      return BNC_UNIMPLEMENTED;
    }
  }
  return BNC_OK;
}

static const bnc_kernel_api example_api = {
    sizeof(bnc_kernel_api), BNC_API_MAJOR, BNC_API_MINOR, "example (examples/plugin/example_plugin.c)",
    NULL, /* create: no state */
    NULL, /* destroy */
    example_batch_norm,
    BNC_CAPABILITY_STRIDES, /* it indexes every tensor by its strides and byte_offset */
};

BNC_EXPORT const bnc_kernel_api* bnc_get_kernel_api(uint32_t major_version) {
  return major_version == BNC_API_MAJOR ? &example_api : NULL;
}
