// The canonical one-line text form of a problem, and its parser.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/error.hpp"
#include "core/fill.hpp"
#include "core/one_line.hpp"
#include "core/problem.hpp"

namespace bncheck {
namespace {

template <class E, std::size_t N>
E parse_enum(std::string_view s, const std::pair<std::string_view, E> (&table)[N],
             const char* what) {
  for (const auto& [name, value] : table)
    if (name == s) return value;
  std::string list;
  for (const auto& [name, value] : table) list += (list.empty() ? "" : ", ") + std::string(name);
  throw input_error(std::string("unknown ") + what + " '" + std::string(s) + "' (expected one of " +
                    list + ")");
}

constexpr std::pair<std::string_view, op_kind> op_table[] = {
    {"forward_training", op_kind::forward_training},
    {"forward_inference", op_kind::forward_inference},
    {"backward", op_kind::backward},
    {"merge_statistics", op_kind::merge_statistics}};
constexpr std::pair<std::string_view, layout> layout_table[] = {
    {"nc", layout::nc},       {"nchw", layout::nchw},   {"nhwc", layout::nhwc},
    {"ncdhw", layout::ncdhw}, {"ndhwc", layout::ndhwc}};
constexpr std::pair<std::string_view, dtype> dtype_table[] = {
    {"f64", dtype::f64}, {"f32", dtype::f32}, {"f16", dtype::f16}, {"bf16", dtype::bf16}};
constexpr std::pair<std::string_view, profile> profile_table[] = {
    {"onnx", profile::onnx}, {"pytorch", profile::pytorch}, {"cudnn", profile::cudnn}};

template <class E, std::size_t N>
std::string_view name_of(E v, const std::pair<std::string_view, E> (&table)[N]) {
  for (const auto& [name, value] : table)
    if (value == v) return name;
  return "?";
}

constexpr std::pair<std::string_view, special_value> special_table[] = {
    {"nan", special_value::nan}, {"inf", special_value::inf}, {"-inf", special_value::neg_inf}};

std::string fill_text(const fill_spec& f) {
  std::string s;
  switch (f.kind) {
    case fill_kind::normal: s = "normal:" + exact_decimal(f.a) + ":" + exact_decimal(f.b); break;
    case fill_kind::uniform: s = "uniform:" + exact_decimal(f.a) + ":" + exact_decimal(f.b); break;
    case fill_kind::constant: s = "const:" + exact_decimal(f.a); break;
    case fill_kind::file: s = "file"; break;
  }
  for (int k = 0; k < f.count; ++k)
    s += "," + std::string(name_of(f.specials[k].value, special_table)) + "@" + std::to_string(f.specials[k].index);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

int64_t parse_size(std::string_view s, std::string_view what) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size())
    throw input_error("bad size for " + std::string(what) + ": '" + std::string(s) + "'");
  return v;
}

// Parses "mb2ic3id4ih5iw6" (id, ih, iw optional).
void parse_dims(std::string_view s, problem& p) {
  const std::pair<std::string_view, int64_t*> keys[] = {
      {"mb", &p.n}, {"ic", &p.c}, {"id", &p.d}, {"ih", &p.h}, {"iw", &p.w}};
  std::size_t i = 0;
  bool seen[5] = {};
  while (i < s.size()) {
    int k = -1;
    for (int j = 0; j < 5; ++j)
      if (s.substr(i, 2) == keys[j].first) k = j;
    if (k < 0 || seen[k]) throw input_error("bad sizes '" + std::string(s) + "'");
    seen[k] = true;
    std::size_t j = i + 2;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '-')) ++j;
    *keys[k].second = parse_size(s.substr(i + 2, j - i - 2), keys[k].first);
    i = j;
  }
  if (!seen[0] || !seen[1]) throw input_error("sizes need mb and ic: '" + std::string(s) + "'");
}

// Parses "1,1000,1000000": the shard counts of merge_statistics.
std::vector<int64_t> parse_shards(std::string_view s) {
  std::vector<int64_t> out;
  for (std::string_view part : split(s, ',')) out.push_back(parse_size(part, "shards"));
  return out;
}

// The base fill, before any ",nan@I" placements.
fill_spec parse_base_fill(std::string_view s, std::string_view whole) {
  auto parts = split(s, ':');
  if (parts[0] == "file" && parts.size() == 1) return {fill_kind::file, 0, 0};
  if (parts[0] == "const" && parts.size() == 2) return {fill_kind::constant, parse_double(parts[1]), 0};
  if ((parts[0] == "normal" || parts[0] == "uniform") && parts.size() == 3)
    return {parts[0] == "normal" ? fill_kind::normal : fill_kind::uniform, parse_double(parts[1]),
            parse_double(parts[2])};
  throw input_error("bad fill '" + one_line(whole) +
                    "' (expected normal:A:B, uniform:A:B, const:A or file, then any ,nan@I ,inf@I ,-inf@I)");
}

// FORMAT[,slice=FIRST/CHANNELS]: a data tensor's storage (problem.hpp).
storage parse_storage(std::string_view s, const std::string& key) {
  const auto items = split(s, ',');
  storage st;
  st.format = parse_layout(items[0]);
  if (items.size() == 1) return st;
  const std::string_view slice = items[1];
  const std::size_t slash = slice.find('/');
  if (items.size() > 2 || slice.rfind("slice=", 0) != 0 || slash == std::string_view::npos)
    throw input_error("bad " + key + " '" + one_line(s) + "' (expected FORMAT or FORMAT,slice=FIRST/CHANNELS)");
  st.first = parse_size(slice.substr(6, slash - 6), key + " slice");
  st.channels = parse_size(slice.substr(slash + 1), key + " slice");
  if (st.channels < 1) throw input_error(key + ": a slice of " + std::to_string(st.channels) + " channels");
  return st;
}

std::string storage_text(const problem& p, const storage& st) {
  std::string s(to_string(st.format.value_or(p.lay)));
  if (st.channels != 0) s += ",slice=" + std::to_string(st.first) + "/" + std::to_string(st.channels);
  return s;
}

// The canonical value of a parsed storage: no format where it is the
// problem's layout, no slice where it is the whole tensor.
void canonical_storage(problem& p) {
  for (const char* name : data_tensor_names) {
    storage& st = storage_of(p, name);
    if (st.format == p.lay) st.format.reset();
    if (st.channels == p.c && st.first == 0) st.channels = 0;
  }
}

}  // namespace

// FILL[,V@I]...: V one of nan, inf, -inf; I a flat index in the tensor's
// memory order, strictly increasing (so the text is canonical), at most
// max_specials of them. Whether I is inside the tensor is validate()'s.
fill_spec parse_fill(std::string_view s) {
  auto items = split(s, ',');
  fill_spec f = parse_base_fill(items[0], s);
  if (f.kind == fill_kind::file && items.size() > 1)
    throw input_error("bad fill '" + one_line(s) + "': 'file' places no values");
  if (items.size() - 1 > static_cast<std::size_t>(max_specials))
    throw input_error("bad fill '" + one_line(s) + "': at most " + std::to_string(max_specials) +
                      " non-finite values");
  for (std::size_t k = 1; k < items.size(); ++k) {
    const std::string_view item = items[k];
    const std::size_t at = item.find('@');
    const auto bad = [&](const std::string& why) {
      return input_error("bad fill '" + one_line(s) + "': '" + one_line(item) + "' " + why);
    };
    if (at == std::string_view::npos) throw bad("is not V@INDEX (V nan, inf or -inf)");
    special_at sp;
    bool known = false;
    for (const auto& [name, value] : special_table)
      if (name == item.substr(0, at)) sp.value = value, known = true;
    if (!known) throw bad("is not V@INDEX (V nan, inf or -inf)");
    const std::string_view index = item.substr(at + 1);
    auto [ptr, ec] = std::from_chars(index.data(), index.data() + index.size(), sp.index);
    if (index.empty() || ec != std::errc() || ptr != index.data() + index.size() || sp.index < 0 ||
        (index.size() > 1 && index[0] == '0'))
      throw bad("has no index (a non-negative integer, no leading zeros)");
    if (f.count > 0 && sp.index <= f.specials[f.count - 1].index) throw bad("does not follow a smaller index");
    f.specials[f.count++] = sp;
  }
  return f;
}

std::string_view to_string(op_kind v) { return name_of(v, op_table); }
std::string_view to_string(layout v) { return name_of(v, layout_table); }
std::string_view to_string(dtype v) { return name_of(v, dtype_table); }
std::string_view to_string(profile v) { return name_of(v, profile_table); }
op_kind parse_op(std::string_view s) { return parse_enum(s, op_table, "op"); }
layout parse_layout(std::string_view s) { return parse_enum(s, layout_table, "layout"); }
dtype parse_dtype(std::string_view s) { return parse_enum(s, dtype_table, "dtype"); }
profile parse_profile(std::string_view s) { return parse_enum(s, profile_table, "profile"); }

std::string exact_decimal(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ptr);
}

std::string hex_float(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

double parse_double(std::string_view s) {
  std::string copy(s);
  if (copy.empty() || std::isspace(static_cast<unsigned char>(copy[0])))
    throw input_error("bad number '" + one_line(copy) + "'");
  char* end = nullptr;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) throw input_error("bad number '" + one_line(copy) + "'");
  return v;
}

std::string to_text(const problem& p) {
  std::ostringstream out;
  out << to_string(p.op) << ' ' << to_string(p.lay) << ' ' << to_string(p.data_type) << ':'
      << to_string(p.param_type) << " mb" << p.n << "ic" << p.c;
  const int rank = spatial_rank(p.lay);
  if (rank == 3) out << "id" << p.d;
  if (rank >= 2) out << "ih" << p.h << "iw" << p.w;
  if (!p.shards.empty()) {
    out << " shards=";
    for (std::size_t i = 0; i < p.shards.size(); ++i) out << (i ? "," : "") << p.shards[i];
  }
  out << " eps=" << exact_decimal(p.eps) << " momentum=" << exact_decimal(p.momentum)
      << " profile=" << to_string(p.prof) << " seed=" << p.seed;
  const std::pair<const char*, std::pair<const fill_spec*, fill_spec>> fills[] = {
      {"x", {&p.x, default_x_fill}},
      {"gamma", {&p.gamma, default_gamma_fill}},
      {"beta", {&p.beta, default_beta_fill}},
      {"dy", {&p.dy, default_dy_fill}},
      {"running_mean", {&p.running_mean, default_rmean_fill}},
      {"running_var", {&p.running_var, default_rvar_fill}},
      {"shard_mean", {&p.shard_mean, default_shard_mean_fill}},
      {"shard_var", {&p.shard_var, default_shard_var_fill}}};
  for (const auto& [name, f] : fills)
    if (!(*f.first == f.second)) out << ' ' << name << '=' << fill_text(*f.first);
  for (const char* name : data_tensor_names)
    if (!(storage_of(p, name) == storage{})) out << ' ' << name << "_storage=" << storage_text(p, storage_of(p, name));
  return out.str();
}

problem parse_problem(std::string_view text) {
  problem p;
  std::istringstream in{std::string(text)};
  std::string tok;
  bool have_op = false, have_layout = false, have_dims = false, have_types = false;
  while (in >> tok) {
    const std::size_t eq = tok.find('=');
    if (eq == std::string::npos) {
      if (tok.rfind("mb", 0) == 0) {
        parse_dims(tok, p);
        have_dims = true;
      } else if (tok.find(':') != std::string::npos) {
        auto parts = split(tok, ':');
        if (parts.size() != 2) throw input_error("bad dtypes '" + tok + "' (expected DATA:PARAM)");
        p.data_type = parse_dtype(parts[0]);
        p.param_type = parse_dtype(parts[1]);
        have_types = true;
      } else if (!have_op && (tok == "forward_training" || tok == "forward_inference" || tok == "backward" ||
                               tok == "merge_statistics")) {
        p.op = parse_op(tok);
        have_op = true;
      } else if (!have_layout) {
        p.lay = parse_layout(tok);
        have_layout = true;
      } else {
        throw input_error("unexpected token '" + tok + "' in problem text");
      }
      continue;
    }
    const std::string key = tok.substr(0, eq);
    const std::string_view value = std::string_view(tok).substr(eq + 1);
    if (key == "eps") p.eps = parse_double(value);
    else if (key == "momentum") p.momentum = parse_double(value);
    else if (key == "profile") p.prof = parse_profile(value);
    else if (key == "seed") {
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), p.seed);
      if (value.empty() || ec != std::errc() || ptr != value.data() + value.size())
        throw input_error("bad seed '" + std::string(value) + "'");
    } else if (key == "x") p.x = parse_fill(value);
    else if (key == "gamma") p.gamma = parse_fill(value);
    else if (key == "beta") p.beta = parse_fill(value);
    else if (key == "dy") p.dy = parse_fill(value);
    else if (key == "running_mean") p.running_mean = parse_fill(value);
    else if (key == "running_var") p.running_var = parse_fill(value);
    else if (key == "shard_mean") p.shard_mean = parse_fill(value);
    else if (key == "shard_var") p.shard_var = parse_fill(value);
    else if (key == "shards") p.shards = parse_shards(value);
    else if (key == "x_storage" || key == "dy_storage" || key == "y_storage" || key == "dx_storage")
      storage_of(p, key.substr(0, key.size() - 8)) = parse_storage(value, key);
    else throw input_error("unknown key '" + key + "' in problem text");
  }
  if (!have_dims) throw input_error("problem text lacks sizes (e.g. mb2ic3ih4iw4)");
  (void)have_types;
  canonical_storage(p);
  validate(p);
  return p;
}

}  // namespace bncheck
