// Writing a golden case folder and reading it back with every check the
// format allows: manifest keys and version, checksums, .npy headers, shapes.
#include "golden/store.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/one_line.hpp"
#include "golden/npy.hpp"
#include "golden/sha256.hpp"

namespace bncheck {
namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

constexpr const char* manifest_name = "manifest.json";

struct array_slot {
  std::string name;
  bool expected;
};

// The arrays of a case in manifest order: the op's inputs, then its outputs.
std::vector<array_slot> slots_of(const problem& p) {
  std::vector<array_slot> out;
  for (auto& n : input_names(p)) out.push_back({n, false});
  for (auto& n : output_names(p)) out.push_back({n, true});
  return out;
}

dtype slot_type(const problem& p, const array_slot& s) {
  return s.expected ? dtype::f64 : type_of(p, s.name);
}

bool valid_case_name(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
}

// The folder's own name, also for "cases/foo/" (empty last component).
std::string folder_name(const fs::path& dir) {
  return dir.has_filename() ? dir.filename().string() : dir.parent_path().filename().string();
}

ordered_json exact_number(double v) {
  ordered_json j;
  j["hex"] = hex_float(v);
  j["decimal"] = v;
  return j;
}

ordered_json shape_json(const std::vector<int64_t>& shape) {
  ordered_json j = ordered_json::array();
  for (int64_t s : shape) j.push_back(s);
  return j;
}

// Checked access to the parsed manifest; every failure names the case.
class manifest_reader {
 public:
  explicit manifest_reader(std::string label) : label_(std::move(label)) {}

  // The manifest's strings are quoted in messages: one_line keeps them one line.
  [[noreturn]] void fail(const std::string& what) const { throw input_error(one_line(label_ + ": " + what)); }

  void exact_keys(const json& obj, std::initializer_list<const char*> keys, const std::string& where) const {
    if (!obj.is_object()) fail(where + " must be a JSON object");
    for (const char* k : keys)
      if (!obj.contains(k)) fail(where + " lacks the key \"" + k + "\"");
    if (obj.size() != keys.size())
      for (const auto& item : obj.items()) {
        const std::string& k = item.key();  // not a structured binding: clang 14 cannot capture one
        if (std::find_if(keys.begin(), keys.end(), [&](const char* w) { return k == w; }) == keys.end())
          fail(where + " has the unknown key \"" + k + "\"");
      }
  }
  std::string str(const json& obj, const char* key, const std::string& where) const {
    const json& v = obj.at(key);
    if (!v.is_string()) fail(where + " key \"" + key + "\" must be a string");
    return v.get<std::string>();
  }
  void same(const std::string& got, std::string_view want, const std::string& what) const {
    if (got != want) fail(what + " is \"" + got + "\" but the problem says \"" + std::string(want) + "\"");
  }
  void exact(const json& obj, const char* key, double want) const {
    const json& v = obj.at(key);
    exact_keys(v, {"hex", "decimal"}, std::string("\"") + key + "\"");
    const std::string hex = str(v, "hex", key);
    double from_hex = 0;
    try {
      from_hex = parse_double(hex);
    } catch (const input_error&) {
      fail(std::string(key) + ".hex \"" + hex + "\" is not a number");
    }
    if (!v.at("decimal").is_number()) fail(std::string(key) + ".decimal must be a number");
    const double from_decimal = v.at("decimal").get<double>();
    if (hex_float(from_hex) != hex_float(want) || hex_float(from_decimal) != hex_float(want))
      fail(std::string(key) + " (" + hex + ", " + v.at("decimal").dump() + ") differs from the problem's " +
           hex_float(want));
  }

 private:
  std::string label_;
};

json parse_manifest(std::string_view bytes, const manifest_reader& r) {
  try {
    return json::parse(bytes);
  } catch (const json::exception& e) {
    r.fail(std::string("manifest.json is not valid JSON: ") + e.what());
  }
}

json load_manifest(const fs::path& case_dir, const manifest_reader& r) {
  const fs::path path = case_dir / manifest_name;
  if (!fs::is_regular_file(path)) r.fail("no manifest.json");
  return parse_manifest(read_file_bytes(path), r);
}

manifest_reader reader_for(const fs::path& case_dir) {
  return manifest_reader("golden case '" + folder_name(case_dir) + "' (" + case_dir.string() + ")");
}

}  // namespace

std::string array_file_name(const std::string& name, bool expected) {
  return (expected ? "expected_" : "") + name + ".npy";
}

std::map<std::string, std::string> encode_case(const test_case& c, const std::string& description) {
  const problem& p = c.prob;
  if (!valid_case_name(c.name))
    throw std::invalid_argument("encode_case: case name '" + c.name + "' is not snake_case [a-z0-9_]+");
  if (description.find('\n') != std::string::npos)
    throw std::invalid_argument("encode_case: the description must be one line");
  std::map<std::string, std::string> files;
  ordered_json m;
  m["format_version"] = golden_format_version;
  m["name"] = c.name;
  m["description"] = description;
  m["problem"] = to_text(p);
  m["profile"] = to_string(p.prof);
  m["op"] = to_string(p.op);
  m["layout"] = to_string(p.lay);
  m["data_type"] = to_string(p.data_type);
  m["param_type"] = to_string(p.param_type);
  m["eps"] = exact_number(p.eps);
  m["momentum"] = exact_number(p.momentum);
  m["seed"] = p.seed;
  ordered_json arrays = ordered_json::array();
  for (const array_slot& s : slots_of(p)) {
    const tensor_map& from = s.expected ? c.expected : c.inputs;
    const auto it = from.find(s.name);
    const std::string what = "encode_case '" + c.name + "': " + (s.expected ? "expected " : "input ") + s.name;
    if (it == from.end()) throw std::invalid_argument(what + " is missing");
    const tensor& t = it->second;
    if (t.type != slot_type(p, s))
      throw std::invalid_argument(what + " is " + std::string(to_string(t.type)) + ", expected " +
                                  std::string(to_string(slot_type(p, s))));
    if (t.shape != shape_of(p, s.name)) throw std::invalid_argument(what + " has the wrong shape");
    const std::string file = array_file_name(s.name, s.expected);
    std::string bytes = encode_npy(t);
    ordered_json a;
    a["name"] = s.name;
    a["file"] = file;
    a["role"] = s.expected ? "expected" : "input";
    a["dtype"] = to_string(t.type);
    a["npy_descr"] = npy_descr(t.type);
    a["shape"] = shape_json(t.shape);
    a["sha256"] = sha256_hex(bytes);
    arrays.push_back(std::move(a));
    files.emplace(file, std::move(bytes));
  }
  m["arrays"] = std::move(arrays);
  files.emplace(manifest_name, m.dump(2) + "\n");
  return files;
}

void write_case(const fs::path& case_dir, const test_case& c, const std::string& description) {
  if (folder_name(case_dir) != c.name)
    throw std::invalid_argument("write_case: folder " + case_dir.string() + " is not named after case '" +
                                c.name + "'");
  const auto files = encode_case(c, description);
  std::error_code ec;
  if (fs::exists(case_dir, ec) && !fs::is_empty(case_dir, ec))
    throw std::invalid_argument("write_case: " + case_dir.string() + " exists and is not empty");
  fs::create_directories(case_dir, ec);
  if (ec) throw input_error(case_dir.string() + ": cannot create: " + ec.message());
  for (const auto& [file, bytes] : files)
    if (file != manifest_name) write_file_bytes(case_dir / file, bytes);
  // Written last: a folder without a manifest is visibly incomplete.
  write_file_bytes(case_dir / manifest_name, files.at(manifest_name));
}

test_case read_case(const fs::path& case_dir) {
  const manifest_reader r = reader_for(case_dir);
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(case_dir, ec)) {
    const std::string file = entry.path().filename().string();
    if (!entry.is_regular_file()) r.fail("'" + file + "' in the case folder is not a regular file");
    files.emplace(file, read_file_bytes(entry.path()));
  }
  if (ec) r.fail("cannot list the folder: " + ec.message());
  return decode_case(case_dir, files);
}

test_case decode_case(const fs::path& case_dir, const std::map<std::string, std::string>& files) {
  const std::string folder = folder_name(case_dir);
  const manifest_reader r = reader_for(case_dir);
  const auto manifest = files.find(manifest_name);
  if (manifest == files.end()) r.fail("no manifest.json");
  const json m = parse_manifest(manifest->second, r);
  r.exact_keys(m, {"format_version", "name", "description", "problem", "profile", "op", "layout",
                   "data_type", "param_type", "eps", "momentum", "seed", "arrays"},
               "manifest.json");
  if (!m.at("format_version").is_number_integer() || m.at("format_version").get<int64_t>() != golden_format_version)
    r.fail("format_version is " + m.at("format_version").dump() + ", this bncheck reads only " +
           std::to_string(golden_format_version));
  test_case c;
  c.name = r.str(m, "name", "manifest.json");
  c.corpus = case_dir.parent_path().string();
  if (c.name != folder) r.fail("the manifest names the case '" + c.name + "', not its folder's name");
  r.str(m, "description", "manifest.json");
  const std::string text = r.str(m, "problem", "manifest.json");
  try {
    c.prob = parse_problem(text);
  } catch (const input_error& e) {
    r.fail(std::string("bad problem text: ") + e.what());
  }
  const problem& p = c.prob;
  r.same(r.str(m, "profile", "manifest.json"), to_string(p.prof), "profile");
  r.same(r.str(m, "op", "manifest.json"), to_string(p.op), "op");
  r.same(r.str(m, "layout", "manifest.json"), to_string(p.lay), "layout");
  r.same(r.str(m, "data_type", "manifest.json"), to_string(p.data_type), "data_type");
  r.same(r.str(m, "param_type", "manifest.json"), to_string(p.param_type), "param_type");
  r.exact(m, "eps", p.eps);
  r.exact(m, "momentum", p.momentum);
  if (!m.at("seed").is_number_unsigned() || m.at("seed").get<uint64_t>() != p.seed)
    r.fail("seed " + m.at("seed").dump() + " differs from the problem's " + std::to_string(p.seed));

  const json& arrays = m.at("arrays");
  const std::vector<array_slot> slots = slots_of(p);
  if (!arrays.is_array() || arrays.size() != slots.size())
    r.fail("\"arrays\" must list the " + std::to_string(slots.size()) + " arrays of a " +
           std::string(to_string(p.op)) + " case");
  std::set<std::string> listed = {manifest_name};
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const array_slot& s = slots[k];
    const std::string file = array_file_name(s.name, s.expected);
    const std::string where = "array '" + s.name + "' (" + file + ")";
    const json& a = arrays[k];
    r.exact_keys(a, {"name", "file", "role", "dtype", "npy_descr", "shape", "sha256"}, where);
    r.same(r.str(a, "name", where), s.name, where + " entry " + std::to_string(k) + " name");
    r.same(r.str(a, "file", where), file, where + " file");
    r.same(r.str(a, "role", where), s.expected ? "expected" : "input", where + " role");
    const dtype type = slot_type(p, s);
    r.same(r.str(a, "dtype", where), to_string(type), where + " dtype");
    r.same(r.str(a, "npy_descr", where), npy_descr(type), where + " npy_descr");
    const std::vector<int64_t> shape = shape_of(p, s.name);
    if (a.at("shape") != json(shape)) r.fail(where + ": shape " + a.at("shape").dump() + " does not fit the problem");
    const auto found = files.find(file);
    if (found == files.end()) r.fail(where + ": file missing");
    const std::string& bytes = found->second;
    const std::string sum = sha256_hex(bytes);
    const std::string listed_sum = r.str(a, "sha256", where);
    if (sum != listed_sum) r.fail(where + ": sha256 " + sum + " differs from the manifest's " + listed_sum);
    tensor t;
    try {
      t = decode_npy(bytes, file, type);
    } catch (const input_error& e) {
      r.fail(where + ": " + e.what());
    }
    if (t.shape != shape) r.fail(where + ": the .npy shape does not fit the problem");
    (s.expected ? c.expected : c.inputs).emplace(s.name, std::move(t));
    listed.insert(file);
  }
  for (const auto& [file, bytes] : files)
    if (!listed.count(file)) r.fail("unlisted file '" + file + "' in the case folder");
  return c;
}

std::string read_case_description(const fs::path& case_dir) {
  const manifest_reader r = reader_for(case_dir);
  const json m = load_manifest(case_dir, r);
  if (!m.is_object() || !m.contains("description")) r.fail("manifest.json lacks \"description\"");
  return r.str(m, "description", "manifest.json");
}

std::vector<std::string> list_cases(const fs::path& corpus_dir) {
  std::error_code ec;
  if (!fs::is_directory(corpus_dir, ec))
    throw input_error(corpus_dir.string() + ": not a golden corpus directory");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(corpus_dir, ec))
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  if (ec) throw input_error(corpus_dir.string() + ": cannot list: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace bncheck
