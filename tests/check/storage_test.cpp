// Data tensors in their own storage (bug class 2, core/problem.hpp): the
// harness lays inputs out with NaN between their elements, gives kernels
// that take no strides only dense problems, and fails a kernel that writes
// an output's padding; run_densified gives the bits of the dense call.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "check/harness.hpp"
#include "core/dtype.hpp"
#include "core/problem.hpp"
#include "impl/eigen/eigen_kernel.hpp"
#include "tests/check/oracle_kernel.hpp"

namespace bncheck {
namespace {

// The Eigen kernel, then a look before or a write into the padding.
class probe final : public kernel {
 public:
  enum class act { none, write_y_padding, read_x_padding };
  explicit probe(act a) : act_(a) {}
  std::string name() const override { return "probe"; }
  bool takes_strides() const override { return true; }
  kernel_result run(const problem& p, const kernel_io& io) override {
    if (act_ == act::read_x_padding)  // the element before x's first: channel first-1 of the wider tensor
      seen = load(p.data_type, static_cast<const unsigned char*>(io.x) - size_of(p.data_type));
    const kernel_result r = inner_->run(p, io);
    if (act_ == act::write_y_padding)
      store(p.data_type, 0.0, static_cast<unsigned char*>(io.y) - size_of(p.data_type));
    return r;
  }
  double seen = 0;

 private:
  act act_;
  std::unique_ptr<kernel> inner_ = eigen::make_eigen_kernel();
};

TEST(storage, a_kernel_that_takes_no_strides_is_skipped_saying_which_storages) {
  testing::oracle_kernel oracle;
  const test_case c = make_case(parse_problem("backward nhwc f32:f32 mb2ic3ih3iw4 seed=111 x_storage=nchw dx_storage=nhwc,slice=0/4"));
  const kernel_output out = run_kernel(oracle, c.prob, c.inputs);
  EXPECT_EQ(out.result.status, kernel_status::unimplemented);
  EXPECT_NE(out.result.message.find("dense in the problem's layout only (this problem sets x_storage, dx_storage)"),
            std::string::npos)
      << out.result.message;
  // Dense problems still reach it.
  const test_case d = make_case(parse_problem("backward nhwc f32:f32 mb2ic3ih3iw4 seed=111"));
  EXPECT_EQ(run_kernel(oracle, d.prob, d.inputs).result.status, kernel_status::ok);
}

TEST(storage, writing_an_outputs_padding_fails_the_case) {
  const test_case c = make_case(parse_problem("forward_inference nhwc f32:f32 mb2ic3ih2iw3 seed=113 y_storage=nhwc,slice=2/5"));
  probe clean(probe::act::none), writer(probe::act::write_y_padding);
  EXPECT_EQ(run_kernel(clean, c.prob, c.inputs).result.status, kernel_status::ok);
  const kernel_output out = run_kernel(writer, c.prob, c.inputs);
  EXPECT_EQ(out.result.status, kernel_status::error);
  EXPECT_NE(out.result.message.find("the kernel wrote y's padding"), std::string::npos) << out.result.message;
  EXPECT_NE(out.result.message.find("1 elements outside y changed, the first at element 1 of its allocation"),
            std::string::npos)
      << out.result.message;
}

TEST(storage, an_inputs_padding_is_nan) {
  const test_case c = make_case(parse_problem("forward_training nchw f32:f32 mb2ic3ih3iw3 seed=112 x_storage=nchw,slice=1/6"));
  probe reader(probe::act::read_x_padding);
  ASSERT_EQ(run_kernel(reader, c.prob, c.inputs).result.status, kernel_status::ok);
  EXPECT_TRUE(std::isnan(reader.seen)) << reader.seen;
}

TEST(storage, eigen_gives_the_dense_calls_bits_in_every_storage) {
  auto k = eigen::make_eigen_kernel();
  for (const char* dense : {"backward nhwc f32:f32 mb2ic3ih3iw4 seed=5", "forward_training ncdhw f64:f64 mb2ic2id2ih2iw3 seed=6",
                            "forward_inference nc bf16:f32 mb5ic3 seed=7"}) {
    const problem p = parse_problem(dense);
    const test_case c = make_case(p);
    const kernel_output base = run_kernel(*k, c.prob, c.inputs);
    ASSERT_EQ(base.result.status, kernel_status::ok) << base.result.message;
    for (const char* storages : {" x_storage=nchw,slice=2/5", " x_storage=nhwc dy_storage=nchw,slice=0/4 dx_storage=nhwc,slice=1/5",
                                 " y_storage=ndhwc,slice=3/5 x_storage=ndhwc", " x_storage=nc,slice=1/4 y_storage=nc,slice=0/7"}) {
      problem q;
      try {
        q = parse_problem(std::string(dense) + storages);
      } catch (const std::exception&) {
        continue;  // a storage of another rank or tensor than this problem's
      }
      const kernel_output got = run_kernel(*k, q, c.inputs);
      ASSERT_EQ(got.result.status, kernel_status::ok) << to_text(q) << ": " << got.result.message;
      for (const auto& [name, t] : base.got)
        for (std::size_t i = 0; i < t.values.size(); ++i) {
          const double a = got.got.at(name).values[i], b = t.values[i];
          EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << to_text(q) << " " << name << "[" << i << "]";
        }
    }
  }
}

}  // namespace
}  // namespace bncheck
