// The HTML report: the run's tables and, for every failure and property, an
// error picture (err/bound histograms, worst elements, per-channel error) in
// inline SVG drawn here. One self-contained file: no script, no network.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/problem.hpp"
#include "report/report.hpp"
#include "report/xml_chars.hpp"

namespace bncheck::report {
namespace {

// Text as HTML (and XML) character data or attribute value; bytes that are
// not a valid character become U+FFFD.
std::string esc(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = xml_char_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    switch (s[i]) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.append(s, i, n);
    }
    i += n;
  }
  return out;
}

std::string num(const char* fmt, double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char text[64];
  std::snprintf(text, sizeof text, fmt, v);
  return text;
}

const char* verdict_word(verdict v) {
  switch (v) {
    case verdict::pass: return "pass";
    case verdict::fail: return "FAIL";
    case verdict::skip: return "skip";
    case verdict::known: return "known";
  }
  return "FAIL";
}


bool detailed(const outcome& o) {
  return o.v == verdict::fail || o.v == verdict::known || o.kind == outcome_kind::property;
}

// The histogram of err/bound of one output: a bar per bin, bar height on a
// log scale of the count (most elements sit many decades below the bound),
// the bound (err/bound = 1) marked.
void histogram_svg(std::ostream& h, const output_errors& e) {
  constexpr int bar = 34, left = 36, top = 24, plot = 110, bottom = 38;
  const int width = left + bar * histogram_bins + 10, height = top + plot + bottom;
  int64_t most = 1;
  for (int64_t n : e.histogram) most = std::max(most, n);
  const double scale = std::log10(1.0 + static_cast<double>(most));
  h << "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\">"
    << "<title>" << esc("err/bound of " + e.tensor) << "</title>"
    << "<text x=\"" << left << "\" y=\"15\" class=\"t\">" << esc(e.tensor) << ": " << e.checked << " elements, "
    << e.failed << " over bound, max err/bound " << esc(num("%.3g", e.max_normalized)) << "</text>"
    << "<line x1=\"" << left << "\" y1=\"" << top + plot << "\" x2=\"" << width - 10 << "\" y2=\"" << top + plot
    << "\" class=\"axis\"/>";
  for (int b = 0; b < histogram_bins && b < static_cast<int>(e.histogram.size()); ++b) {
    const int64_t n = e.histogram[b];
    const double frac = n == 0 ? 0 : std::log10(1.0 + static_cast<double>(n)) / scale;
    const int bh = n == 0 ? 0 : std::max(2, static_cast<int>(std::lround(frac * plot)));
    const int x = left + b * bar;
    const char* cls = b == 0 ? "exact" : b >= histogram_first_over_bound ? "over" : "under";
    h << "<rect class=\"" << cls << "\" x=\"" << x + 3 << "\" y=\"" << top + plot - bh << "\" width=\"" << bar - 6
      << "\" height=\"" << bh << "\"><title>" << esc(histogram_bin_label(b)) << ": " << n << "</title></rect>";
    if (n > 0)
      h << "<text x=\"" << x + bar / 2 << "\" y=\"" << top + plot - bh - 3 << "\" class=\"n\">" << n << "</text>";
    h << "<text x=\"" << x + bar / 2 << "\" y=\"" << top + plot + 13 << "\" class=\"l\">"
      << esc(histogram_bin_label(b)) << "</text>";
  }
  const int bound_x = left + histogram_first_over_bound * bar;
  h << "<line x1=\"" << bound_x << "\" y1=\"" << top - 4 << "\" x2=\"" << bound_x << "\" y2=\"" << top + plot + 4
    << "\" class=\"bound\"/><text x=\"" << bound_x + 3 << "\" y=\"" << top + 6 << "\" class=\"b\">bound</text>"
    << "<text x=\"" << left << "\" y=\"" << height - 6 << "\" class=\"l0\">err/bound (log bins; bar height: log count)</text>"
    << "</svg>";
}

// Per-channel max err/bound of one output, on a log axis from 1e-6 to 1e4
// with the bound at 1.
void channel_svg(std::ostream& h, const output_errors& e) {
  const int channels = static_cast<int>(e.channel_max.size());
  constexpr int left = 44, top = 22, plot = 120, bottom = 24;
  const double bar = std::clamp(600.0 / channels, 1.0, 40.0);
  const int width = std::max(left + static_cast<int>(std::ceil(bar * channels)) + 10, 440);  // room for the title
  const int height = top + plot + bottom;
  const auto y_of = [&](double v) {  // log10 in [-6, 4] -> plot height
    const double l = v <= 0 ? -6.0 : std::isfinite(v) ? std::clamp(std::log10(v), -6.0, 4.0) : 4.0;
    return top + plot - (l + 6.0) / 10.0 * plot;
  };
  h << "<svg class=\"channels\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << " " << height << "\" role=\"img\">"
    << "<title>" << esc("max err/bound per channel of " + e.tensor) << "</title>"
    << "<text x=\"" << left << "\" y=\"14\" class=\"t\">" << esc(e.tensor) << ": max err/bound per channel ("
    << channels << " channels)</text>";
  for (int k : {-6, -3, 0, 3}) {
    const double y = y_of(std::pow(10.0, k));
    h << "<text x=\"" << left - 4 << "\" y=\"" << num("%.1f", y + 3) << "\" class=\"r\">1e" << k << "</text>";
  }
  for (int ch = 0; ch < channels; ++ch) {
    const double v = e.channel_max[ch];
    const double y = y_of(v);
    h << "<rect class=\"" << (v > 1 ? "over" : "under") << "\" x=\"" << num("%.2f", left + ch * bar) << "\" y=\""
      << num("%.2f", y) << "\" width=\"" << num("%.2f", std::max(bar - (bar > 3 ? 1 : 0), 0.5)) << "\" height=\""
      << num("%.2f", top + plot - y) << "\"><title>channel " << ch << ": " << esc(num("%.3g", v))
      << "</title></rect>";
  }
  const double bound_y = y_of(1.0);
  h << "<line x1=\"" << left << "\" y1=\"" << num("%.1f", bound_y) << "\" x2=\"" << width - 10 << "\" y2=\""
    << num("%.1f", bound_y) << "\" class=\"bound\"/><text x=\"" << width - 12 << "\" y=\"" << num("%.1f", bound_y - 3)
    << "\" class=\"r b\">bound</text>"
    << "<text x=\"" << left << "\" y=\"" << height - 6 << "\" class=\"l0\">channel 0 .. " << channels - 1
    << " (bound at 1 dashed)</text></svg>";
}

void worst_table(std::ostream& h, const check_result& r) {
  if (r.worst.empty()) return;
  h << "<table class=\"worst\"><caption>worst elements</caption><tr><th>element</th><th>expected</th><th>got</th>"
       "<th>ulps</th><th>relative</th><th>err/bound</th></tr>";
  for (const element_error& e : r.worst)
    h << "<tr class=\"" << (e.normalized > 1 ? "fail" : "pass") << "\"><td>" << esc(e.position) << "</td><td>"
      << esc(hex_float(e.expected)) << "</td><td>" << esc(hex_float(e.got)) << "</td><td>"
      << esc(num("%.3g", e.ulps)) << "</td><td>" << esc(num("%.3g", e.relative)) << "</td><td>"
      << esc(num("%.3g", e.normalized)) << "</td></tr>";
  h << "</table>";
}

void pictures(std::ostream& h, const check_result& r) {
  h << "<p class=\"stats\">" << r.checked << " elements checked, " << r.failed << " over bound";
  if (r.nans) h << " (" << r.nans << " NaN)";
  h << ", max err/bound " << esc(num("%.3g", r.max_normalized));
  if (!r.missing.empty()) h << "; missing outputs: " << esc(r.missing);
  h << "</p><div class=\"pictures\">";
  for (const output_errors& e : r.outputs) histogram_svg(h, e);
  h << "</div>";
  worst_table(h, r);
  bool any = false;
  for (const output_errors& e : r.outputs)
    if (e.failed > 0 && !e.channel_max.empty()) {
      if (!any) h << "<div class=\"pictures\">";
      any = true;
      channel_svg(h, e);
    }
  if (any) h << "</div>";
}

void detail(std::ostream& h, const outcome& o, const std::string& id) {
  h << "<section class=\"detail " << to_string(o.v) << "\" id=\"" << id << "\"><h3><span class=\"v "
    << to_string(o.v) << "\">" << verdict_word(o.v) << "</span> " << esc(o.name) << "</h3>";
  if (o.kind == outcome_kind::property)
    h << "<p>" << o.cases << " cases, " << o.skipped << " skipped by the kernel, " << o.shrinks << " shrinks, "
      << esc(num("%.2f", o.seconds)) << " s</p>";
  if (!o.problem_text.empty())
    h << "<p>" << (o.kind == outcome_kind::property ? "shrunk case" : "problem") << ": <code>" << esc(o.problem_text)
      << "</code></p>";
  if (!o.known_deviation.empty()) h << "<p>known deviation: " << esc(o.known_deviation) << "</p>";
  if (!o.skip_reason.empty()) h << "<p>" << esc(o.skip_reason) << "</p>";
  if (!o.repro.empty() || !o.reproduce.empty()) {
    h << "<p>reproduce:</p>";
    for (const std::string& r : o.repro) h << "<pre class=\"repro\"><code>" << esc(r) << "</code></pre>";
    if (!o.reproduce.empty())
      h << "<pre class=\"repro\"><code>RC_PARAMS=\"reproduce=" << esc(o.reproduce) << "\"</code></pre>";
  }
  if (o.check) pictures(h, *o.check);
  if (!o.report.empty())
    h << "<details><summary>full report</summary><pre>" << esc(o.report) << "</pre></details>";
  h << "</section>\n";
}

constexpr const char* style = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}
h1{font-size:22px}h2{font-size:18px;margin-top:28px}h3{font-size:16px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}
th{background:#eee}td.num{text-align:right}
code,pre{font-family:ui-monospace,monospace;font-size:12px}
pre.repro{background:#f4f4f4;border:1px solid #bbb;padding:6px;white-space:pre-wrap;word-break:break-all;user-select:all}
.v{padding:1px 6px;border-radius:3px;color:#fff;font-weight:bold}
.v.pass{background:#2e7d32}.v.fail{background:#c62828}.v.skip{background:#757575}.v.known{background:#ef6c00}
tr.fail td{background:#fdecea}tr.known td{background:#fff3e0}
section.detail{border-left:4px solid #c62828;padding-left:12px;margin:18px 0}
section.detail.pass,section.detail.skip{border-left-color:#2e7d32}section.detail.known{border-left-color:#ef6c00}
.pictures{display:flex;flex-wrap:wrap;gap:12px}
svg{background:#fafafa;border:1px solid #ddd}
svg .under{fill:#4682b4}svg .over{fill:#c62828}svg .exact{fill:#9e9e9e}
svg .axis{stroke:#555}svg .bound{stroke:#c62828;stroke-dasharray:4 3;stroke-width:1.5}
svg text{font:10px sans-serif;fill:#333}svg .t{font-size:12px;font-weight:bold}
svg .l,svg .n{text-anchor:middle}svg .r{text-anchor:end}svg .b{fill:#c62828}
)";

}  // namespace

std::string html_report(const run_info& run, const std::vector<suite>& suites) {
  std::ostringstream h;
  int pass = 0, fail = 0, skip = 0, known = 0;
  for (const suite& s : suites)
    for (const outcome& o : s.outcomes)
      (o.v == verdict::pass ? pass : o.v == verdict::fail ? fail : o.v == verdict::skip ? skip : known)++;
  h << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
    << "<meta name=\"viewport\" content=\"width=device-width\"/><title>bncheck: " << esc(run.kernel)
    << "</title><style>" << style << "</style></head><body>\n";
  h << "<h1><span class=\"v " << (fail ? "fail" : "pass") << "\">" << (fail ? "FAIL" : "pass")
    << "</span> bncheck run: kernel " << esc(run.kernel) << "</h1>\n<p>" << pass << " passed, " << fail
    << " failed, ";
  if (known) h << known << " known deviations, ";
  h << skip << " skipped";
  if (!run.seed.empty()) h << "; property seed " << esc(run.seed);
  if (!run.shard.empty()) h << "; shard " << esc(run.shard);
  if (run.isolated) h << "; each call isolated, timeout " << esc(num("%g", run.timeout_seconds)) << " s";
  h << "</p>\n";
  for (std::size_t si = 0; si < suites.size(); ++si) {
    const suite& s = suites[si];
    const bool props = s.name == "properties";
    h << "<h2>" << esc(s.name) << "</h2>\n<table class=\"run\"><tr><th>" << (props ? "property" : "case")
      << "</th><th>result</th>";
    if (props) h << "<th>cases</th><th>skipped</th><th>shrinks</th>";
    h << "<th>err/bound</th><th>worst</th><th>seconds</th><th>problem</th></tr>\n";
    for (std::size_t i = 0; i < s.outcomes.size(); ++i) {
      const outcome& o = s.outcomes[i];
      const std::string id = "o-" + std::to_string(si) + "-" + std::to_string(i);
      h << "<tr class=\"" << to_string(o.v) << "\"><td>";
      if (detailed(o)) h << "<a href=\"#" << id << "\">" << esc(o.name) << "</a>";
      else h << esc(o.name);
      h << "</td><td><span class=\"v " << to_string(o.v) << "\">" << verdict_word(o.v) << "</span></td>";
      if (props)
        h << "<td class=\"num\">" << o.cases << "</td><td class=\"num\">" << o.skipped << "</td><td class=\"num\">"
          << o.shrinks << "</td>";
      h << "<td class=\"num\">" << (o.check ? esc(num("%.3g", o.max_normalized)) : "-") << "</td><td>"
        << esc(o.worst_tensor) << "</td><td class=\"num\">" << esc(num("%.3f", o.seconds)) << "</td><td><code>"
        << esc(o.problem_text) << "</code></td></tr>\n";
    }
    h << "</table>\n";
    for (std::size_t i = 0; i < s.outcomes.size(); ++i)
      if (detailed(s.outcomes[i])) detail(h, s.outcomes[i], "o-" + std::to_string(si) + "-" + std::to_string(i));
  }
  h << "</body></html>\n";
  return h.str();
}

}  // namespace bncheck::report
