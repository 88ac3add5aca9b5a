#include "net/spare_descriptor.hpp"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>

namespace batchcast::net {

spare_descriptor::spare_descriptor(std::string refusal)
    : refusal_{std::move(refusal)} {
  open();
}

spare_descriptor::~spare_descriptor() {
  if (descriptor_ >= 0)
    ::close(descriptor_);
}

bool spare_descriptor::is_out_of_descriptors(const error_code& ec) {
  return ec == asio::error::no_descriptors ||
         ec == error_code{ENFILE, asio::error::get_system_category()};
}

bool spare_descriptor::open() {
  descriptor_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  return descriptor_ >= 0;
}

bool spare_descriptor::refuse_one(tcp::acceptor& acceptor) {
  if (descriptor_ < 0)
    return false;
  ::close(descriptor_);
  descriptor_ = -1;

  // The accept may not block the listener's thread: an empty backlog
  // answers would_block.
  error_code ec;
  acceptor.non_blocking(true, ec);
  tcp::socket refused{acceptor.get_executor()};
  if (!ec)
    acceptor.accept(refused, ec);
  if (!ec)
    refuse_at_once(refused, refusal_);
  bool accepted = !ec;
  return open() && accepted;
}

void refuse_at_once(tcp::socket& socket, const std::string& refusal) {
  // A full send buffer must not block the caller's thread: it gets a
  // short write instead.
  error_code ec;
  socket.non_blocking(true, ec);
  // What the client already sent is read and dropped: closing with unread
  // bytes would reset the connection, and the client could lose the
  // refusal with it.
  char request[4096];
  error_code ignored;
  socket.read_some(asio::buffer(request), ignored);
  if (!ec && !refusal.empty())
    socket.write_some(asio::buffer(refusal), ignored);
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

}  // namespace batchcast::net
