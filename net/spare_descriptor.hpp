// A descriptor kept open (on /dev/null) so that a listener whose process
// ran out of descriptors (EMFILE, ENFILE) can still tell the client
// waiting in its backlog why, instead of leaving it hanging until some
// other descriptor closes: the spare is closed to free a number, one
// connection is accepted on it, answered with a fixed refusal (a 503) and
// closed, and the spare is opened again.
//
// Used on the listener's strand only; not thread-safe.
#pragma once

#include <string>

#include "net/asio.hpp"

namespace batchcast::net {

// Writes `refusal` to a freshly accepted `socket` as far as its send
// buffer takes it (a short answer fits whole) and closes the socket,
// without ever waiting: whatever the client has sent so far is read and
// dropped, nothing more is read. Empty `refusal`: closed without a word.
void refuse_at_once(tcp::socket& socket, const std::string& refusal);

class spare_descriptor {
 public:
  // Opens the spare; stays without one when that fails (then refuse_one
  // does nothing). `refusal` is the bytes written to each connection
  // refused this way, as far as its send buffer takes them without
  // waiting (a short answer fits whole); empty: closed without a word.
  explicit spare_descriptor(std::string refusal);
  ~spare_descriptor();
  spare_descriptor(const spare_descriptor&) = delete;
  spare_descriptor& operator=(const spare_descriptor&) = delete;

  // True when `ec` (from an accept) means the process is out of
  // descriptors, the case refuse_one is for.
  static bool is_out_of_descriptors(const error_code& ec);

  // Frees the spare, accepts one pending connection on `acceptor` without
  // waiting, writes the refusal to it without waiting, closes it, and
  // opens the spare again. True when a connection was refused and the
  // spare is back, so the caller may accept again at once; false when
  // there was no spare, no connection was pending, or the spare could not
  // be opened again (another thread took the number): then the caller
  // backs off as before.
  bool refuse_one(tcp::acceptor& acceptor);

 private:
  bool open();

  std::string refusal_;
  int descriptor_ = -1;
};

}  // namespace batchcast::net
