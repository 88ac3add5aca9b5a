#include "net/own_connection.hpp"

#include <dirent.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace batchcast::net {

namespace {

// An endpoint as /proc/net/tcp writes it: the address's bytes as
// 32-bit words in the machine's order (x86: each word's bytes reversed),
// then the port, in upper-case hex.
std::string proc_net_form(const tcp::endpoint& endpoint) {
  std::string out;
  char hex[9];
  auto address = endpoint.address();
  auto word = [&](const unsigned char* bytes) {
    std::uint32_t value = 0;
    std::memcpy(&value, bytes, 4);  // as the kernel prints a __be32 word
    std::snprintf(hex, sizeof hex, "%08X", value);
    out += hex;
  };
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    word(bytes.data());
  } else {
    auto bytes = address.to_v6().to_bytes();
    for (std::size_t at = 0; at < bytes.size(); at += 4)
      word(bytes.data() + at);
  }
  std::snprintf(hex, sizeof hex, "%04X", endpoint.port());
  return out + ":" + hex;
}

// The inode of the socket whose local end is `local` and remote end
// `remote`, from /proc/net/tcp or tcp6; empty when none is listed.
std::optional<std::string> socket_inode(const tcp::endpoint& local,
                                        const tcp::endpoint& remote,
                                        std::string& why) {
  const char* table =
      local.address().is_v4() ? "/proc/net/tcp" : "/proc/net/tcp6";
  std::ifstream in{table};
  if (!in) {
    why = std::string{"cannot read "} + table;
    return std::nullopt;
  }
  auto wanted_local = proc_net_form(local);
  auto wanted_remote = proc_net_form(remote);
  std::string line;
  std::getline(in, line);  // the column names
  while (std::getline(in, line)) {
    std::istringstream fields{line};
    std::string slot, local_field, remote_field, skipped, inode;
    fields >> slot >> local_field >> remote_field;
    if (local_field != wanted_local || remote_field != wanted_remote)
      continue;
    // st, tx_queue:rx_queue, tr:tm->when, retrnsmt, uid, timeout, inode
    for (int i = 0; i < 6; ++i)
      fields >> skipped;
    fields >> inode;
    return inode;
  }
  return std::string{};
}

// Whether "socket:[inode]" is among this process's descriptors.
std::optional<bool> holds_socket(const std::string& inode, std::string& why) {
  DIR* folder = ::opendir("/proc/self/fd");
  if (folder == nullptr) {
    why = "cannot read /proc/self/fd";
    return std::nullopt;
  }
  auto wanted = "socket:[" + inode + "]";
  std::array<char, 64> target{};
  bool found = false;
  while (auto* entry = ::readdir(folder)) {
    auto path = std::string{"/proc/self/fd/"} + entry->d_name;
    auto size = ::readlink(path.c_str(), target.data(), target.size());
    if (size > 0 && wanted.compare(0, std::string::npos, target.data(),
                                   static_cast<std::size_t>(size)) == 0) {
      found = true;
      break;
    }
  }
  ::closedir(folder);
  return found;
}

}  // namespace

connection_owner owner_of(const tcp::socket& accepted, std::string& why) {
  error_code client_ec;
  error_code gate_ec;
  auto client = accepted.remote_endpoint(client_ec);
  auto gate = accepted.local_endpoint(gate_ec);
  if (client_ec || gate_ec) {
    why = "the connection is gone: " +
          (client_ec ? client_ec : gate_ec).message();
    return connection_owner::gone;
  }
  // The client end is listed with the client's address as its local one.
  auto inode = socket_inode(client, gate, why);
  if (!inode)
    return connection_owner::unknown;
  if (inode->empty() || *inode == "0") {
    why = "its client end is not listed (closed meanwhile)";
    return connection_owner::gone;
  }
  auto held = holds_socket(*inode, why);
  if (!held)
    return connection_owner::unknown;
  return *held ? connection_owner::this_process
               : connection_owner::another_process;
}

}  // namespace batchcast::net
