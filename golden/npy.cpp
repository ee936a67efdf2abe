// NumPy .npy encoding and strict parsing. Format reference: numpy's
// "numpy.lib.format" specification (magic, version, little-endian header
// length, Python-literal header dict, C-order data).
#include "golden/npy.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/one_line.hpp"

namespace bncheck {

static_assert(std::endian::native == std::endian::little,
              "the .npy writer stores values in host order and assumes little-endian");

namespace {

constexpr std::string_view magic = "\x93NUMPY";
constexpr std::size_t data_alignment = 64;

// The header's strings are quoted in messages: one_line keeps them one line.
[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw input_error(one_line(source + ": " + what));
}

int64_t element_count_of(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t s : shape) count *= s;
  return count;
}

// Parser of the header dict, a Python literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// Only what numpy writes is accepted: the three keys exactly once each,
// string, bool and tuple-of-int values, optional trailing commas.
class header_parser {
 public:
  header_parser(std::string_view text, const std::string& source) : s_(text), source_(source) {}

  void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    skip_space();
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = parse_string();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr" && !have_descr) {
        descr = parse_string();
        have_descr = true;
      } else if (key == "fortran_order" && !have_fortran) {
        fortran = parse_bool();
        have_fortran = true;
      } else if (key == "shape" && !have_shape) {
        shape = parse_shape();
        have_shape = true;
      } else {
        bad("unexpected or repeated key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      if (peek() != '}') bad("expected ',' or '}'");
    }
    ++i_;
    if (!have_descr || !have_fortran || !have_shape)
      bad("the dict must have the keys 'descr', 'fortran_order' and 'shape'");
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    if (i_ + 1 != s_.size() || s_[i_] != '\n')
      bad("the header must end with spaces and one '\\n' after the dict");
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail(source_, "malformed .npy header at byte " + std::to_string(i_) + ": " + what);
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    const std::size_t end = s_.find(q, i_ + 1);
    if (end == std::string_view::npos) bad("unterminated string");
    std::string out(s_.substr(i_ + 1, end - i_ - 1));
    if (out.find('\\') != std::string::npos) bad("escapes are not supported in strings");
    i_ = end + 1;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    bad("expected True or False");
  }
  int64_t parse_int() {
    const std::size_t start = i_;
    int64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (v > (std::numeric_limits<int64_t>::max() - 9) / 10) bad("dimension too large");
      v = v * 10 + (s_[i_] - '0');
      ++i_;
    }
    if (i_ == start) bad("expected a non-negative integer");
    return v;
  }
  std::vector<int64_t> parse_shape() {
    std::vector<int64_t> shape;
    expect('(');
    skip_space();
    bool comma_after_last = false;
    while (peek() != ')') {
      shape.push_back(parse_int());
      skip_space();
      comma_after_last = false;
      if (peek() == ',') {
        ++i_;
        comma_after_last = true;
        skip_space();
      } else if (peek() != ')') {
        bad("expected ',' or ')' in shape");
      }
    }
    // "(3)" is the integer 3 in Python, not a tuple: numpy itself rejects it.
    if (shape.size() == 1 && !comma_after_last) bad("a 1-element shape needs a trailing comma");
    ++i_;
    return shape;
  }

  std::string_view s_;
  const std::string& source_;
  std::size_t i_ = 0;
};

uint32_t read_le(std::string_view bytes, std::size_t at, std::size_t width) {
  uint32_t v = 0;
  for (std::size_t k = 0; k < width; ++k)
    v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + k])) << (8 * k);
  return v;
}

}  // namespace

std::string_view npy_descr(dtype t) {
  switch (t) {
    case dtype::f64: return "<f8";
    case dtype::f32:
    case dtype::bf16: return "<f4";
    case dtype::f16: return "<f2";
  }
  return "?";
}

dtype npy_storage_type(std::string_view descr) {
  if (descr == "<f8") return dtype::f64;
  if (descr == "<f4") return dtype::f32;
  if (descr == "<f2") return dtype::f16;
  if (!descr.empty() && descr[0] == '>')
    throw input_error("big-endian dtype '" + std::string(descr) + "' is not supported");
  throw input_error("unsupported dtype '" + std::string(descr) + "' (expected <f8, <f4 or <f2)");
}

std::string encode_npy(const tensor& t) {
  const int64_t count = element_count_of(t.shape);
  if (count != static_cast<int64_t>(t.values.size()))
    throw std::invalid_argument("encode_npy: shape holds " + std::to_string(count) +
                                " elements but the tensor has " + std::to_string(t.values.size()));
  std::string dict = "{'descr': '" + std::string(npy_descr(t.type)) +
                     "', 'fortran_order': False, 'shape': (";
  for (std::size_t k = 0; k < t.shape.size(); ++k)
    dict += (k ? ", " : "") + std::to_string(t.shape[k]);
  dict += t.shape.size() == 1 ? ",), }" : "), }";
  // magic (6) + version (2) + header length (2) + dict + padding + '\n'.
  const std::size_t prefix = magic.size() + 4;
  const std::size_t total = (prefix + dict.size() + 1 + data_alignment - 1) / data_alignment * data_alignment;
  const std::size_t header_len = total - prefix;
  if (header_len > 0xffff) throw std::invalid_argument("encode_npy: header too long for format 1.0");
  dict.append(header_len - dict.size() - 1, ' ');
  dict += '\n';

  const dtype storage = npy_storage_type(npy_descr(t.type));
  const std::size_t width = size_of(storage);
  std::string out;
  out.reserve(total + t.values.size() * width);
  out += magic;
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header_len & 0xff);
  out += static_cast<char>(header_len >> 8);
  out += dict;
  const std::size_t data_at = out.size();
  out.resize(data_at + t.values.size() * width);
  for (std::size_t k = 0; k < t.values.size(); ++k) {
    double v = t.values[k];
    if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
    else if (!representable(t.type, v))
      throw std::invalid_argument("encode_npy: value " + hex_float(v) + " is not representable in " +
                                  std::string(to_string(t.type)));
    store(storage, v, out.data() + data_at + k * width);
  }
  return out;
}

tensor decode_npy(std::string_view bytes, const std::string& source) {
  if (bytes.size() < magic.size() + 2 || bytes.substr(0, magic.size()) != magic)
    fail(source, "not a .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int minor = static_cast<unsigned char>(bytes[7]);
  if ((major != 1 && major != 2) || minor != 0)
    fail(source, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor) +
                     " (expected 1.0 or 2.0)");
  const std::size_t len_width = major == 1 ? 2 : 4;
  if (bytes.size() < 8 + len_width) fail(source, "truncated .npy header");
  const std::size_t header_len = read_le(bytes, 8, len_width);
  const std::size_t data_at = 8 + len_width + header_len;
  if (bytes.size() < data_at) fail(source, "truncated .npy header");
  const std::string_view header = bytes.substr(8 + len_width, header_len);
  for (char ch : header)
    if (static_cast<unsigned char>(ch) > 127) fail(source, "non-ASCII byte in the .npy header");

  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  header_parser(header, source).parse(descr, fortran, shape);
  if (fortran) fail(source, "fortran_order True is not supported (C order only)");
  dtype storage;
  try {
    storage = npy_storage_type(descr);
  } catch (const input_error& e) {
    fail(source, e.what());
  }

  int64_t count = 1;
  for (int64_t s : shape) {
    if (s != 0 && count > std::numeric_limits<int64_t>::max() / 8 / s)
      fail(source, "shape too large");
    count *= s;
  }
  const std::size_t width = size_of(storage);
  const std::size_t want = static_cast<std::size_t>(count) * width;
  const std::size_t have = bytes.size() - data_at;
  if (have < want)
    fail(source, "truncated data: the shape needs " + std::to_string(want) + " bytes, the file has " +
                     std::to_string(have));
  if (have > want)
    fail(source, std::to_string(have - want) + " trailing bytes after the data");

  tensor t;
  t.type = storage;
  t.shape = std::move(shape);
  t.values.resize(static_cast<std::size_t>(count));
  for (std::size_t k = 0; k < t.values.size(); ++k)
    t.values[k] = load(storage, bytes.data() + data_at + k * width);
  return t;
}

std::string read_file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(path.string() + ": cannot open for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw input_error(path.string() + ": read error");
  return bytes;
}

void write_file_bytes(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw input_error(path.string() + ": cannot open for writing");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw input_error(path.string() + ": write error");
}

void write_npy(const std::filesystem::path& path, const tensor& t) {
  write_file_bytes(path, encode_npy(t));
}

tensor read_npy(const std::filesystem::path& path) {
  return decode_npy(read_file_bytes(path), path.string());
}

tensor read_npy(const std::filesystem::path& path, dtype t) {
  return decode_npy(read_file_bytes(path), path.string(), t);
}

tensor decode_npy(std::string_view bytes, const std::string& source, dtype t) {
  tensor out = decode_npy(bytes, source);
  if (std::string_view(npy_descr(out.type)) != npy_descr(t))
    fail(source, "stored as '" + std::string(npy_descr(out.type)) + "' but a " +
                     std::string(to_string(t)) + " array is stored as '" + std::string(npy_descr(t)) + "'");
  for (std::size_t k = 0; k < out.values.size(); ++k)
    if (!representable(t, out.values[k]))
      fail(source, "element " + std::to_string(k) + " = " + hex_float(out.values[k]) +
                       " is not representable in " + std::string(to_string(t)));
  out.type = t;
  return out;
}

}  // namespace bncheck
