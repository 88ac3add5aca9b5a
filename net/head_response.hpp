// The answer to a HEAD request: what a GET would get, Content-Length
// included, without the body. Whatever the status, a HEAD answer carries
// no body, or a client keeping the connection alive would read the body
// as the start of the next response.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/asio.hpp"

namespace batchcast::net {

inline void drop_body_for_head(http::response<http::string_body>& answer) {
  auto length = answer.body().size();
  answer.body().clear();
  answer.content_length(length);
}

}  // namespace batchcast::net
