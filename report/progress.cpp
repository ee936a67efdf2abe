// The progress line: '\r', the text, and an erase to the end of the line.
#include "report/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>

namespace bncheck::report {

bool progress_wanted(bool quiet) {
  if (quiet || !isatty(STDOUT_FILENO)) return false;
  const char* term = std::getenv("TERM");
  if (term && std::strcmp(term, "dumb") == 0) return false;
  const char* ci = std::getenv("CI");
  return !(ci && *ci);
}

std::string progress_text(const std::string& name, int done, int total, double elapsed_seconds) {
  char text[256];
  int n = std::snprintf(text, sizeof text, "property %s: %d/%d cases, %.1f s elapsed", name.c_str(), done, total,
                        elapsed_seconds);
  if (done > 0 && done < total && n > 0 && n < static_cast<int>(sizeof text))
    std::snprintf(text + n, sizeof text - n, ", ~%.0f s left", elapsed_seconds / done * (total - done));
  return text;
}

void progress_line::update(const std::string& name, int done, int total) {
  if (!enabled_) return;
  const clock::time_point now = clock::now();
  if (name != name_) {
    name_ = name;
    start_ = now;
    last_draw_ = {};
  }
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && done < total) return;
  last_draw_ = now;
  out_ << '\r' << progress_text(name, done, total, std::chrono::duration<double>(now - start_).count()) << "\x1b[K";
  out_.flush();
  drawn_ = true;
}

void progress_line::clear() {
  if (!drawn_) return;
  out_ << "\r\x1b[K";
  out_.flush();
  drawn_ = false;
}

}  // namespace bncheck::report
