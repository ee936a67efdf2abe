// A word as a POSIX shell reads it back: REPRO lines name kernels such as
// 'exec:python3 kernel.py' that hold blanks or quotes.
#pragma once

#include <string>

namespace bncheck {

/// s unchanged when it is made only of letters, digits and _ - . / : = + , @
/// (every built-in kernel name and most paths); else in single quotes, with
/// each ' written as '\''.
std::string shell_quote(const std::string& s);

}  // namespace bncheck
