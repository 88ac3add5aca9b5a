#include "net/status_page.hpp"

#include <array>
#include <utility>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "net/routes.hpp"
#include "storage/uuid.hpp"

namespace batchcast::net {

namespace {

constexpr std::string_view page_prefix = "/batches/";

// The whole page. {{name}} marks a value filled in (escaped) by
// render_status_page; nothing else in it varies.
//
// The script reads the batch and its status from data attributes rather
// than from values spliced into JavaScript, so escaping for HTML is the
// only escaping there is. It records what it sees on <body> (data-status,
// data-socket, data-close-code) so tests and curious operators can tell
// the page's state without reading its text.
//
// The socket is opened the way OpenWISP's batch admin page opens it: to
// ws(s)://<this host>/ws/radius/batch/<id>/, the JSON message's status
// shown, the socket closed by the page once the status is terminal.
constexpr std::string_view page_template = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Batch {{batch_id}} &middot; batchcast</title>
<style nonce="{{nonce}}">
  :root {
    color-scheme: light;
    --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --paper: #ffffff;
    --ground: #f0f4f8;
  }
  * { box-sizing: border-box; }
  body {
    margin: 0; min-height: 100vh; display: flex; align-items: center;
    justify-content: center; background: var(--ground); color: var(--ink);
    font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  }
  main {
    width: min(34rem, calc(100vw - 2rem)); background: var(--paper);
    border: 1px solid var(--line); border-radius: 12px;
    box-shadow: 0 8px 24px rgba(31, 41, 51, 0.08); padding: 2rem;
  }
  .eyebrow {
    margin: 0; color: var(--muted); font-size: 0.8rem;
    letter-spacing: 0.08em; text-transform: uppercase;
  }
  h1 { margin: 0.25rem 0 1.5rem; font-size: 1.5rem; }
  dl { margin: 0; display: grid; grid-template-columns: 6rem 1fr;
       row-gap: 0.75rem; align-items: center; }
  dt { color: var(--muted); }
  dd { margin: 0; min-width: 0; }
  code { font: 0.9rem/1.4 ui-monospace, "DejaVu Sans Mono", monospace;
         overflow-wrap: anywhere; }
  .status {
    display: inline-block; padding: 0.15rem 0.75rem; border-radius: 999px;
    font-weight: 600; background: #e4e7eb; color: #3e4c59;
  }
  .status-processing { background: #dceefb; color: #0b4f8a; }
  .status-completed { background: #e3f9e5; color: #1f6b2c; }
  .status-failed { background: #ffe3e3; color: #a61b1b; }
  .note { margin: 1.5rem 0 0; color: var(--muted); font-size: 0.9rem; }
  .live::before {
    content: ""; display: inline-block; width: 0.5rem; height: 0.5rem;
    margin-right: 0.5rem; border-radius: 50%; background: #2f8132;
    vertical-align: middle;
  }
</style>
</head>
<body data-batch="{{batch_id}}" data-status="{{status}}" data-socket="none">
<main>
  <p class="eyebrow">RADIUS batch user creation</p>
  <h1>Batch status</h1>
  <dl>
    <dt>Batch</dt><dd><code id="batch-id">{{batch_id}}</code></dd>
    <dt>Status</dt>
    <dd><span id="status" class="status status-{{status}}"
              aria-live="polite">{{status}}</span></dd>
  </dl>
  <p id="note" class="note">{{note}}</p>
</main>
<script nonce="{{nonce}}">
(function () {
  'use strict';
  var body = document.body;
  var badge = document.getElementById('status');
  var note = document.getElementById('note');
  var known = ['pending', 'processing', 'completed', 'failed'];
  var terminal = ['completed', 'failed'];

  function is_terminal(status) { return terminal.indexOf(status) >= 0; }

  function show(status) {
    badge.textContent = status;
    badge.className = 'status status-' + status;
    body.dataset.status = status;
    if (is_terminal(status)) {
      note.className = 'note';
      note.textContent = 'The job has finished.';
    }
  }

  if (is_terminal(body.dataset.status)) return;

  var scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  var socket = new WebSocket(scheme + '://' + window.location.host +
                             '/ws/radius/batch/' + body.dataset.batch + '/');
  body.dataset.socket = 'connecting';

  socket.onopen = function () {
    body.dataset.socket = 'open';
    note.className = 'note live';
    note.textContent = 'Waiting for the job to finish; this page updates ' +
                       'by itself.';
  };
  socket.onmessage = function (event) {
    var data;
    try {
      data = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    if (!data || known.indexOf(data.status) < 0) return;
    show(data.status);
    if (is_terminal(data.status)) socket.close();
  };
  socket.onerror = function () { body.dataset.socketError = 'true'; };
  socket.onclose = function (event) {
    body.dataset.socket = 'closed';
    body.dataset.closeCode = String(event.code);
    if (!is_terminal(body.dataset.status)) {
      note.className = 'note';
      note.textContent = 'Live updates stopped. Reload the page to check ' +
                         'again.';
    }
  };
}());
</script>
</body>
</html>
)html";

// What the page says under the status before its script has run.
std::string_view initial_note(storage::batch_status status) {
  return storage::is_terminal(status) ? "The job has finished."
                                      : "Connecting for live updates\u2026";
}

// Replaces each {{name}} in `text` by the escaped value of that name.
// Every placeholder in page_template has a value; an unknown one would be
// a bug here, and is left as it is so the page shows it.
std::string fill(
    std::string_view text,
    std::initializer_list<std::pair<std::string_view, std::string_view>>
        values) {
  std::string out;
  out.reserve(text.size() + 256);
  std::size_t at = 0;
  while (true) {
    auto open = text.find("{{", at);
    auto close = open == std::string_view::npos ? open : text.find("}}", open);
    if (close == std::string_view::npos) {
      out.append(text.substr(at));
      return out;
    }
    out.append(text.substr(at, open - at));
    auto name = text.substr(open + 2, close - open - 2);
    const std::string_view* value = nullptr;
    for (const auto& each : values)
      if (each.first == name)
        value = &each.second;
    if (value)
      out.append(html_escape(*value));
    else
      out.append(text.substr(open, close + 2 - open));
    at = close + 2;
  }
}

}  // namespace

std::optional<std::string> parse_status_page_route(std::string_view target) {
  auto path = request_path(target);
  if (!path)
    return std::nullopt;

  std::string_view rest{*path};
  if (rest.substr(0, page_prefix.size()) != page_prefix || rest.size() < 2 ||
      rest.back() != '/')
    return std::nullopt;
  rest.remove_prefix(page_prefix.size());
  rest.remove_suffix(1);
  if (!storage::is_canonical_uuid(rest))
    return std::nullopt;
  return std::string{rest};
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_status_page(std::string_view batch_id,
                               storage::batch_status status,
                               std::string_view nonce) {
  return fill(page_template, {{"batch_id", batch_id},
                              {"status", storage::to_string(status)},
                              {"note", initial_note(status)},
                              {"nonce", nonce}});
}

std::optional<std::string> make_csp_nonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return std::nullopt;
  // Base64 of 16 bytes: 24 characters and a terminating NUL.
  std::array<unsigned char, 25> encoded{};
  EVP_EncodeBlock(encoded.data(), bytes.data(), static_cast<int>(bytes.size()));
  return std::string{reinterpret_cast<const char*>(encoded.data()), 24};
}

std::string status_page_policy(std::string_view nonce, std::string_view host) {
  std::string source = "'nonce-" + std::string{nonce} + "'";
  // 'self' covers ws: and wss: on the page's own host only from CSP level
  // 3 on; the host is named for browsers before it. A bracketed IPv6
  // host is no valid source there: such a browser ignores it, and a page
  // asked for by IPv6 address then connects only where 'self' reaches.
  std::string sockets =
      "ws://" + std::string{host} + " wss://" + std::string{host};
  return "default-src 'self'; script-src " + source + "; style-src " + source +
         "; connect-src 'self' " + sockets +
         "; img-src 'self'; base-uri 'none'; form-action 'none'; "
         "frame-ancestors 'none'";
}

}  // namespace batchcast::net
