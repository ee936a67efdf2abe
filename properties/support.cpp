// Building and running cases inside property bodies, exact bounds, and the checker's report.
#include "properties/support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "check/tolerance.hpp"
#include "core/dtype.hpp"

namespace bncheck::properties {

void fail(const std::string& text) {
  throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Failure, text);
}

void discard(const std::string& why) {
  throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Discard, why);
}

test_case build(const problem& p, const tensor_map& inputs, case_log& log, bool judge_variance_overflow) {
  test_case c = make_case(p, inputs);
  // Backward's saved statistics are the batch's, rounded to the parameter
  // format: near float's top the variance is beyond f32 (var = inf), which
  // no kernel that takes var can use.
  // (Other inputs hold an infinity only where the non_finite region put it.)
  for (const auto& [name, t] : c.inputs)
    if (name == "mean" || name == "var" || name == "invstd")
      for (double v : t.values)
        if (std::isinf(v)) discard("input " + name + " overflows its format: not a meaningful problem");
  for (const auto& [name, t] : c.expected) {
    if (judge_variance_overflow && (name == "var" || name == "running_var")) continue;
    const dtype f = type_of(p, name);
    for (double v : t.values)
      if (std::isfinite(v) && std::isinf(round_to(f, v)))
        discard("an exact output overflows its format: not a meaningful problem");
  }
  log.cases.push_back(c);
  return c;
}

std::optional<tensor_map> run(kernel& k, const test_case& c, case_log& log,
                              std::initializer_list<const char*> needed, double output_fill) {
  kernel_output out = run_kernel(k, c.prob, c.inputs, output_fill);
  switch (out.result.status) {
    case kernel_status::ok:
      for (const char* name : needed)
        if (!out.got.count(name)) {
          log.skipped = true;
          RC_TAG("skipped");
          return std::nullopt;
        }
      return std::move(out.got);
    case kernel_status::unimplemented:
      log.skipped = true;
      RC_TAG("skipped");
      return std::nullopt;
    case kernel_status::error: break;
  }
  fail("kernel " + k.name() + " reported an error: " + out.result.message + "\n  problem: " + to_text(c.prob));
}

std::vector<std::string> absent_outputs(const problem& p, const tensor_map& got) {
  std::vector<std::string> out;
  for (const std::string& name : output_names(p))
    if (!got.count(name)) out.push_back(name);
  return out;
}

std::vector<std::string> outputs_of_both(const problem& p, const tensor_map& a, const tensor_map& b) {
  std::vector<std::string> out;
  for (const std::string& name : output_names(p))
    if (a.count(name) && b.count(name)) out.push_back(name);
  return out;
}

tensor_map exact_bounds(const test_case& c) {
  tensor_map b = tolerance_bounds(c.prob, c.inputs, c.expected);
  for (auto& [name, t] : b) {
    const std::vector<double>& e = c.expected.at(name).values;
    for (std::size_t i = 0; i < t.values.size(); ++i) {
      if (!std::isfinite(e[i])) continue;
      // Near f64's top the model's bound can exceed double (var's E_mu^2
      // term, docs/tolerances.md 4.2): it admits every value, so a relation
      // built on it says nothing. agreement still judges such a case.
      if (!std::isfinite(t.values[i])) discard("the model's bound on " + name + " overflows double");
      t.values[i] += std::ldexp(std::fabs(e[i]), -52) + std::ldexp(1.0, -1074);
    }
  }
  return b;
}

checker::checker(std::string invariant) : invariant_(std::move(invariant)) {}

void checker::near(const std::string& where, const mpfr_float& got, const mpfr_float& want,
                   const mpfr_float& bound) {
  ++checked_;
  constexpr double inf = std::numeric_limits<double>::infinity();
  const double g = to_double(got), w = to_double(want), b = to_double(bound);
  if (is_nan(want) || is_nan(got) || !mpfr_number_p(reference::raw(want)) || !mpfr_number_p(reference::raw(got))) {
    const bool same = (is_nan(want) && is_nan(got)) || (!is_nan(want) && !is_nan(got) && cmp(got, want) == 0);
    if (!same) record({where, g, w, inf, b, inf});
    return;
  }
  const mpfr_float err = abs(sub(got, want));
  const double ratio = b > 0 ? to_double(err) / b : (mpfr_zero_p(reference::raw(err)) ? 0 : inf);
  max_ratio_ = std::max(max_ratio_, ratio);
  if (cmp(err, bound) > 0) record({where, g, w, to_double(err), b, ratio});
}

void checker::equal(const std::string& where, double got, double want) {
  ++checked_;
  const bool same = (std::isnan(got) && std::isnan(want)) || got == want;
  if (!same) record({where, got, want, std::fabs(got - want), 0, std::numeric_limits<double>::infinity()});
}

void checker::record(entry e) {
  ++failed_;
  max_ratio_ = std::max(max_ratio_, e.ratio);
  auto worse = [](const entry& a, const entry& b) { return a.ratio > b.ratio; };
  worst_.insert(std::upper_bound(worst_.begin(), worst_.end(), e, worse), e);
  if (worst_.size() > 10) worst_.pop_back();
}

std::string checker::report(const test_case& c, const std::string& kernel_name) const {
  std::ostringstream out;
  out << "invariant: " << invariant_ << "\n"
      << "  problem: " << to_text(c.prob) << "\n"
      << "  kernel: " << kernel_name << "\n";
  if (!worst_.empty()) {
    out << "  worst violations (" << worst_.size() << " shown of " << failed_ << "):\n";
    char line[320];
    std::snprintf(line, sizeof line, "    %-26s %-24s %-24s %-12s %-12s %10s\n", "where", "got", "want", "error",
                  "bound", "err/bound");
    out << line;
    for (const entry& e : worst_) {
      char err[32], bound[32], ratio[32];
      std::snprintf(err, sizeof err, "%.4g", e.err);
      std::snprintf(bound, sizeof bound, "%.4g", e.bound);
      std::snprintf(ratio, sizeof ratio, "%.4g", e.ratio);
      std::snprintf(line, sizeof line, "    %-26s %-24s %-24s %-12s %-12s %10s\n", e.where.c_str(),
                    hex_float(e.got).c_str(), hex_float(e.want).c_str(), err, bound, ratio);
      out << line;
    }
  }
  char stats[128];
  std::snprintf(stats, sizeof stats, "  stats: %lld comparisons, %lld over bound, max err/bound %.4g\n",
                static_cast<long long>(checked_), static_cast<long long>(failed_), max_ratio_);
  out << stats;
  return out.str();
}

void checker::require(const test_case& c, const std::string& kernel_name) const {
  if (!ok()) fail(report(c, kernel_name));
}

void agree_at_same_positions(checker& chk, const test_case& c_got, const tensor_map& got, const test_case& c_other,
                             const tensor_map& other) {
  const tensor_map b_got = exact_bounds(c_got), b_other = exact_bounds(c_other);
  for (const std::string& name : outputs_of_both(c_got.prob, got, other)) {
    const std::vector<double>& k = got.at(name).values;
    const std::vector<double>& o = other.at(name).values;
    for (std::size_t i = 0; i < k.size(); ++i) {
      const std::string where = element_name(name, c_got.expected.at(name).shape, i);
      if (!std::isfinite(c_got.expected.at(name).values[i]) || !std::isfinite(k[i]) || !std::isfinite(o[i])) {
        chk.equal(where, k[i], o[i]);
        continue;
      }
      chk.near(where, k[i], exact(o[i]), add(exact(b_got.at(name).values[i]), exact(b_other.at(name).values[i])));
    }
  }
}

}  // namespace bncheck::properties
