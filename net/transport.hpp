// The two transports a listener can speak, and the few steps where they
// differ. Sessions are templates over the stream type and call these
// helpers, so the session logic is written once and the plain
// instantiation holds exactly what it held before TLS existed (an idle
// plain WebSocket costs no byte more for TLS being possible).
//
//   plain_stream  TCP with a deadline (beast::tcp_stream)
//   tls_stream    TLS over the same (OpenSSL through beast::ssl_stream)
//
// After the upgrade a WebSocket keeps its own timers, so the layer under
// it drops the deadline: a bare socket for plain connections, the TLS
// stream (its TCP deadline switched off) for TLS ones.
#pragma once

#include <type_traits>
#include <utility>

#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
// Declares the TLS teardown a WebSocket close runs on a tls_stream.
#include <boost/beast/websocket/ssl.hpp>

#include "net/asio.hpp"

namespace batchcast::net {

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

template <class Stream>
constexpr bool is_tls = std::is_same_v<Stream, tls_stream>;

// A new connection's stream, built where it is returned: a tcp_stream
// must not be moved, since moving one allocates its state anew, which an
// idle connection would pay for. `tls` is the listener's context (unused,
// and may be null, for plain_stream).
template <class Stream>
Stream open_stream(tcp::socket socket, asio::ssl::context* tls) {
  if constexpr (is_tls<Stream>)
    return Stream{std::move(socket), *tls};
  else
    return Stream{std::move(socket)};
}

// The layer a WebSocket runs on once `stream` has carried the upgrade
// request. Leaves `stream` empty.
inline tcp::socket hand_over(plain_stream& stream) {
  return stream.release_socket();
}
inline tls_stream hand_over(tls_stream& stream) {
  beast::get_lowest_layer(stream).expires_never();
  return std::move(stream);
}

template <class Stream>
using websocket_layer_t = decltype(hand_over(std::declval<Stream&>()));

// The descriptor under any of the layers above, to close it at once.
inline tcp::socket& socket_of(tcp::socket& socket) {
  return socket;
}
inline tcp::socket& socket_of(beast::tcp_stream& stream) {
  return stream.socket();
}
inline tcp::socket& socket_of(tls_stream& stream) {
  return beast::get_lowest_layer(stream).socket();
}

// Ends a connection after its last response. Plain TCP half-closes at
// once (the peer sees the end of the response, nothing is reset). TLS
// first says so in the protocol (close_notify) and waits for the peer's
// answer, bounded by whatever deadline the caller has armed: the stream's
// expiry or the session's timer. Either way the socket is closed before
// `done` runs; `done` should hold the session.
template <class Done>
void end_connection(tcp::socket& socket, Done done) {
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
  done();
}

template <class Done>
void end_connection(beast::tcp_stream& stream, Done done) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
  done();
}

template <class Done>
void end_connection(tls_stream& stream, Done done) {
  stream.async_shutdown([&stream, done = std::move(done)](error_code) mutable {
    error_code ignored;
    socket_of(stream).close(ignored);
    done();
  });
}

}  // namespace batchcast::net
