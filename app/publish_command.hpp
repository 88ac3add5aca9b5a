// `batchcast publish`: what a job worker does when a batch changes status,
// from the command line. Prints the stored record; exits 0 when the
// service acknowledged (committed) it, 2 otherwise.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace batchcast::app {

struct publish_options {
  std::string batch_id;
  std::string status;
  std::string url;  // http:// or https://HOST:PORT of the internal listener
  // PEM certificates to trust for https:// instead of the system's CAs.
  std::string ca_file;
  std::string token;            // bearer token
  std::string organization_id;  // optional: create the batch (standalone)
  int timeout_seconds = 30;
};

struct http_reply {
  int status = 0;  // 0: no answer
  std::string body;
  std::string error;  // transport failure, when status is 0
};

// POSTs the status. Never throws.
http_reply publish_status(const publish_options& options);

// Whether `body`, answered with a 200, is the stored record the publish
// API acknowledges a commit with: {"batch":"<batch_id>","status":"...",
// "updated_at":"..."}. Anything else (a proxy's page, another service on
// that port) acknowledges nothing.
bool is_acknowledgement(const std::string& body, const std::string& batch_id);

void add_publish_command(CLI::App& parent, int& exit_code);

}  // namespace batchcast::app
