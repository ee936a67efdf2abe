// bncheck reference: reference outputs for a folder of .npy inputs, written
// as float64 .npy into a new folder, whole or not at all.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "golden/npy.hpp"
#include "reference/reference.hpp"

namespace fs = std::filesystem;

namespace bncheck::cli {
namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string t = "(";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + ")";
}

// Sizes of the problem from x's shape in the given layout.
void set_sizes(problem& p, const std::vector<int64_t>& shape) {
  const std::size_t rank = 2 + static_cast<std::size_t>(spatial_rank(p.lay));
  if (shape.size() != rank)
    throw input_error("x has shape " + shape_text(shape) + " but layout " + std::string(to_string(p.lay)) +
                      " needs " + std::to_string(rank) + " axes");
  p.n = shape[0];
  if (channel_last(p.lay)) p.c = shape.back();
  else p.c = shape[1];
  const std::size_t first_spatial = channel_last(p.lay) ? 1 : 2;
  if (rank == 5) p.d = shape[first_spatial];
  if (rank >= 4) p.h = shape[first_spatial + rank - 4], p.w = shape[first_spatial + rank - 3];
}

tensor read_input(const fs::path& dir, const std::string& name, const problem& p, bool data) {
  const fs::path file = dir / (name + ".npy");
  tensor t = read_npy(file, data ? p.data_type : p.param_type);
  const std::vector<int64_t> want = data ? data_shape(p) : std::vector<int64_t>{p.c};
  if (t.shape != want)
    throw input_error(file.string() + " has shape " + shape_text(t.shape) + ", expected " + shape_text(want));
  return t;
}

// Throws unless every one of names has its .npy in dir: what `who` cannot do without.
void require_files(const fs::path& dir, const std::vector<std::string>& names, const std::string& who) {
  std::string missing;
  for (const auto& n : names)
    if (!fs::exists(dir / (n + ".npy"))) missing += (missing.empty() ? "" : " and ") + n + ".npy";
  if (!missing.empty()) throw input_error(who + " needs " + missing + " in '" + dir.string() + "'");
}

}  // namespace

int reference(const reference_options& o) {
  const fs::path in(o.in), out(o.out);
  if (!fs::is_directory(in)) throw input_error("input folder '" + o.in + "' does not exist");
  if (fs::exists(out) && !(fs::is_directory(out) && fs::is_empty(out)))
    throw input_error("output folder '" + o.out + "' exists and is not empty");

  problem p;
  // Without --op: forward training, and backward's outputs too when dy.npy is there.
  const bool op_chosen = !o.op.empty();
  p.op = op_chosen ? parse_op(o.op) : op_kind::forward_training;
  if (p.op == op_kind::merge_statistics)
    throw input_error("--op merge_statistics is not supported by bncheck reference (it reads data tensors); "
                      "run the problem with bncheck run --problem 'merge_statistics nc ... shards=...'");
  p.lay = parse_layout(o.layout);
  p.prof = parse_profile(o.profile);
  p.eps = o.eps;
  p.momentum = o.momentum;
  p.x = p.gamma = p.beta = p.dy = p.running_mean = p.running_var = {fill_kind::file, 0, 0};
  if (p.op == op_kind::forward_inference) require_files(in, {"running_mean", "running_var"}, "--op forward_inference");
  if (p.op == op_kind::backward) require_files(in, {"dy"}, "--op backward");
  const tensor x_raw = read_npy(in / "x.npy");
  p.data_type = o.dtype.empty() ? x_raw.type : parse_dtype(o.dtype);
  p.param_type = read_npy(in / "gamma.npy").type;
  set_sizes(p, x_raw.shape);
  validate(p);

  tensor_map inputs;
  inputs["x"] = read_input(in, "x", p, true);
  inputs["gamma"] = read_input(in, "gamma", p, false);
  if (p.op != op_kind::backward) inputs["beta"] = read_input(in, "beta", p, false);
  const bool running = p.op == op_kind::forward_inference || fs::exists(in / "running_mean.npy") ||
                       fs::exists(in / "running_var.npy");
  if (running) {
    inputs["running_mean"] = read_input(in, "running_mean", p, false);
    inputs["running_var"] = read_input(in, "running_var", p, false);
  } else {  // placeholders: the running outputs are not written
    inputs["running_mean"] = tensor{p.param_type, {p.c}, std::vector<double>(p.c, 0.0)};
    inputs["running_var"] = tensor{p.param_type, {p.c}, std::vector<double>(p.c, 1.0)};
  }
  const bool grad = p.op == op_kind::backward || (!op_chosen && fs::exists(in / "dy.npy"));
  if (grad) inputs["dy"] = read_input(in, "dy", p, true);

  reference::rounding_stats stats;
  tensor_map result;  // backward's own outputs, or forward's with dx, dgamma, dbeta added
  if (p.op != op_kind::backward) {
    result = reference::compute(p, inputs, &stats);
    if (!running) result.erase("running_mean"), result.erase("running_var");
  }
  if (grad) {
    problem pb = p;
    pb.op = op_kind::backward;
    tensor_map b = reference::compute(pb, inputs, &stats);
    if (p.op == op_kind::backward) result = std::move(b);
    else
      for (const char* n : {"dx", "dgamma", "dbeta"}) result[n] = b.at(n);
  }

  // Write everything into a fresh sibling folder, then rename it into place.
  const fs::path parent = fs::absolute(out).parent_path();
  const fs::path tmp = parent / (out.filename().string() + ".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  try {
    fs::create_directories(tmp);
    for (const auto& [name, t] : result) write_npy(tmp / (name + ".npy"), t);
    fs::rename(tmp, out);  // rename(2) replaces an empty folder atomically
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  std::cout << "wrote";
  for (const auto& [name, t] : result) std::cout << ' ' << name;
  std::cout << " to " << o.out << " (" << stats.values << " values, rounding proven, " << stats.escalations
            << " escalations)\n";
  return 0;
}

}  // namespace bncheck::cli
