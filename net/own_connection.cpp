#include "net/own_connection.hpp"

#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
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

// Copies an address into a socket diagnostics id's 128-bit field, as
// the kernel reads it: an IPv4 address in its first word.
void put_address(const asio::ip::address& address, __be32 (&field)[4]) {
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    std::memcpy(field, bytes.data(), bytes.size());
  } else {
    auto bytes = address.to_v6().to_bytes();
    std::memcpy(field, bytes.data(), bytes.size());
  }
}

// The kernel's socket diagnostics (NETLINK_SOCK_DIAG) find the one TCP
// socket whose local end is `local` and remote end `remote` by its
// address: the cost does not grow with the sockets open on the machine.
// Nullopt when the kernel does not answer (an old or confined kernel);
// empty when no such socket is open, or it is closing.
std::optional<std::string> socket_inode_by_diag(const tcp::endpoint& local,
                                                const tcp::endpoint& remote,
                                                std::string& why) {
  int diag = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (diag < 0) {
    why = std::string{"no socket diagnostics: "} + std::strerror(errno);
    return std::nullopt;
  }
  struct closer {
    int fd;
    ~closer() { ::close(fd); }
  } closing{diag};
  // The kernel answers an exact lookup at once; this only bounds a
  // kernel that never does.
  timeval patience{1, 0};
  ::setsockopt(diag, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);

  struct {
    nlmsghdr header;
    inet_diag_req_v2 body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST;
  request.body.sdiag_family = local.address().is_v4() ? AF_INET : AF_INET6;
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.idiag_states = ~0U;
  request.body.id.idiag_sport = htons(local.port());
  request.body.id.idiag_dport = htons(remote.port());
  put_address(local.address(), request.body.id.idiag_src);
  put_address(remote.address(), request.body.id.idiag_dst);
  request.body.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.body.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(diag, &request, sizeof request, 0,
               reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0) {
    why = std::string{"socket diagnostics refused: "} + std::strerror(errno);
    return std::nullopt;
  }
  alignas(nlmsghdr) char answer[8192];
  auto size = ::recv(diag, answer, sizeof answer, 0);
  if (size < 0) {
    why = std::string{"socket diagnostics did not answer: "} +
          std::strerror(errno);
    return std::nullopt;
  }
  auto* header = reinterpret_cast<const nlmsghdr*>(answer);
  if (!NLMSG_OK(header, static_cast<unsigned>(size))) {
    why = "socket diagnostics answered in a form not understood";
    return std::nullopt;
  }
  if (header->nlmsg_type == NLMSG_ERROR) {
    auto* error = static_cast<const nlmsgerr*>(NLMSG_DATA(header));
    if (error->error == -ENOENT)
      return std::string{};
    why = std::string{"socket diagnostics failed: "} +
          std::strerror(-error->error);
    return std::nullopt;
  }
  if (header->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
      header->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
    why = "socket diagnostics answered in a form not understood";
    return std::nullopt;
  }
  auto* found = static_cast<const inet_diag_msg*>(NLMSG_DATA(header));
  // With no connection of these ends the kernel falls back to a socket
  // listening at `local`, which is not the client end.
  if (found->idiag_state != TCP_ESTABLISHED ||
      found->id.idiag_sport != htons(local.port()) ||
      found->id.idiag_dport != htons(remote.port()))
    return std::string{};
  return std::to_string(found->idiag_inode);
}

// The inode of the socket whose local end is `local` and remote end
// `remote`, from /proc/net/tcp or tcp6; empty when none is listed. This
// reads the whole table, every TCP socket of the machine (thousands
// while a flood's connections wait out TIME_WAIT): the fallback for
// kernels without socket diagnostics.
std::optional<std::string> socket_inode_by_table(const tcp::endpoint& local,
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

connection_owner owner_of(const tcp::socket& accepted, std::string& why,
                          socket_lookup how) {
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
  std::optional<std::string> inode;
  if (how == socket_lookup::best_available)
    inode = socket_inode_by_diag(client, gate, why);
  if (!inode)
    inode = socket_inode_by_table(client, gate, why);
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
