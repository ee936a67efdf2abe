// .npy encoding: exact bytes as the numpy format specification prescribes,
// exact round trips for every format and rank, strict rejection of bad files.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/fill.hpp"
#include "golden/npy.hpp"
#include "tests/golden/temp_dir.hpp"

namespace bncheck {
namespace {

// The header numpy.lib.format prescribes for version 1.0: magic, version,
// little-endian uint16 header length, the dict, spaces, '\n', with the data
// starting at a multiple of 64 bytes.
std::string v1_header(const std::string& dict, std::size_t total) {
  const std::size_t len = total - 10;
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(len & 0xff) + static_cast<char>(len >> 8) +
         dict + std::string(len - dict.size() - 1, ' ') + "\n";
}

std::string le_bytes(std::initializer_list<unsigned> bytes) {
  std::string s;
  for (unsigned b : bytes) s += static_cast<char>(b);
  return s;
}

tensor small_f64() { return {dtype::f64, {3}, {1.0, 2.0, 3.0}}; }

void expect_input_error(const std::string& bytes, const std::string& needle) {
  try {
    decode_npy(bytes, "case/x.npy");
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const input_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("case/x.npy"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "message must be one line: " << what;
  }
}

TEST(npy, writes_the_bytes_numpy_writes_for_a_small_f64_vector) {
  const std::string want = v1_header("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", 128) +
                           le_bytes({0, 0, 0, 0, 0, 0, 0xf0, 0x3f}) + le_bytes({0, 0, 0, 0, 0, 0, 0, 0x40}) +
                           le_bytes({0, 0, 0, 0, 0, 0, 0x08, 0x40});
  EXPECT_EQ(encode_npy(small_f64()), want);
  EXPECT_EQ(want.size(), 128u + 24u);
}

TEST(npy, writes_the_bytes_numpy_writes_for_f16_matrix_and_f32_scalar) {
  const tensor h{dtype::f16, {2, 2}, {1.0, -2.0, 0.5, 65504.0}};
  EXPECT_EQ(encode_npy(h), v1_header("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 2), }", 128) +
                               le_bytes({0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b}));
  const tensor s{dtype::f32, {}, {-0.0}};
  EXPECT_EQ(encode_npy(s), v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 128) +
                               le_bytes({0, 0, 0, 0x80}));
}

TEST(npy, stores_bf16_as_f32_with_the_same_values) {
  const tensor b{dtype::bf16, {2}, {1.0 + 1.0 / 128, -3.0}};
  const std::string bytes = encode_npy(b);
  EXPECT_EQ(bytes, v1_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 128) +
                       le_bytes({0, 0, 0x81, 0x3f, 0, 0, 0x40, 0xc0}));
  const tensor back = decode_npy(bytes, "b.npy", dtype::bf16);
  EXPECT_EQ(back.type, dtype::bf16);
  EXPECT_EQ(back.values, b.values);
}

TEST(npy, header_padding_puts_the_data_at_a_multiple_of_64_bytes) {
  for (int rank = 0; rank <= 5; ++rank) {
    std::vector<int64_t> shape(static_cast<std::size_t>(rank), 123456789);
    // Only the header matters: an empty array with a long shape.
    if (rank) shape[0] = 0;
    const std::string bytes = encode_npy({dtype::f32, shape, rank ? std::vector<double>{} : std::vector<double>{0.0}});
    const std::size_t data_at = 10 + static_cast<unsigned char>(bytes[8]) + 256u * static_cast<unsigned char>(bytes[9]);
    EXPECT_EQ(data_at % 64, 0u) << rank;
    EXPECT_EQ(bytes[data_at - 1], '\n') << rank;
    EXPECT_EQ(bytes.size() - data_at, rank ? 0u : 4u) << rank;
  }
}

TEST(npy, round_trips_every_format_and_rank_exactly) {
  for (dtype t : {dtype::f64, dtype::f32, dtype::f16, dtype::bf16}) {
    for (int rank = 0; rank <= 5; ++rank) {
      tensor in{t, {}, {}};
      for (int k = 0; k < rank; ++k) in.shape.push_back(k + 2);
      int64_t count = 1;
      for (int64_t s : in.shape) count *= s;
      in.values = generate({fill_kind::normal, 0.0, 100.0}, t, count, 7, fill_stream::x);
      // Special values: signed zero, infinity, the smallest subnormal, the largest finite.
      const double specials[] = {-0.0, std::numeric_limits<double>::infinity(), denorm_min(t), -max_finite(t)};
      for (std::size_t k = 0; k < 4 && k < in.values.size(); ++k) in.values[k] = specials[k];
      const tensor out = decode_npy(encode_npy(in), "rt.npy", t);
      EXPECT_EQ(out.type, t);
      EXPECT_EQ(out.shape, in.shape);
      ASSERT_EQ(out.values.size(), in.values.size());
      for (std::size_t k = 0; k < in.values.size(); ++k)
        EXPECT_EQ(hex_float(out.values[k]), hex_float(in.values[k])) << to_string(t) << " rank " << rank << " @" << k;
    }
  }
}

TEST(npy, writes_every_nan_as_the_positive_quiet_nan) {
  const double neg_nan = -std::numeric_limits<double>::quiet_NaN();
  const std::string bytes = encode_npy({dtype::f64, {1}, {neg_nan}});
  EXPECT_EQ(bytes.substr(128), le_bytes({0, 0, 0, 0, 0, 0, 0xf8, 0x7f}));
  EXPECT_EQ(encode_npy({dtype::f32, {1}, {neg_nan}}).substr(128), le_bytes({0, 0, 0xc0, 0x7f}));
}

TEST(npy, reads_version_2_headers) {
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
  const std::size_t len = 128 - 12;
  std::string bytes = std::string("\x93NUMPY\x02\x00", 8) + static_cast<char>(len) + std::string(3, '\0') + dict +
                      std::string(len - dict.size() - 1, ' ') + "\n";
  bytes += encode_npy(small_f64()).substr(128);
  const tensor t = decode_npy(bytes, "v2.npy");
  EXPECT_EQ(t.shape, std::vector<int64_t>{3});
  EXPECT_EQ(t.values, small_f64().values);
}

TEST(npy, accepts_other_spacing_and_key_order_in_the_header) {
  const std::string dict = "{\"shape\":(3, ),'fortran_order':False,  'descr':'<f8'}";
  const std::string bytes = v1_header(dict, 128) + encode_npy(small_f64()).substr(128);
  EXPECT_EQ(decode_npy(bytes, "x.npy").values, small_f64().values);
}

TEST(npy, rejects_each_malformed_variant_with_a_message_naming_the_file) {
  const std::string good = encode_npy(small_f64());
  const std::string data = good.substr(128);
  const auto with_dict = [&](const std::string& dict) { return v1_header(dict, 128) + data; };
  expect_input_error(good.substr(0, good.size() - 1), "truncated data");
  expect_input_error(good.substr(0, 40), "truncated .npy header");
  expect_input_error(good.substr(0, 5), "bad magic");
  expect_input_error("\x93NUMPX" + good.substr(6), "bad magic");
  expect_input_error(good + "x", "trailing bytes");
  std::string v3 = good;
  v3[6] = 3;
  expect_input_error(v3, "unsupported .npy version 3.0");
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }"), "truncated data");
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }"), "trailing bytes");
  // A size field is checked against the bytes that are there before anything is allocated.
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"),
                     "the shape needs 8000000000000 bytes, the file has 24");
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }"),
                     "shape too large");
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': True, 'shape': (3,), }"), "fortran_order");
  expect_input_error(with_dict("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }"), "big-endian");
  expect_input_error(with_dict("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }"), "unsupported dtype");
  expect_input_error(with_dict("{'descr': '<f8', 'shape': (3,), }"), "malformed .npy header");
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3), }"), "trailing comma");
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}"), "unexpected");
  expect_input_error(with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }"), "malformed");
  expect_input_error(with_dict("['descr', '<f8']"), "malformed");
  // Found by fuzz/npy.cpp: a key holding a newline is quoted on the message's one line.
  expect_input_error(with_dict("{'de\nscr': '<f8', 'fortran_order': False, 'shape': (3,), }"), "key 'de\\x0ascr'");
  std::string no_newline = good;
  no_newline[127] = ' ';
  expect_input_error(no_newline, "must end with");
}

TEST(npy, reading_with_a_format_checks_the_descr_and_every_value) {
  const std::string f32 = encode_npy({dtype::f32, {2}, {1.0, 1.0 + std::ldexp(1.0, -20)}});
  EXPECT_NO_THROW(decode_npy(f32, "a.npy", dtype::f32));
  EXPECT_THROW(decode_npy(f32, "a.npy", dtype::bf16), input_error);  // 1 + 2^-20 is not a bf16 value
  EXPECT_THROW(decode_npy(f32, "a.npy", dtype::f64), input_error);
  EXPECT_THROW(decode_npy(f32, "a.npy", dtype::f16), input_error);
}

TEST(npy, files_round_trip_and_errors_name_the_path) {
  temp_dir dir;
  const auto path = dir.path() / "t.npy";
  const tensor t{dtype::f16, {2, 1, 3}, {1, 2, 3, 4, 5, -6}};
  write_npy(path, t);
  const tensor back = read_npy(path, dtype::f16);
  EXPECT_EQ(back.values, t.values);
  EXPECT_EQ(back.shape, t.shape);
  try {
    read_npy(dir.path() / "missing.npy");
    ADD_FAILURE() << "no error for a missing file";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.npy"), std::string::npos);
  }
}

}  // namespace
}  // namespace bncheck
