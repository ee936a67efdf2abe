// The table of kernel properties: name, invariant, body. The order is the
// order of bncheck run's property table.
#include "properties/property.hpp"

namespace bncheck::properties {

const std::vector<property_info>& property_catalog() {
  static const std::vector<property_info> table = {
      {"agreement", "forward outputs agree with the reference within the tolerance model", agreement},
      {"gradient_agreement", "dx, dgamma, dbeta agree with the reference backward within the model", gradient_agreement},
      {"normalization", "gamma 1, beta 0: y has zero sum and sum of squares M var/(var+eps); constant channel gives beta",
       normalization},
      {"identity_recovery", "gamma = sqrt(var+eps), beta = mean give back x", identity_recovery},
      {"backward_linearity", "dx, dgamma, dbeta are linear in dy", backward_linearity},
      {"batch_permutation", "permuting the batch permutes y and dx, keeps the statistics", batch_permutation},
      {"shift_invariance", "x + t: mean + t, everything else unchanged", shift_invariance},
      {"scale_invariance", "c x: y - beta scales by c sqrt(var+eps)/sqrt(c^2 var+eps), stats by c, c^2", scale_invariance},
      {"layout_agreement", "channel-first and channel-last layouts of the same data agree", layout_agreement},
      {"storage_agreement", "x, dy, y and dx in other formats and in channel slices of wider tensors agree with dense ones", storage_agreement},
      {"precision_agreement", "f32/f16/bf16 data and the same values as f64 agree", precision_agreement},
      {"running_statistics", "running statistics follow the profile's definition", running_statistics},
      {"inference_consistency", "inference with the batch statistics reproduces training's y", inference_consistency},
      {"shard_merge", "shard statistics merged by Chan's formula equal the full batch's", shard_merge},
      {"independence", "outputs ignore momentum, profile, training's incoming running statistics and the output buffers' contents", independence},
      {"merge_agreement", "the kernel's merge of shard statistics (sizes 1 to 10^6) agrees with the reference",
       merge_agreement},
      {"exact_statistics", "paired data with exact statistics give mean and var exactly", exact_statistics, true},
  };
  return table;
}

const property_info* find_property(const std::string& name) {
  for (const property_info& p : property_catalog())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace bncheck::properties
