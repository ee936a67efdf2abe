// The characters XML 1.0 (and so the HTML and JUnit reports) may hold: a
// text from a kernel or a file can hold anything, and each renderer
// replaces what is not one.
#pragma once

#include <cstddef>
#include <string>

namespace bncheck::report {

/// Length of the valid UTF-8 sequence at s[i] if it encodes a character
/// XML 1.0 allows (tab, newline, carriage return, U+0020 and up but for
/// DEL, the surrogates, U+FFFE and U+FFFF), else 0.
std::size_t xml_char_length(const std::string& s, std::size_t i);

}  // namespace bncheck::report
