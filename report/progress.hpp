// Progress of a long property run on a terminal: one line redrawn in place
// ("property NAME: 120/300 cases, 12.3 s elapsed, ~18 s left"), never
// written to a pipe, a CI log or under --quiet.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

namespace bncheck::report {

/// Whether progress lines belong on standard output: it is a terminal, TERM
/// is not "dumb", CI is not set (CI logs keep every byte), and not quiet.
bool progress_wanted(bool quiet);

class progress_line {
 public:
  /// Draws on out only when enabled (progress_wanted).
  progress_line(std::ostream& out, bool enabled) : out_(out), enabled_(enabled) {}
  ~progress_line() { clear(); }
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;

  /// done of total cases of property `name` are checked; the clock of a
  /// property starts at its first update. Redraws at most ten times a second.
  void update(const std::string& name, int done, int total);
  /// Erases the line, so that what is printed next starts on a clean line.
  void clear();

 private:
  using clock = std::chrono::steady_clock;
  std::ostream& out_;
  bool enabled_;
  bool drawn_ = false;
  std::string name_;
  clock::time_point start_{}, last_draw_{};
};

/// The line's text: "property NAME: DONE/TOTAL cases, E s elapsed, ~L s left"
/// (the estimate assumes the remaining cases take as long as the done ones).
std::string progress_text(const std::string& name, int done, int total, double elapsed_seconds);

}  // namespace bncheck::report
