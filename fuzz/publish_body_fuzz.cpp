// Request bodies against the publish API's body parser (net/publish_body).
// Beyond not crashing or throwing:
//
// - exactly one of status and problem is set;
// - an accepted body is a JSON object whose "status" names that status,
//   whose organization, when named, is a canonical uuid, and which has
//   no other members;
// - writing the parsed result back as JSON and parsing it again gives the
//   same result;
// - a status or organization given as the fuzzed text itself is accepted
//   exactly when it is a known status or a canonical uuid.
#include <string>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.hpp"
#include "net/publish_body.hpp"
#include "storage/uuid.hpp"

namespace {

using namespace batchcast;
using fuzz::require;

void check_body(std::string_view text) {
  auto parsed = net::parse_publish_body(text);
  require(parsed.status.has_value() != (parsed.problem != nullptr),
          "exactly one of status and problem is set");
  if (!parsed.status) {
    require(parsed.organization_id.empty(), "a refused body names no one");
    return;
  }
  require(parsed.organization_id.empty() ||
              storage::is_canonical_uuid(parsed.organization_id),
          "an organization is a canonical uuid");

  auto body = nlohmann::json::parse(text, nullptr, false);
  require(body.is_object(), "an accepted body is a JSON object");
  for (const auto& member : body.items())
    require(member.key() == "status" || member.key() == "organization",
            "an accepted body has no other members");
  auto status = body.find("status");
  require(status != body.end() && status->is_string() &&
              *status == std::string{storage::to_string(*parsed.status)},
          "the status is the body's \"status\"");

  nlohmann::json written{{"status", storage::to_string(*parsed.status)}};
  if (!parsed.organization_id.empty())
    written["organization"] = parsed.organization_id;
  auto again = net::parse_publish_body(written.dump());
  require(again.status == parsed.status &&
              again.organization_id == parsed.organization_id,
          "the parsed body round-trips through JSON");
}

// The fuzzed text as a JSON string value in an otherwise valid body.
// nlohmann refuses invalid UTF-8 when writing, so such text is skipped.
void check_as_values(std::string_view text) {
  std::string value{text};
  std::string status_body;
  std::string organization_body;
  try {
    status_body = nlohmann::json{{"status", value}}.dump();
    organization_body =
        nlohmann::json{{"status", "failed"}, {"organization", value}}.dump();
  } catch (const nlohmann::json::type_error&) {
    return;
  }

  auto by_status = net::parse_publish_body(status_body);
  require(by_status.status.has_value() ==
              storage::parse_batch_status(value).has_value(),
          "only a known status is accepted");
  auto by_organization = net::parse_publish_body(organization_body);
  bool canonical = storage::is_canonical_uuid(value);
  require(by_organization.status.has_value() == canonical &&
              (!canonical || by_organization.organization_id == value),
          "only a canonical uuid names an organization");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto text = fuzz::as_text(data, size);
  check_body(text);
  check_as_values(text);
  return 0;
}
