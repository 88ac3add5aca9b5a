// Untrusted text made safe to print on an operator's terminal or to write
// into a log: a hostile or broken server or peer could otherwise move the
// cursor, retitle the window, hide lines with escape sequences or, in a
// log, start a line of its own that looks like the node's.
#pragma once

#include <string>
#include <string_view>

namespace batchcast {

// `text` with every control character but the line feed written as \xNN:
// C0 controls (ESC, carriage return, backspace, ...), DEL, C1 controls in
// their UTF-8 form (U+0080 to U+009F, such as the one-byte CSI) and bytes
// that are not UTF-8, which some terminals take for C1 controls. Other
// text, UTF-8 included, is left as it is.
std::string printable(std::string_view text);

// As printable, but the line feed is written as \x0a too, so the result
// is always one line: for log lines, which must not be forged by what
// they quote.
std::string one_line(std::string_view text);

}  // namespace batchcast
