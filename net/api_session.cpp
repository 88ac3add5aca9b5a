#include "net/api_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>

#include "net/fail.hpp"
#include "net/head_response.hpp"

namespace batchcast::net {

namespace {

constexpr std::uint32_t header_limit = 8 * 1024;

bool is_malformed_request(const error_code& ec) {
  static const auto& http_errors =
      http::make_error_code(http::error::bad_target).category();
  return ec.category() == http_errors && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

// Whether the request names a transfer coding other than a single
// `chunked`. Beast reads a body only when chunked is the last coding; for
// any other it takes the body to be empty, so what the client sent as its
// body would be read as a next request and answered a second time. RFC
// 9112 6.1 has a server answer a coding it does not know with 501.
bool has_unsupported_transfer_coding(const http::request_header<>& header) {
  std::size_t codings = 0;
  bool only_chunked = true;
  auto fields = header.equal_range(http::field::transfer_encoding);
  for (auto field = fields.first; field != fields.second; ++field)
    for (auto coding : http::token_list{field->value()}) {
      ++codings;
      only_chunked = only_chunked && beast::iequals(coding, "chunked");
    }
  return fields.first != fields.second && (codings != 1 || !only_chunked);
}

}  // namespace

template <class Stream>
api_session<Stream>::api_session(tcp::socket socket, asio::ssl::context* tls,
                                 std::shared_ptr<const publish_api> api,
                                 std::shared_ptr<api_gate> gate,
                                 api_limits limits,
                                 std::shared_ptr<metrics> counters,
                                 std::shared_ptr<request_tally> requests,
                                 std::uint64_t connection_id, std::string peer,
                                 connection_limits::slot slot)
    : executor_{socket.get_executor()},
      stream_{open_stream<Stream>(std::move(socket), tls)},
      api_{std::move(api)},
      gate_{std::move(gate)},
      limits_{limits},
      counters_{std::move(counters)},
      requests_{std::move(requests)},
      connection_id_{connection_id},
      peer_{std::move(peer)},
      slot_{std::move(slot)} {}

template <class Stream>
void api_session<Stream>::start() {
  if constexpr (is_tls<Stream>) {
    beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](error_code ec) {
                              self->on_tls_handshake(ec);
                            });
  } else {
    do_read();
  }
}

template <class Stream>
void api_session<Stream>::on_tls_handshake(error_code ec) {
  if (ec) {
    tls_handshake_failed(connection_id_, peer_, ec);
    return;
  }
  do_read();
}

template <class Stream>
void api_session<Stream>::do_read() {
  parser_.emplace();
  parser_->header_limit(header_limit);
  parser_->body_limit(limits_.max_body_bytes);
  // Covers a slow request and an idle keep-alive connection alike.
  beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_header(ec, bytes);
      });
}

template <class Stream>
void api_session<Stream>::on_header(error_code ec, std::size_t) {
  if (ec)
    return answer_error(ec);

  const auto& header = parser_->get().base();
  // Closed after the answer: where this request's body ends is unknown.
  if (has_unsupported_transfer_coding(header))
    return write(publish_api::error(
        http::status::not_implemented,
        "unsupported Transfer-Encoding; send the body with Content-Length "
        "or chunked",
        header.version(), false));
  std::optional<std::uint64_t> length;
  if (auto announced = parser_->content_length())
    length = *announced;
  if (auto early = api_->check_header(header, length, peer_))
    return write(std::move(*early));

  if (expects_continue(header)) {
    continue_.emplace(http::status::continue_, header.version());
    http::async_write(
        stream_, *continue_,
        [self = shared_from_this()](error_code ec, std::size_t bytes) {
          self->on_continue(ec, bytes);
        });
    return;
  }
  do_read_body();
}

template <class Stream>
void api_session<Stream>::on_continue(error_code ec, std::size_t) {
  continue_.reset();
  if (ec)
    return fail(connection_id_, "writing 100-continue", ec);
  do_read_body();
}

template <class Stream>
void api_session<Stream>::do_read_body() {
  http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_body(ec, bytes);
      });
}

template <class Stream>
void api_session<Stream>::on_body(error_code ec, std::size_t) {
  if (ec)
    return answer_error(ec);

  // The point of no return: handed on, a publish may commit. Once the
  // server stops taking requests it is refused instead, not stored, so
  // the producer knows to send it again.
  auto ticket = requests_->try_begin();
  if (!ticket)
    return write(publish_api::error(
        http::status::service_unavailable,
        "the server is stopping; nothing was stored: send the request again "
        "(to another node, or once this one is back)",
        parser_->get().version(), false));
  answering_ = std::move(*ticket);
  hold_for_answer();
  auto request = parser_->release();
  parser_.reset();
  bool head = request.method() == http::verb::head;
  api_->handle(request, peer_,
               [gate = gate_, self = this, head](publish_api::response answer) {
                 if (head)
                   drop_body_for_head(answer);
                 gate->deliver(self, std::move(answer));
               });
}

// The answer comes back from this thread or a CAF one; the stream is
// touched only on its strand, reached through the gate, which also keeps
// this session alive until then. The gate closes only after the I/O
// threads stopped, so it never refuses here.
template <class Stream>
void api_session<Stream>::hold_for_answer() {
  gate_->hold(
      this, [self = shared_from_this()](publish_api::response answer) mutable {
        // The session moves into the handler, so nothing of it is left on
        // the answering thread: it is freed on an I/O thread, or with the
        // handlers the io_context drops, never by deliver() on a CAF thread
        // (see answer_gate::deliver for why that could be too late).
        auto executor = self->executor_;
        asio::post(executor, [self = std::move(self),
                              answer = std::move(answer)]() mutable {
          self->write(std::move(answer));
        });
      });
}

template <class Stream>
void api_session<Stream>::answer_error(error_code ec) {
  auto version = parser_ ? parser_->get().version() : 11u;
  if (ec == http::error::body_limit)
    return write(publish_api::error(http::status::payload_too_large,
                                    "the body is too large", version, false));
  if (ec == http::error::header_limit)
    return write(
        publish_api::error(http::status::request_header_fields_too_large,
                           "the request header is too large", version, false));
  if (is_malformed_request(ec))
    return write(publish_api::error(http::status::bad_request,
                                    "malformed request", version, false));
  fail(connection_id_, "reading api request", ec);
}

template <class Stream>
void api_session<Stream>::write(publish_api::response answer) {
  // A stopping server takes no further request on this connection.
  if (!requests_->taking())
    answer.keep_alive(false);
  counters_->count_api_response(answer.result_int());
  response_.emplace(std::move(answer));
  beast::get_lowest_layer(stream_).expires_after(limits_.request_timeout);
  http::async_write(
      stream_, *response_,
      [self = shared_from_this()](error_code ec, std::size_t bytes) {
        self->on_write(ec, bytes);
      });
}

template <class Stream>
void api_session<Stream>::on_write(error_code ec, std::size_t) {
  bool keep_alive = response_->keep_alive();
  response_.reset();
  answering_ = {};
  if (ec)
    return fail(connection_id_, "writing api response", ec);
  if (keep_alive)
    return do_read();
  // TLS waits for the client's close_notify within the request timeout.
  end_connection(stream_, [self = shared_from_this()] {});
}

template class api_session<plain_stream>;
template class api_session<tls_stream>;

}  // namespace batchcast::net
