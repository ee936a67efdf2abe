// verify() accepts the committed corpus and reports each kind of damage in a
// copy: a flipped array byte, a changed checksum, a deleted array, and an
// expected value that is self-consistent but not what the reference gives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "golden/npy.hpp"
#include "golden/sha256.hpp"
#include "golden/store.hpp"
#include "golden/verify.hpp"
#include "tests/golden/temp_dir.hpp"

namespace bncheck {
namespace {

namespace fs = std::filesystem;

TEST(verify, passes_on_the_committed_corpus) {
  const verify_report r = verify(committed_corpus());
  EXPECT_TRUE(r.ok());
  EXPECT_GE(r.cases.size(), 40u);
  for (const auto& c : r.cases) EXPECT_TRUE(c.ok) << c.error;
}

class verify_damage : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(corpus());
    for (const char* n : {"seeds_example_fwd", "seeds_gpa_iq_bwd", "profile_cudnn_fwd", "bf16_inference_nhwc"})
      fs::copy(committed_corpus() / n, corpus() / n, fs::copy_options::recursive);
    ASSERT_TRUE(verify(corpus()).ok());
  }
  fs::path corpus() const { return tmp_.path() / "cases"; }
  // The report must fail exactly the named case, with every needle in its message.
  void expect_only_failure(const std::string& name, const std::vector<std::string>& needles) {
    const verify_report r = verify(corpus());
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.failures(), 1u);
    for (const auto& c : r.cases) {
      EXPECT_EQ(c.ok, c.name != name) << c.name << ": " << c.error;
      if (c.name != name) continue;
      EXPECT_NE(c.error.find("'" + name + "'"), std::string::npos) << c.error;
      for (const auto& n : needles) EXPECT_NE(c.error.find(n), std::string::npos) << "'" << n << "' not in: " << c.error;
    }
  }
  temp_dir tmp_;
};

TEST_F(verify_damage, a_flipped_byte_in_an_array_is_reported) {
  const fs::path file = corpus() / "seeds_gpa_iq_bwd" / "dy.npy";
  std::string bytes = read_file_bytes(file);
  bytes[130] ^= 0x10;
  write_file_bytes(file, bytes);
  expect_only_failure("seeds_gpa_iq_bwd", {"array 'dy' (dy.npy)", "sha256"});
}

TEST_F(verify_damage, a_changed_manifest_checksum_is_reported) {
  const fs::path file = corpus() / "profile_cudnn_fwd" / "manifest.json";
  std::string text = read_file_bytes(file);
  const std::string sum = sha256_hex(read_file_bytes(corpus() / "profile_cudnn_fwd" / "gamma.npy"));
  const auto at = text.find(sum);
  ASSERT_NE(at, std::string::npos);
  text[at] = text[at] == 'a' ? 'b' : 'a';
  write_file_bytes(file, text);
  expect_only_failure("profile_cudnn_fwd", {"array 'gamma' (gamma.npy)", "sha256"});
}

TEST_F(verify_damage, a_deleted_array_is_reported) {
  fs::remove(corpus() / "bf16_inference_nhwc" / "expected_y.npy");
  expect_only_failure("bf16_inference_nhwc", {"array 'y' (expected_y.npy)", "missing"});
}

TEST_F(verify_damage, a_consistent_but_wrong_expected_value_is_caught_by_recomputation) {
  // Change one expected value by one ulp and fix the checksum: the format
  // checks pass, only recomputing from the problem can tell.
  const fs::path dir = corpus() / "seeds_example_fwd";
  tensor y = read_npy(dir / "expected_y.npy", dtype::f64);
  y.values[4] = std::nextafter(y.values[4], 2.0);
  const std::string bytes = encode_npy(y);
  write_file_bytes(dir / "expected_y.npy", bytes);
  auto m = nlohmann::ordered_json::parse(read_file_bytes(dir / "manifest.json"));
  for (auto& a : m["arrays"])
    if (a["file"] == "expected_y.npy") a["sha256"] = sha256_hex(bytes);
  write_file_bytes(dir / "manifest.json", m.dump(2) + "\n");
  EXPECT_NO_THROW(read_case(dir));
  expect_only_failure("seeds_example_fwd", {"expected_y.npy differs from the recomputed case", "element 4"});
}

TEST_F(verify_damage, a_half_written_case_without_manifest_is_reported) {
  fs::remove(corpus() / "seeds_example_fwd" / "manifest.json");
  expect_only_failure("seeds_example_fwd", {"no manifest.json"});
}

}  // namespace
}  // namespace bncheck
