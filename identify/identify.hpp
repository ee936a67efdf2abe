// Convention detection: which batch-norm conventions a kernel follows, found
// by running small probing problems whose conventions give distinct answers.
// Depends only on core/ and the harness; works on any kernel.
#pragma once

#include <string>
#include <vector>

#include "core/kernel.hpp"
#include "core/problem.hpp"

namespace bncheck::identify {

/// Where eps enters the inverse standard deviation s.
enum class eps_placement {
  inside_sqrt,   ///< 1/sqrt(var + eps)
  outside_sqrt,  ///< 1/(sqrt(var) + eps)
  omitted,       ///< 1/sqrt(var)
  floor,         ///< 1/sqrt(max(var, eps))
  unknown,       ///< none of these, or not determined
};

/// Which variance: M2/M or M2/(M - 1).
enum class variance_kind { biased, unbiased, unknown };

/// Which value the momentum m multiplies in r' = a r + w batch.
enum class momentum_weight {
  on_batch,    ///< r' = (1 - m) r + m batch (pytorch, cudnn)
  on_running,  ///< r' = m r + (1 - m) batch (onnx)
  unknown,
};

/// What a kernel wrote into one output, classified.
enum class written {
  expected,     ///< the value the convention named alongside says
  not_written,  ///< still the NaN the harness filled it with
  other,        ///< some other number
  not_produced, ///< the kernel declares it does not compute it (kernel_result::not_produced)
};

/// The normalization y = gamma (x - mean) s + beta, from y of forward_training
/// at eps = 1 and eps = 1/16 (two probes so that every placement and variance
/// gives a distinct pair of s values).
struct normalization {
  bool determined = false;
  eps_placement eps = eps_placement::unknown;
  variance_kind var = variance_kind::unknown;
  bool affine_ok = false;  ///< y's midpoint is beta and its spread gamma s (x1 - x0)
  std::string evidence;
};

/// The statistics forward_training writes besides y (from the eps = 1 probe).
struct saved_outputs {
  written mean = written::other;        ///< expected: the batch mean
  written var = written::other;         ///< expected: a variance, var_kind says which
  variance_kind var_kind = variance_kind::unknown;
  written invstd = written::other;      ///< expected: a placement/variance of s, below
  eps_placement invstd_eps = eps_placement::unknown;
  variance_kind invstd_var = variance_kind::unknown;
  std::string evidence;
};

/// The running-statistics update under one profile.
struct running_stats {
  profile prof = profile::pytorch;
  kernel_status status = kernel_status::ok;  ///< unimplemented or error: nothing else is set
  std::string message;                       ///< the kernel's message when not ok
  bool updated = false;                      ///< false: both left as they were
  bool written = true;                       ///< false: NaN came back
  bool produced = true;                      ///< false: the kernel declares it keeps no running statistics
  momentum_weight weight = momentum_weight::unknown;
  variance_kind var = variance_kind::unknown;
  std::string evidence;
};

/// forward_inference: which statistics normalize and where eps goes.
struct inference {
  bool determined = false;
  bool uses_running = false;  ///< centred on the running mean (else on the batch mean, or other)
  bool uses_batch = false;
  eps_placement eps = eps_placement::unknown;
  std::string evidence;
};

/// Which saved statistics backward reads: each is perturbed alone and the
/// outputs compared bitwise with an unperturbed call.
struct backward_reads {
  bool determined = false;
  bool mean = false, var = false, invstd = false;
  std::string evidence;
};

/// forward_training where var + eps = 0 (eps = 0, a constant channel), which
/// the formulas leave undefined: IEEE arithmetic gives s = inf and y = 0 * inf = NaN.
struct zero_variance {
  enum class kind {
    undefined,  ///< invstd inf (or not written) and y NaN, as the formulas give
    guarded,    ///< invstd written as 0, so y = beta (PyTorch's InvStd does this)
    other,
  };
  kernel_status status = kernel_status::ok;  ///< unimplemented: the kernel refuses eps = 0
  std::string message;
  kind result = kind::other;
  std::string evidence;
};

/// forward_training on a constant channel with eps > 0: y must be exactly beta
/// (docs/tolerances.md section 6); a folded affine y = (gamma s) x + (beta - gamma s mu) misses it.
struct constant_channel {
  kernel_status status = kernel_status::ok;
  std::string message;
  bool exact = false;       ///< every y equals beta bitwise
  double max_miss = 0;      ///< max |y - beta|
  std::string evidence;
};

/// One support probe: a small problem and what the kernel answered.
struct support_row {
  op_kind op = op_kind::forward_training;
  layout lay = layout::nchw;
  dtype data = dtype::f32, param = dtype::f32;
  kernel_status status = kernel_status::ok;
  std::string message;
};

/// A named edge case (eps = 0, a batch of one) and what the kernel answered.
struct edge_case {
  std::string name;
  std::string problem_text;
  kernel_status status = kernel_status::ok;
  std::string message;
};

struct report {
  std::string kernel;
  std::string probe_config;  ///< layout and formats the convention probes ran in, or empty if none ran
  normalization norm;
  saved_outputs saved;
  std::vector<running_stats> running;  ///< one per profile
  inference infer;
  backward_reads backward;
  zero_variance eps0;
  constant_channel constant;
  std::vector<support_row> support;
  std::vector<edge_case> edges;
};

/// Runs every probe on k: about a hundred calls on problems of at most 24 elements.
report identify(kernel& k);

/// The report as text, one finding per line with its evidence.
std::string format(const report& r);

std::string_view to_string(eps_placement);
std::string_view to_string(variance_kind);
std::string_view to_string(momentum_weight);

}  // namespace bncheck::identify
