// Reads a whole file that is meant to be small (a secret, a key, a config
// file) into memory, refusing to read past a limit. Without one, a path
// such as /dev/zero or a runaway generator would make a start-up read
// grow without end. Pipes and FIFOs are read like files, so
// `--secret-key-file <(pass show ...)` and systemd credentials work; a
// FIFO nobody writes to blocks, as it would for `cat`.
#pragma once

#include <cstddef>
#include <string>

namespace batchcast {

// Limits the callers use: a secret, token or private key is a few hundred
// bytes; a certificate chain or a config file a few kilobytes.
inline constexpr std::size_t secret_file_limit = 64 * 1024;
inline constexpr std::size_t text_file_limit = 1024 * 1024;

// The contents of `path`, which is the `what` ("secret file", "TLS key
// file") a message names. Throws std::runtime_error saying which file
// and why: "cannot read secret file /x: larger than 65536 bytes".
std::string read_small_file(const std::string& path, std::size_t max_bytes,
                            const std::string& what);

}  // namespace batchcast
