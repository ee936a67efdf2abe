// Every kernel property on our Eigen kernel, as RapidCheck properties (case
// count and seed from RC_PARAMS; ctest sets a small count and a fixed seed).
// A failure prints the invariant's report and RapidCheck's reproduce string.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/kernel.hpp"
#include "kernels/registry.hpp"
#include "properties/property.hpp"

namespace bncheck::properties {
namespace {

// Small cases, no long reductions: the whole suite stays fast; the long ones
// run in `bncheck run` (rarely) and `bncheck run --nightly`.
const limits test_limits = [] {
  limits lim;
  lim.max_elements = 256;
  lim.max_reduction = 0;
  return lim;
}();

void check_on_eigen(property_body body) {
  static const std::unique_ptr<kernel> k = make_kernel("eigen");
  case_log log;
  body(*k, log, test_limits);
}

RC_GTEST_PROP(eigen_prop, agrees_with_the_reference, ()) { check_on_eigen(agreement); }
RC_GTEST_PROP(eigen_prop, gradient_agrees_with_the_reference, ()) { check_on_eigen(gradient_agreement); }
RC_GTEST_PROP(eigen_prop, normalizes_to_zero_mean_and_unit_variance, ()) { check_on_eigen(normalization); }
RC_GTEST_PROP(eigen_prop, recovers_x_from_gamma_sqrt_var_and_beta_mean, ()) { check_on_eigen(identity_recovery); }
RC_GTEST_PROP(eigen_prop, backward_is_linear_in_dy, ()) { check_on_eigen(backward_linearity); }
RC_GTEST_PROP(eigen_prop, permuting_the_batch_permutes_y, ()) { check_on_eigen(batch_permutation); }
RC_GTEST_PROP(eigen_prop, shifting_x_shifts_only_the_mean, ()) { check_on_eigen(shift_invariance); }
RC_GTEST_PROP(eigen_prop, scaling_x_scales_y_by_lambda, ()) { check_on_eigen(scale_invariance); }
RC_GTEST_PROP(eigen_prop, layouts_agree, ()) { check_on_eigen(layout_agreement); }
RC_GTEST_PROP(eigen_prop, storages_agree_with_dense_tensors, ()) { check_on_eigen(storage_agreement); }
RC_GTEST_PROP(eigen_prop, narrow_and_f64_formats_agree, ()) { check_on_eigen(precision_agreement); }
RC_GTEST_PROP(eigen_prop, running_statistics_follow_the_profile, ()) { check_on_eigen(running_statistics); }
RC_GTEST_PROP(eigen_prop, inference_with_batch_statistics_matches_training, ()) {
  check_on_eigen(inference_consistency);
}
RC_GTEST_PROP(eigen_prop, merged_shard_statistics_match_the_batch, ()) { check_on_eigen(shard_merge); }
RC_GTEST_PROP(eigen_prop, outputs_ignore_momentum_running_statistics_and_buffer_contents, ()) {
  check_on_eigen(independence);
}
RC_GTEST_PROP(eigen_prop, its_own_merge_of_shard_statistics_agrees_with_the_reference, ()) {
  check_on_eigen(merge_agreement);
}
RC_GTEST_PROP(eigen_prop, exactly_representable_statistics_come_out_exact, ()) { check_on_eigen(exact_statistics); }

TEST(eigen_prop_catalog, every_property_has_a_test_here) {
  // The list above mirrors the catalog; a new property needs a line here too.
  EXPECT_EQ(property_catalog().size(), 17u);
}

}  // namespace
}  // namespace bncheck::properties
