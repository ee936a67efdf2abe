// identify's report as text: one finding per line, its evidence indented below.
#include <cstdio>
#include <set>
#include <sstream>

#include "identify/identify.hpp"

namespace bncheck::identify {

std::string_view to_string(eps_placement e) {
  switch (e) {
    case eps_placement::inside_sqrt: return "eps inside the square root: 1/sqrt(var + eps)";
    case eps_placement::outside_sqrt: return "eps outside the square root: 1/(sqrt(var) + eps)";
    case eps_placement::omitted: return "eps omitted: 1/sqrt(var)";
    case eps_placement::floor: return "eps as a floor: 1/sqrt(max(var, eps))";
    case eps_placement::unknown: break;
  }
  return "eps placement unknown";
}

std::string_view to_string(variance_kind v) {
  switch (v) {
    case variance_kind::biased: return "biased variance (M2/M)";
    case variance_kind::unbiased: return "unbiased variance (M2/(M-1))";
    case variance_kind::unknown: break;
  }
  return "variance unknown";
}

std::string_view to_string(momentum_weight w) {
  switch (w) {
    case momentum_weight::on_batch: return "momentum weighs the batch statistic: r' = (1-m) r + m batch";
    case momentum_weight::on_running: return "momentum weighs the old running value: r' = m r + (1-m) batch";
    case momentum_weight::unknown: break;
  }
  return "momentum weight unknown";
}

namespace {

std::string_view status_word(kernel_status s) {
  switch (s) {
    case kernel_status::ok: return "ok";
    case kernel_status::unimplemented: return "-";
    case kernel_status::error: return "ERROR";
  }
  return "?";
}

void line(std::ostringstream& out, const std::string& topic, const std::string& finding,
          const std::string& evidence = {}) {
  char head[32];
  std::snprintf(head, sizeof head, "%-20s ", topic.c_str());
  out << head << finding << "\n";
  if (!evidence.empty()) out << std::string(21, ' ') << "(" << evidence << ")\n";
}

std::string saved_text(const saved_outputs& s) {
  auto w = [](written v, const std::string& what) -> std::string {
    switch (v) {
      case written::expected: return what;
      case written::not_written: return "not written";
      case written::not_produced: return "not produced (the kernel says so)";
      case written::other: return "another value";
    }
    return "?";
  };
  return "mean: " + w(s.mean, "the batch mean") + "; var: " + w(s.var, std::string(to_string(s.var_kind))) +
         "; invstd: " + w(s.invstd, std::string(to_string(s.invstd_eps)) + ", " + std::string(to_string(s.invstd_var)));
}

std::string running_text(const running_stats& r) {
  if (r.status != kernel_status::ok)
    return std::string(r.status == kernel_status::unimplemented ? "unimplemented: " : "ERROR: ") + r.message;
  if (!r.produced) return "not produced: the kernel declares it keeps no running statistics";
  if (!r.written) return "NaN written";
  if (!r.updated) return "not updated";
  std::string out = "updated; " + std::string(to_string(r.weight));
  if (r.weight != momentum_weight::unknown) out += "; running_var from the " + std::string(to_string(r.var));
  return out;
}

}  // namespace

std::string format(const report& r) {
  std::ostringstream out;
  out << "identify: kernel " << r.kernel << "\n";
  if (r.probe_config.empty()) {
    out << "no convention probe ran: forward_training is unimplemented in every layout and wide format tried\n";
  } else {
    out << "probes in " << r.probe_config
        << "; one channel, x = {0, 1} (M = 2: mean 0.5, variance 0.25 biased, 0.5 unbiased), gamma 2, beta 0.5,\n"
           "running mean 4, running var 8, momentum 0.25\n";
    line(out, "normalization",
         r.norm.determined ? std::string(to_string(r.norm.eps)) + "; " + std::string(to_string(r.norm.var)) +
                                 (r.norm.affine_ok ? "" : "; y is not gamma x-hat + beta")
                           : "matches no convention",
         r.norm.evidence);
    line(out, "saved by training", saved_text(r.saved), r.saved.evidence);
    for (const running_stats& each : r.running)
      line(out, "running, " + std::string(to_string(each.prof)), running_text(each), each.evidence);
    line(out, "inference",
         !r.infer.determined ? "matches no convention"
         : r.infer.uses_running
             ? "normalizes with the running statistics; " + std::string(to_string(r.infer.eps))
             : "normalizes with the batch statistics (not the running ones)",
         r.infer.evidence);
    std::string reads;
    for (const auto& [flag, name] : {std::pair{r.backward.mean, "mean"}, {r.backward.var, "var"},
                                     {r.backward.invstd, "invstd"}})
      if (flag) reads += std::string(reads.empty() ? "" : ", ") + name;
    line(out, "backward reads",
         !r.backward.determined ? "not probed"
         : reads.empty()        ? "no saved statistic (recomputes them from x)"
                                : "saved " + reads,
         r.backward.evidence);
    line(out, "eps = 0, var = 0",
         r.eps0.status != kernel_status::ok ? std::string(status_word(r.eps0.status)) + " " + r.eps0.message
         : r.eps0.result == zero_variance::kind::undefined ? "undefined, as IEEE arithmetic gives it: y NaN (invstd inf where produced)"
         : r.eps0.result == zero_variance::kind::guarded   ? "guarded: invstd 0, so y = beta (the reference gives NaN)"
                                                           : "another result",
         r.eps0.evidence);
    line(out, "constant channel",
         r.constant.status != kernel_status::ok ? std::string(status_word(r.constant.status)) + " " + r.constant.message
         : r.constant.exact                     ? "y = beta exactly"
                                                : "y misses beta (a folded affine map, or a mean that does not reproduce x, does this)",
         r.constant.evidence);
  }
  out << "support (ok; - unimplemented; ERROR), problems of M = 4 to 8 over 3 channels:\n";
  char buf[160];
  std::snprintf(buf, sizeof buf, "  %-18s %-6s %8s %8s %8s %8s %8s\n", "op", "layout", "f64:f64", "f64:f32", "f32:f32",
                "f16:f32", "bf16:f32");
  out << buf;
  std::set<std::string> messages;
  for (std::size_t i = 0; i < r.support.size(); i += 5) {
    std::snprintf(buf, sizeof buf, "  %-18s %-6s", std::string(to_string(r.support[i].op)).c_str(),
                  std::string(to_string(r.support[i].lay)).c_str());
    out << buf;
    for (std::size_t j = i; j < i + 5 && j < r.support.size(); ++j) {
      std::snprintf(buf, sizeof buf, " %8s", std::string(status_word(r.support[j].status)).c_str());
      out << buf;
      if (r.support[j].status != kernel_status::ok) messages.insert(r.support[j].message);
    }
    out << "\n";
  }
  out << "edge cases:\n";
  for (const edge_case& e : r.edges) {
    std::snprintf(buf, sizeof buf, "  %-36s ", e.name.c_str());
    out << buf << status_word(e.status) << (e.status == kernel_status::ok ? "" : " " + e.message) << "\n";
  }
  if (!messages.empty()) {
    out << "messages of the unimplemented and failed support probes:\n";
    for (const std::string& m : messages) out << "  " << m << "\n";
  }
  return out.str();
}

}  // namespace bncheck::identify
