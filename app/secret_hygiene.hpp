// Warnings at start about secrets an operator has left easy to take: a
// file any local user can read, a token short enough to guess. They are
// warnings, not refusals: the service still works, and a fix may need a
// maintenance window.
#pragma once

#include <string>

namespace batchcast::app {

// Warns when the file at `path` (a secret key, a token, a TLS private
// key, the state database) can be read by every user of the machine.
// Nothing for an empty path, a file that cannot be examined (reading it
// reports that), or anything but a regular file (a device, a FIFO, a
// folder: the caller refuses what it cannot use).
void warn_if_anyone_can_read(const std::string& path, const std::string& what);

// Warns when `token` is shorter than a token made of random bytes should
// be: anyone who reaches the listener could try them all.
void warn_if_short(const std::string& token, const std::string& what);

}  // namespace batchcast::app
