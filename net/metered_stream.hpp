// The layer under a client's WebSocket that counts the bytes the client
// sends, and fails the read once it sends more than a well-behaved client
// could: the frame budget's worth of the largest messages allowed.
//
// The frame budget (frame_budget.hpp) counts the frames the session gets
// to see, but Beast consumes some frames inside its read without ever
// completing it: an empty fragment of a message adds nothing to it, so a
// client streaming empty non-final frames at line rate keeps a core busy
// unpacking them while the session sees nothing. Counting bytes below the
// WebSocket layer covers that and any other such frame, whatever Beast
// does with it.
//
// Over its budget the client is dropped, not closed with 1008: a close
// handshake would have Beast read (and unpack) the client's flood until
// the close timeout. The read fails with
// client_error::sent_too_many_bytes.
//
// `Next` is what the WebSocket would otherwise run on (transport.hpp).
// Costs a socket sixteen bytes.
#pragma once

#include <cstddef>
#include <system_error>
#include <type_traits>
#include <utility>

#include <boost/asio/async_result.hpp>
#include <boost/beast/core/async_base.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <boost/system/error_code.hpp>

#include "net/asio.hpp"
#include "net/frame_budget.hpp"
#include "net/token_bucket.hpp"

namespace batchcast::net {

// How reads on a metered_stream fail.
enum class client_error {
  sent_too_many_bytes = 1,
};

const boost::system::error_category& client_error_category();
error_code make_error_code(client_error e);

}  // namespace batchcast::net

template <>
struct boost::system::is_error_code_enum<batchcast::net::client_error>
    : std::true_type {};

namespace batchcast::net {

// The most a WebSocket frame header takes: two bytes, eight of length
// and four of mask.
inline constexpr std::size_t max_frame_header_bytes = 14;

template <class Next>
class metered_stream {
 public:
  using executor_type = typename Next::executor_type;

  // `largest_message` is the most a client message may hold, in bytes:
  // the budget is frame_budget's burst and rate of frames that size.
  metered_stream(Next next, std::size_t largest_message)
      : next_{std::move(next)},
        bytes_per_frame_{
            static_cast<float>(largest_message + max_frame_header_bytes)} {}

  // What the budget allows, for logs: the burst and the rate, in bytes.
  std::size_t burst_bytes() const {
    return static_cast<std::size_t>(frame_budget::burst * bytes_per_frame_);
  }
  std::size_t bytes_per_second() const {
    return static_cast<std::size_t>(frame_budget::per_second *
                                    bytes_per_frame_);
  }

  executor_type get_executor() noexcept { return next_.get_executor(); }
  Next& next_layer() noexcept { return next_; }
  const Next& next_layer() const noexcept { return next_; }

  template <class MutableBuffers, class ReadHandler>
  auto async_read_some(const MutableBuffers& buffers, ReadHandler&& handler) {
    return asio::async_initiate<ReadHandler, void(error_code, std::size_t)>(
        [this](auto&& ready, const MutableBuffers& into) {
          using handler_type = std::decay_t<decltype(ready)>;
          read_op<handler_type>{std::forward<decltype(ready)>(ready), *this,
                                into};
        },
        handler, buffers);
  }

  // Writes are not metered: they are ours.
  template <class ConstBuffers, class WriteHandler>
  auto async_write_some(const ConstBuffers& buffers, WriteHandler&& handler) {
    return next_.async_write_some(buffers, std::forward<WriteHandler>(handler));
  }

 private:
  // Reads from the next layer, then charges what came in.
  template <class Handler>
  class read_op : public beast::async_base<Handler, executor_type> {
   public:
    template <class MutableBuffers>
    read_op(Handler&& handler, metered_stream& stream,
            const MutableBuffers& buffers)
        : beast::async_base<Handler, executor_type>{std::move(handler),
                                                    stream.get_executor()},
          stream_{stream} {
      stream_.next_.async_read_some(buffers, std::move(*this));
    }

    void operator()(error_code ec, std::size_t bytes) {
      if (!ec && !stream_.charge(bytes))
        ec = client_error::sent_too_many_bytes;
      this->complete_now(ec, bytes);
    }

   private:
    metered_stream& stream_;
  };

  bool charge(std::size_t bytes) {
    return budget_.take(token_bucket::clock::now(), static_cast<float>(bytes),
                        {frame_budget::burst * bytes_per_frame_,
                         frame_budget::per_second * bytes_per_frame_});
  }

  Next next_;
  float bytes_per_frame_;
  token_bucket budget_;
};

// The WebSocket's closing handshake ends the layer underneath as it would
// without the meter.
template <class Next>
void teardown(beast::role_type role, metered_stream<Next>& stream,
              error_code& ec) {
  using beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

template <class Next, class TeardownHandler>
void async_teardown(beast::role_type role, metered_stream<Next>& stream,
                    TeardownHandler&& handler) {
  using beast::websocket::async_teardown;
  async_teardown(role, stream.next_layer(),
                 std::forward<TeardownHandler>(handler));
}

// See transport.hpp.
template <class Next, class Done>
void end_connection(metered_stream<Next>& stream, Done done) {
  end_connection(stream.next_layer(), std::move(done));
}

}  // namespace batchcast::net
