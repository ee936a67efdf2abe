// The property runner: RapidCheck's checkProperty with our parameters and a
// counting listener, then one replay of the shrunk case (through RapidCheck's
// reproduce mechanism) to capture the cases it built.
#include "properties/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ostream>
#include <sstream>
#include <unordered_map>

#include "check/gate.hpp"
#include "core/error.hpp"
#include "core/fill.hpp"
#include "core/shell_quote.hpp"
#include "properties/gen.hpp"

namespace bncheck::properties {
namespace {

namespace rcd = rc::detail;
using reproduce_map = std::unordered_map<std::string, rcd::Reproduce>;

// Counts the cases of the search (and those the kernel skipped) and the
// accepted shrinks. RapidCheck calls onTestCaseFinished right after the body
// ran for a searched case, so last_skipped is that case's.
class counting_listener final : public rcd::TestListener {
 public:
  explicit counting_listener(const bool& last_skipped) : last_skipped_(last_skipped) {}
  void onTestCaseFinished(const rcd::CaseDescription& d) override {
    if (d.result.type == rcd::CaseResult::Type::Discard) return;
    ++cases;
    if (last_skipped_) ++skipped;
    if (on_case) on_case(cases);
  }
  void onShrinkTried(const rcd::CaseDescription&, bool accepted) override { shrinks += accepted ? 1 : 0; }
  void onTestFinished(const rcd::TestMetadata&, const rcd::TestResult&) override {}
  int cases = 0, skipped = 0, shrinks = 0;
  std::function<void(int)> on_case;  ///< after each case of the search, with the cases so far

 private:
  const bool& last_skipped_;
};

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// "RC_PARAMS=\"reproduce=XYZ\"", "reproduce=XYZ" or "XYZ" -> the map it encodes.
reproduce_map parse_reproduce(std::string text) {
  for (const char* prefix : {"RC_PARAMS=", "\"", "'", "reproduce="})
    if (text.rfind(prefix, 0) == 0) text.erase(0, std::string(prefix).size());
  while (!text.empty() && (text.back() == '"' || text.back() == '\'' || text.back() == '\n')) text.pop_back();
  try {
    return rcd::configFromString("reproduce=" + text).reproduce;
  } catch (const std::exception& e) {
    throw input_error("bad reproduce string '" + text + "': " + e.what());
  }
}

// The reproduce string RapidCheck itself prints for {id: r}.
std::string reproduce_string(const std::string& id, const rcd::Reproduce& r) {
  rcd::Configuration c;
  c.reproduce = {{id, r}};
  const std::string all = rcd::configToMinimalString(c);
  const std::size_t at = all.find("reproduce=");
  if (at == std::string::npos) return "";
  std::string s = all.substr(at + 10);
  if (const std::size_t end = s.find(' '); end != std::string::npos) s.resize(end);
  return s;
}

// Drops the REPRO: lines of an inner report: a generated case with explicit
// values has no --problem form, and the runner prints the lines that work.
std::string without_repro_lines(const std::string& text) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind("REPRO:", 0) != 0) out += line + "\n";
  return out;
}


// The commands that reproduce a failed property, the most specific last.
std::vector<std::string> property_repro(const property_result& r, const std::string& kernel_name, uint64_t seed) {
  std::vector<std::string> repro;
  const std::string property = "bncheck run --kernel " + shell_quote(kernel_name) + " --property " + r.name;
  repro.push_back(r.reproduce.empty() ? property + " --seed " + std::to_string(seed)
                                      : property + " --reproduce " + r.reproduce);
  if (r.shrunk && generatable(r.shrunk->prob))
    repro.push_back("bncheck run --kernel " + shell_quote(kernel_name) + " --problem '" + to_text(r.shrunk->prob) + "'");
  return repro;
}

property_result run_one(const property_info& info, kernel& k, const property_config& cfg,
                        const reproduce_map& replay) {
  property_result r;
  r.name = info.name;
  r.kind = outcome_kind::property;
  r.seed = property_seed(cfg.seed, info.name);
  const auto start = std::chrono::steady_clock::now();
  case_log log;
  bool last_skipped = false;
  auto body = [&] {
    log = case_log{};
    last_skipped = false;
    info.body(k, log, cfg.lim);
    last_skipped = log.skipped;
  };
  rcd::TestMetadata meta;
  meta.id = info.name;
  meta.description = info.description;
  rcd::TestParams params;
  params.seed = r.seed;
  params.maxSuccess = cfg.cases;
  params.disableShrinking = !cfg.shrink;
  counting_listener listener(last_skipped);
  if (cfg.on_case) listener.on_case = [&](int done) { cfg.on_case(info.name, done, cfg.cases); };
  const rcd::TestResult result = rcd::checkTestable(body, meta, params, listener, replay);
  r.cases = replay.empty() ? listener.cases : 1;  // a replay checks the recorded case alone
  r.skipped = listener.skipped;
  r.shrinks = listener.shrinks;

  rcd::FailureResult failure;
  bool passed = true;
  if (result.match(failure)) {
    passed = false;
    r.reproduce = reproduce_string(info.name, failure.reproduce);
    // Replay the shrunk case once to capture the cases its body builds.
    listener.cases = 0;
    listener.on_case = nullptr;
    rcd::checkTestable(body, meta, params, listener, reproduce_map{{info.name, failure.reproduce}});
    std::ostringstream text;
    text << "  falsified after " << failure.numSuccess + 1 << " cases and " << r.shrinks << " shrinks\n";
    if (!log.cases.empty()) {
      r.shrunk = log.cases.front();
      std::optional<outcome> judged_case;
      for (const test_case& c : log.cases)
        if (outcome o = judge(k, c); o.v == verdict::fail) {
          r.shrunk = c;
          r.shrunk_fails_judge = true;
          judged_case = std::move(o);
          break;
        }
      if (!judged_case) judged_case = judge(k, *r.shrunk);
      // The kept case's comparison: the pictures of the failure (report/html.cpp).
      r.problem_text = to_text(r.shrunk->prob);
      r.elements = element_count(r.shrunk->prob);
      r.check = std::move(judged_case->check);
      r.max_normalized = judged_case->max_normalized;
      r.worst_tensor = judged_case->worst_tensor;
      r.not_produced = judged_case->not_produced;
      text << "  shrunk case (" << r.elements
           << (r.shrunk->prob.op == op_kind::merge_statistics ? " shard statistics" : " elements of x");
      if (!r.shrunk_fails_judge) text << "; it passes agreement by itself: the violation is in the relation";
      text << "):\n    " << to_text(r.shrunk->prob) << "\n";
      if (!generatable(r.shrunk->prob)) text << format_tensors(r.shrunk->inputs);
    }
    text << without_repro_lines(failure.description);
    // RapidCheck's draws, in order; the first is the generated case, shown
    // above already unless the kept case was derived from it.
    std::string draws;
    constexpr std::size_t shown = 24;  // a permutation of a long batch draws one value per sample
    const std::size_t count = failure.counterExample.size();
    for (std::size_t i = 0; i < count && i < shown; ++i) {
      const std::string& value = failure.counterExample[i].second;
      if (i == 0 && r.shrunk && value.find(format_tensors(r.shrunk->inputs)) != std::string::npos) continue;
      draws += "    " + value + "\n";
    }
    if (count > shown) draws += "    ... (" + std::to_string(count - shown) + " more draws)\n";
    if (!draws.empty()) text << "  RapidCheck's draws:\n" << draws;
    r.failure = text.str();
  } else if (rcd::GaveUpResult gave_up; result.match(gave_up)) {
    passed = false;
    r.failure = "  gave up after " + std::to_string(gave_up.numSuccess) +
                " cases: too many generated cases were discarded (" + gave_up.description + ")\n";
  } else if (rcd::Error error; result.match(error)) {
    passed = false;
    r.failure = "  RapidCheck error: " + error.description + "\n";
  }
  if (!passed) {
    r.v = verdict::fail;
    r.repro = property_repro(r, k.name(), cfg.seed);
    r.report = failure_text(r, k.name(), cfg.seed);
  } else if (!judged(r)) {
    r.v = verdict::skip;
    r.skip_reason = k.name() + " does not implement any of the " + std::to_string(r.cases) +
                    " problems generated for this property";
    r.report = "skipped: " + r.skip_reason;
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace

uint64_t property_seed(uint64_t seed, const std::string& name) {
  splitmix64 s{seed ^ fnv1a(name)};
  return s.next();
}

std::vector<property_result> run_properties(kernel& k, const property_config& cfg) {
  for (const std::string& name : cfg.properties)
    if (!find_property(name)) {
      std::string known;
      for (const property_info& p : property_catalog()) {
        if (!known.empty()) known += ", ";
        known += p.name;
      }
      throw input_error("unknown property '" + name + "' (known: " + known + ")");
    }
  reproduce_map replay;
  if (!cfg.reproduce.empty()) replay = parse_reproduce(cfg.reproduce);
  else if (const char* env = std::getenv("RC_PARAMS"); env && std::string(env).find("reproduce=") != std::string::npos) {
    // Only a string that names our properties: RC_PARAMS may be meant for a test binary's RC_GTEST_PROPs.
    for (auto& [id, r] : rcd::configFromString(env).reproduce)
      if (find_property(id)) replay.emplace(id, r);
  }
  std::vector<property_result> out;
  for (const property_info& info : property_catalog()) {
    if (!cfg.properties.empty() &&
        std::find(cfg.properties.begin(), cfg.properties.end(), info.name) == cfg.properties.end())
      continue;
    if (info.strict && !cfg.include_strict && cfg.properties.empty()) continue;
    if (!replay.empty() && !replay.count(info.name)) continue;
    out.push_back(run_one(info, k, cfg, replay));
    if (cfg.on_result) cfg.on_result(out.back());
    if (!out.back().passed() && cfg.stop_at_first_failure) break;
  }
  if (!replay.empty() && out.empty())
    throw input_error("the reproduce string names no property of this selection");
  return out;
}

std::string failure_text(const property_result& r, const std::string& kernel_name, uint64_t seed) {
  std::ostringstream out;
  out << "PROPERTY FAIL " << r.name << "\n"
      << "  kernel: " << kernel_name << "  seed: " << seed << " (property seed " << r.seed << ")\n"
      << r.failure;
  if (!r.reproduce.empty()) out << "  RapidCheck reproduce: RC_PARAMS=\"reproduce=" << r.reproduce << "\"\n";
  for (const std::string& command : property_repro(r, kernel_name, seed)) out << "REPRO: " << command << "\n";
  return out.str();
}

}  // namespace bncheck::properties
