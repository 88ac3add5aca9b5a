// The live status page of one batch, /batches/<uuid>/: a self-contained
// HTML document (inline style and script, nothing fetched from elsewhere)
// that shows the stored status and, until it is terminal, listens on the
// batch's WebSocket exactly as OpenWISP's admin page does.
//
// Pure functions: no I/O, so they are tested without a socket.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/batch_status.hpp"

namespace batchcast::net {

// The batch id of the page route /batches/<uuid>/ (canonical uuid,
// trailing slash required, query ignored), or nothing: 404.
std::optional<std::string> parse_status_page_route(std::string_view target);

// `text` with &, <, >, " and ' replaced by character references, safe in
// element content and in quoted attribute values.
std::string html_escape(std::string_view text);

// The document for `batch_id` showing `status`. `nonce` is the
// Content-Security-Policy nonce that lets its inline <style> and <script>
// run; it must be fresh for every response (see make_csp_nonce).
std::string render_status_page(std::string_view batch_id,
                               storage::batch_status status,
                               std::string_view nonce);

// 16 random bytes from OpenSSL's CSPRNG, base64: a nonce an attacker who
// injected markup cannot guess. Nothing when the CSPRNG fails (it could
// not be seeded); a guessable nonce is worse than no page.
std::optional<std::string> make_csp_nonce();

// The Content-Security-Policy header value that goes with `nonce`: only
// this page's own inline code runs, nothing loads from elsewhere, it
// connects only to its own origin and to WebSockets on `host` (the
// request's Host, which is_allowed_host has checked, so it holds no
// characters that could end the header's directive), and no framing.
std::string status_page_policy(std::string_view nonce, std::string_view host);

}  // namespace batchcast::net
