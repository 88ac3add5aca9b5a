// Answers a request for the status page /batches/<uuid>/ on the public
// listener. The decision is the WebSocket upgrade's (session cookie, staff,
// superuser or organization admin, known batch), asked of the same
// session_auth actor; no Origin is needed, since a browser sends none on
// a plain navigation, but Host must be an allowed host, as Django demands
// of every request it serves.
//
// Answers: 200 with the page; 400 for a Host that is not allowed; 403 for
// any refusal (the reason is logged, never sent); 503 when the directory
// or the state database could not answer. Never cached by anyone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "net/asio.hpp"

namespace batchcast::net {

struct server_context;

// Django's host validation (HttpRequest.get_host with ALLOWED_HOSTS): the
// Host header, lowercased and without its port, must match a pattern
// exactly, be the domain or a subdomain of a pattern starting with '.',
// or any pattern be "*". A value Django would call invalid (not a domain
// or a bracketed IPv6 address with an optional port) is refused.
bool is_allowed_host(std::string_view host,
                     const std::vector<std::string>& allowed_hosts);

struct status_page_request {
  std::uint64_t connection_id = 0;  // for logs
  std::string batch_id;             // canonical uuid
  std::string session_key;          // empty when there is no cookie
  std::string peer;                 // "address:port", for logs
  std::string host;                 // the Host header, an allowed host
  unsigned http_version = 11;
};

using page_response = std::unique_ptr<http::response<http::string_body>>;

// Authorizes, reads the stored status ("pending" when none is stored) and
// builds the response. `done` is called exactly once, on a CAF thread;
// the caller posts back to its strand to write it.
void answer_status_page(std::shared_ptr<server_context> context,
                        status_page_request request,
                        std::function<void(page_response)> done);

}  // namespace batchcast::net
