// The conformance sweep shared by kernel tests: every op, layout, data format
// and profile, at the sizes a test chooses per layout.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/problem.hpp"

namespace bncheck::testing {

struct sweep_sizes {
  int64_t n, c, d, h, w;
};

/// op x layout x data format x profile (inference only under pytorch: it does
/// not depend on the profile), for each size sizes_for(layout) lists.
/// Parameters are f64 for f64 data under onnx, else f32; momentum is each
/// profile's usual form (onnx 0.9, otherwise 0.1); seeds count up from seed.
inline std::vector<problem> problem_sweep(uint64_t& seed,
                                          const std::function<std::vector<sweep_sizes>(layout)>& sizes_for) {
  std::vector<problem> out;
  for (op_kind op : {op_kind::forward_training, op_kind::forward_inference, op_kind::backward})
    for (layout lay : {layout::nc, layout::nchw, layout::nhwc, layout::ncdhw, layout::ndhwc})
      for (dtype dt : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16})
        for (profile prof : {profile::onnx, profile::pytorch, profile::cudnn}) {
          if (op == op_kind::forward_inference && prof != profile::pytorch) continue;
          for (const sweep_sizes& s : sizes_for(lay)) {
            problem p;
            p.op = op;
            p.lay = lay;
            p.data_type = dt;
            p.param_type = dt == dtype::f64 && prof == profile::onnx ? dtype::f64 : dtype::f32;
            p.prof = prof;
            p.momentum = prof == profile::onnx ? 0.9 : 0.1;
            p.n = s.n, p.c = s.c, p.d = s.d, p.h = s.h, p.w = s.w;
            p.seed = seed++;
            out.push_back(p);
          }
        }
  return out;
}

}  // namespace bncheck::testing
