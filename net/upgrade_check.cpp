#include "net/upgrade_check.hpp"

#include <iterator>
#include <string_view>

#include <boost/beast/websocket/rfc6455.hpp>

namespace batchcast::net {

bool is_valid_websocket_key(std::string_view key) {
  static constexpr std::string_view digits =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (key.size() != 24 || key.substr(22) != "==")
    return false;
  return key.substr(0, 22).find_first_not_of(digits) == std::string_view::npos;
}

std::optional<upgrade_refusal> check_upgrade(
    const http::request_header<>& request) {
  if (request.method() != http::verb::get)
    return upgrade_refusal{http::status::method_not_allowed, "not a GET"};
  // No Connection: upgrade or Upgrade: websocket, or HTTP/1.0: a plain
  // request to the WebSocket route.
  if (!websocket::is_upgrade(request))
    return upgrade_refusal{http::status::upgrade_required, "not an upgrade"};
  // is_upgrade lets any version from 1.1 up through; Beast's accept takes
  // 1.1 only.
  if (request.version() != 11)
    return upgrade_refusal{http::status::bad_request, "not HTTP/1.1"};
  // RFC 7230 5.4: a 400 for an HTTP/1.1 request with no Host, or more
  // than one.
  auto hosts = request.equal_range(http::field::host);
  auto host_count = std::distance(hosts.first, hosts.second);
  if (host_count == 0)
    return upgrade_refusal{http::status::bad_request, "no Host header"};
  if (host_count > 1)
    return upgrade_refusal{http::status::bad_request,
                           "more than one Host header"};
  // An upgrade has no body, so any transfer coding is a defect; and a
  // request whose last coding is not chunked has no length we can read
  // (RFC 7230 3.3.3 asks a 400 of it), so the bytes after it would be
  // taken for frames.
  if (request.count(http::field::transfer_encoding) > 0)
    return upgrade_refusal{http::status::bad_request,
                           "a Transfer-Encoding on an upgrade"};
  // RFC 6455 11.3.1 and 11.3.5: each at most once in a request. With two,
  // which one the accept answers for is a guess.
  auto keys = request.equal_range(http::field::sec_websocket_key);
  if (std::distance(keys.first, keys.second) > 1)
    return upgrade_refusal{http::status::bad_request,
                           "more than one Sec-WebSocket-Key header"};
  auto versions = request.equal_range(http::field::sec_websocket_version);
  if (std::distance(versions.first, versions.second) > 1)
    return upgrade_refusal{http::status::bad_request,
                           "more than one Sec-WebSocket-Version header"};
  if (!is_valid_websocket_key(request[http::field::sec_websocket_key]))
    return upgrade_refusal{http::status::bad_request,
                           "Sec-WebSocket-Key missing or not 16 bytes in "
                           "base64"};
  // RFC 6455 4.4: a version we do not speak is answered 426 with the one
  // we do (a missing one too: no version is not 13).
  if (request[http::field::sec_websocket_version] != "13")
    return upgrade_refusal{http::status::upgrade_required,
                           "Sec-WebSocket-Version not 13"};
  return std::nullopt;
}

}  // namespace batchcast::net
