// Verifying a corpus: the stored bytes must be exactly what the definition
// of each case (its problem, plus stored literal inputs) produces today.
#include "golden/verify.hpp"

#include <exception>

#include "core/error.hpp"
#include "golden/corpus.hpp"
#include "golden/npy.hpp"
#include "golden/store.hpp"

namespace bncheck {
namespace {

namespace fs = std::filesystem;

// Inputs whose fill is 'file' cannot be regenerated: the stored ones are the definition.
tensor_map literal_inputs(const test_case& c) {
  problem p = c.prob;
  tensor_map literal;
  for (const auto& [name, t] : c.inputs) {
    const fill_spec* f = input_fill(p, name);
    if (f && f->kind == fill_kind::file) literal.emplace(name, t);
  }
  return literal;
}

std::string first_difference(const std::string& file, const std::string& a, const std::string& b) {
  if (file.size() > 4 && file.ends_with(".npy")) {
    try {
      const tensor ta = decode_npy(a, file), tb = decode_npy(b, file);
      if (ta.type == tb.type && ta.shape == tb.shape)
        for (std::size_t k = 0; k < ta.values.size(); ++k)
          if (hex_float(ta.values[k]) != hex_float(tb.values[k]))
            return "element " + std::to_string(k) + " is " + hex_float(ta.values[k]) + ", recomputed " +
                   hex_float(tb.values[k]);
    } catch (const input_error&) {
    }
  }
  std::size_t k = 0;
  while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
  return "first differing byte at offset " + std::to_string(k) + " (sizes " + std::to_string(a.size()) +
         " stored, " + std::to_string(b.size()) + " recomputed)";
}

}  // namespace

std::size_t verify_report::failures() const {
  std::size_t n = 0;
  for (const auto& c : cases) n += c.ok ? 0 : 1;
  return n;
}

bool verify_report::ok() const { return !cases.empty() && failures() == 0; }

case_verdict verify_case(const fs::path& case_dir) {
  case_verdict v;
  v.name = case_dir.has_filename() ? case_dir.filename().string() : case_dir.parent_path().filename().string();
  try {
    const test_case stored = read_case(case_dir);
    const std::string description = read_case_description(case_dir);
    const case_spec spec{stored.name, description, stored.prob, literal_inputs(stored)};
    const auto files = encode_case(build_case(spec), description);
    for (const auto& [file, bytes] : files) {
      const std::string on_disk = read_file_bytes(case_dir / file);
      if (on_disk != bytes)
        throw input_error("golden case '" + v.name + "': " + file + " differs from the recomputed case: " +
                          first_difference(file, on_disk, bytes));
    }
    v.ok = true;
  } catch (const std::exception& e) {
    v.error = e.what();
  }
  return v;
}

verify_report verify(const fs::path& corpus_dir) {
  verify_report r;
  for (const auto& name : list_cases(corpus_dir)) r.cases.push_back(verify_case(corpus_dir / name));
  return r;
}

}  // namespace bncheck
