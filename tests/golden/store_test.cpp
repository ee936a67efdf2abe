// Case folders: written deterministically, read back exactly, and every kind
// of damage (checksum, missing or extra file, version, shape) reported by name.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/fill.hpp"
#include "golden/npy.hpp"
#include "golden/sha256.hpp"
#include "golden/store.hpp"
#include "tests/golden/temp_dir.hpp"

namespace bncheck {
namespace {

namespace fs = std::filesystem;

// A forward_inference case with hand-made values (no reference involved):
// bf16 data stored as <f4, f32 parameters, one expected output.
test_case hand_made_case() {
  test_case c;
  c.name = "hand_made";
  c.prob = parse_problem("forward_inference nhwc bf16:f32 mb2ic3ih1iw2 eps=0.001 seed=5");
  for (const auto& name : input_names(c.prob)) {
    tensor t{type_of(c.prob, name), shape_of(c.prob, name), {}};
    int64_t n = 1;
    for (int64_t s : t.shape) n *= s;
    t.values = generate({fill_kind::uniform, 0.5, 4.0}, t.type, n, 5, fill_stream::x);
    c.inputs.emplace(name, std::move(t));
  }
  tensor y{dtype::f64, shape_of(c.prob, "y"), {}};
  for (int k = 0; k < 12; ++k) y.values.push_back(0.1 * k - 0.5);
  c.expected.emplace("y", std::move(y));
  return c;
}

void expect_read_error(const fs::path& dir, const std::vector<std::string>& needles) {
  try {
    read_case(dir);
    ADD_FAILURE() << "read_case accepted a damaged case";
  } catch (const input_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("golden case 'hand_made'"), std::string::npos) << what;
    for (const auto& n : needles) EXPECT_NE(what.find(n), std::string::npos) << "'" << n << "' not in: " << what;
  }
}

nlohmann::ordered_json load(const fs::path& p) { return nlohmann::ordered_json::parse(read_file_bytes(p)); }
void save(const fs::path& p, const nlohmann::ordered_json& j) { write_file_bytes(p, j.dump(2) + "\n"); }

TEST(store, written_case_reads_back_exactly) {
  temp_dir tmp;
  const test_case c = hand_made_case();
  write_case(tmp.path() / "hand_made", c, "a hand-made case");
  const test_case back = read_case(tmp.path() / "hand_made");
  EXPECT_EQ(back.name, c.name);
  EXPECT_EQ(back.prob, c.prob);
  ASSERT_EQ(back.inputs.size(), c.inputs.size());
  for (const auto& [name, t] : c.inputs) {
    EXPECT_EQ(back.inputs.at(name).type, t.type) << name;
    EXPECT_EQ(back.inputs.at(name).shape, t.shape) << name;
    EXPECT_EQ(back.inputs.at(name).values, t.values) << name;
  }
  EXPECT_EQ(back.inputs.at("x").type, dtype::bf16);
  EXPECT_EQ(back.expected.at("y").values, c.expected.at("y").values);
  EXPECT_EQ(read_case_description(tmp.path() / "hand_made"), "a hand-made case");
  EXPECT_EQ(read_case(tmp.path() / "hand_made" / "").name, "hand_made");
}

TEST(store, encoding_is_deterministic_and_the_manifest_has_the_documented_layout) {
  const test_case c = hand_made_case();
  const auto files = encode_case(c, "d");
  EXPECT_EQ(files, encode_case(c, "d"));
  std::vector<std::string> names;
  for (const auto& [name, bytes] : files) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"beta.npy", "expected_y.npy", "gamma.npy", "manifest.json",
                                             "running_mean.npy", "running_var.npy", "x.npy"}));
  const std::string& m = files.at("manifest.json");
  EXPECT_EQ(m.back(), '\n');
  EXPECT_EQ(m.rfind("{\n  \"format_version\": 1,\n  \"name\": \"hand_made\",\n  \"description\": \"d\",\n"
                    "  \"problem\": \"forward_inference nhwc bf16:f32 mb2ic3ih1iw2 eps=0.001 momentum=0.1 "
                    "profile=pytorch seed=5\",\n  \"profile\": \"pytorch\",\n  \"op\": \"forward_inference\",\n"
                    "  \"layout\": \"nhwc\",\n  \"data_type\": \"bf16\",\n  \"param_type\": \"f32\",\n"
                    "  \"eps\": {\n    \"hex\": \"0x1.0624dd2f1a9fcp-10\",\n    \"decimal\": 0.001\n  },\n",
                    0),
            0u)
      << m;
  const auto j = nlohmann::ordered_json::parse(m);
  const auto& x = j.at("arrays").at(0);
  EXPECT_EQ(x.dump(), "{\"name\":\"x\",\"file\":\"x.npy\",\"role\":\"input\",\"dtype\":\"bf16\",\"npy_descr\":\"<f4\","
                      "\"shape\":[2,1,2,3],\"sha256\":\"" + sha256_hex(files.at("x.npy")) + "\"}");
  EXPECT_EQ(j.at("arrays").back().at("file"), "expected_y.npy");
  EXPECT_EQ(j.at("arrays").back().at("role"), "expected");
}

TEST(store, write_case_refuses_a_wrong_folder_name_a_missing_array_or_a_wrong_format) {
  temp_dir tmp;
  test_case c = hand_made_case();
  EXPECT_THROW(write_case(tmp.path() / "other", c, ""), std::invalid_argument);
  test_case missing = c;
  missing.expected.clear();
  EXPECT_THROW(write_case(tmp.path() / "hand_made", missing, ""), std::invalid_argument);
  test_case wrong = c;
  wrong.inputs.at("gamma").type = dtype::f64;
  EXPECT_THROW(write_case(tmp.path() / "hand_made", wrong, ""), std::invalid_argument);
  write_case(tmp.path() / "hand_made", c, "");
  EXPECT_THROW(write_case(tmp.path() / "hand_made", c, ""), std::invalid_argument);  // not empty
}

class store_damage : public ::testing::Test {
 protected:
  void SetUp() override { write_case(dir(), hand_made_case(), "to be damaged"); }
  fs::path dir() const { return tmp_.path() / "hand_made"; }
  temp_dir tmp_;
};

TEST_F(store_damage, a_flipped_data_byte_is_a_checksum_mismatch_naming_the_array) {
  std::string bytes = read_file_bytes(dir() / "gamma.npy");
  bytes[bytes.size() - 2] ^= 0x01;
  write_file_bytes(dir() / "gamma.npy", bytes);
  expect_read_error(dir(), {"array 'gamma' (gamma.npy)", "sha256"});
}

TEST_F(store_damage, a_changed_manifest_checksum_is_reported) {
  auto m = load(dir() / "manifest.json");
  m["arrays"][5]["sha256"] = std::string(64, '0');
  save(dir() / "manifest.json", m);
  expect_read_error(dir(), {"array 'y' (expected_y.npy)", "sha256"});
}

TEST_F(store_damage, a_deleted_array_is_reported) {
  fs::remove(dir() / "running_var.npy");
  expect_read_error(dir(), {"array 'running_var'", "file missing"});
}

// Found by fuzz/manifest.cpp: a manifest string holding a newline, quoted in
// the message, made the one-line error two lines.
TEST_F(store_damage, a_newline_in_a_manifest_string_stays_one_line_in_the_message) {
  auto m = load(dir() / "manifest.json");
  m["name"] = "hand\nmade";
  save(dir() / "manifest.json", m);
  expect_read_error(dir(), {"names the case 'hand\\x0amade'"});
  try {
    read_case(dir());
  } catch (const input_error& e) {
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST_F(store_damage, an_unlisted_file_is_reported) {
  write_file_bytes(dir() / "stray.npy", "x");
  expect_read_error(dir(), {"unlisted file 'stray.npy'"});
}

TEST_F(store_damage, another_format_version_is_refused) {
  auto m = load(dir() / "manifest.json");
  m["format_version"] = 2;
  save(dir() / "manifest.json", m);
  expect_read_error(dir(), {"format_version is 2"});
}

TEST_F(store_damage, a_manifest_that_contradicts_the_problem_is_refused) {
  auto m = load(dir() / "manifest.json");
  m["eps"]["hex"] = "0x1p-10";
  save(dir() / "manifest.json", m);
  expect_read_error(dir(), {"eps"});
  m = load(dir() / "manifest.json");
  m["eps"]["hex"] = "0x1.0624dd2f1a9fcp-10";
  m["arrays"][0]["shape"] = {2, 2, 1, 3};
  save(dir() / "manifest.json", m);
  expect_read_error(dir(), {"array 'x'", "shape"});
}

TEST_F(store_damage, a_non_bf16_value_in_a_bf16_array_is_refused_even_with_a_valid_checksum) {
  tensor x = read_npy(dir() / "x.npy");
  x.values[3] = 1.0 + std::ldexp(1.0, -20);
  const std::string bytes = encode_npy(x);
  write_file_bytes(dir() / "x.npy", bytes);
  auto m = load(dir() / "manifest.json");
  m["arrays"][0]["sha256"] = sha256_hex(bytes);
  save(dir() / "manifest.json", m);
  expect_read_error(dir(), {"array 'x'", "not representable in bf16"});
}

TEST_F(store_damage, invalid_json_is_reported) {
  write_file_bytes(dir() / "manifest.json", "{\"format_version\": 1,");
  expect_read_error(dir(), {"not valid JSON"});
}

TEST(store, list_cases_gives_sorted_folder_names_only) {
  temp_dir tmp;
  for (const char* n : {"zeta", "alpha", "mid"}) fs::create_directories(tmp.path() / n);
  write_file_bytes(tmp.path() / "README", "not a case");
  EXPECT_EQ(list_cases(tmp.path()), (std::vector<std::string>{"alpha", "mid", "zeta"}));
  EXPECT_THROW(list_cases(tmp.path() / "absent"), input_error);
}

}  // namespace
}  // namespace bncheck
