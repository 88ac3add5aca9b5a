// Whether a loopback connection accepted here was made by this very
// process: its client end is one of this process's own descriptors.
//
// Why: a dial gate greets the peer with the cluster secret on behalf of
// whatever connects to it, and it listens on 127.0.0.1, where every
// process of the machine can connect. Only this node's middleman may
// borrow the secret that way; another local process must not reach the
// other nodes through it.
//
// Linux only: it asks the kernel's socket diagnostics for the client
// end's socket inode (or, where those are missing, finds it in
// /proc/net/tcp or tcp6, which lists every TCP socket of the machine)
// and looks for that inode among /proc/self/fd. The kernel's lookup
// costs the same whatever else is open; reading /proc/self/fd grows with
// this process's descriptors, a few milliseconds with tens of thousands
// of connections open. A dial gate looks up each connection it accepts,
// so a local flood of it costs that much per connection.
#pragma once

#include <string>

#include "net/asio.hpp"

namespace batchcast::net {

enum class connection_owner {
  this_process,
  another_process,
  gone,     // the client end closed before it could be looked up
  unknown,  // neither lookup could be made; `why` says what
};

// Where the client end's socket is looked up.
enum class socket_lookup {
  // The kernel's socket diagnostics, and /proc/net/tcp when they fail.
  best_available,
  // /proc/net/tcp alone: what a kernel without socket diagnostics gets,
  // for tests of that path.
  table_only,
};

// Whose is the client end of `accepted`, a connection on loopback.
connection_owner owner_of(const tcp::socket& accepted, std::string& why,
                          socket_lookup how = socket_lookup::best_available);

}  // namespace batchcast::net
