// Whether the header of a request on the WebSocket route is an upgrade we
// can complete. It covers every check Beast's websocket accept makes (see
// build_response in boost/beast/websocket/impl/accept.hpp), so that a
// request passed here, once its session is authorized, cannot be refused
// by Beast with an answer of its own; and the checks RFC 7230 and RFC 6455
// ask of a server on top of those.
#pragma once

#include <optional>

#include <boost/beast/http/message.hpp>

#include "net/asio.hpp"

namespace batchcast::net {

struct upgrade_refusal {
  http::status status;  // 400, 405 or 426
  const char* why;      // for the log, never for the client
};

// The answer `request` gets instead of the upgrade, or nothing when its
// header is fit to upgrade. A body, or bytes sent behind the request, are
// the caller's to check: they are not in the header.
std::optional<upgrade_refusal> check_upgrade(
    const http::request_header<>& request);

// Whether `key` is a Sec-WebSocket-Key: 16 bytes in base64 (RFC 6455 4.1),
// which is 22 base64 digits and two '=' of padding.
bool is_valid_websocket_key(std::string_view key);

}  // namespace batchcast::net
