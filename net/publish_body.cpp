#include "net/publish_body.hpp"

#include <set>

#include <nlohmann/json.hpp>

#include "storage/uuid.hpp"

namespace batchcast::net {

publish_body parse_publish_body(std::string_view text) {
  publish_body parsed;
  nlohmann::json body;
  // A member named twice is refused rather than settled by a rule of
  // this parser's (the last one wins): the sender may have meant the
  // other, and a proxy or log in between may have read the first.
  std::set<std::string> names;
  bool named_twice = false;
  auto note_names = [&](int depth, nlohmann::json::parse_event_t event,
                        nlohmann::json& parsed_value) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 &&
        !names.insert(parsed_value.get<std::string>()).second)
      named_twice = true;
    return true;
  };
  try {
    body = nlohmann::json::parse(text, note_names);
  } catch (const nlohmann::json::exception&) {
    parsed.problem = "the body is not valid JSON";
    return parsed;
  }
  if (!body.is_object()) {
    parsed.problem = "the body must be a JSON object";
    return parsed;
  }
  if (named_twice) {
    parsed.problem = "a member of the body is named twice";
    return parsed;
  }

  auto status = body.find("status");
  if (status == body.end()) {
    // Names are case-sensitive: "Status" is another member.
    parsed.problem = "the body has no status member";
    return parsed;
  }
  // Refused rather than ignored: a misspelt "organization" would
  // otherwise be acknowledged while creating no batch.
  for (const auto& member : body.items()) {
    if (member.key() != "status" && member.key() != "organization") {
      parsed.problem =
          "the body may have only the members status and organization";
      return parsed;
    }
  }
  if (!status->is_string()) {
    parsed.problem = "status must be a string";
    return parsed;
  }
  parsed.status =
      storage::parse_batch_status(status->get_ref<const std::string&>());
  if (!parsed.status) {
    parsed.problem = "unknown status";
    return parsed;
  }

  auto organization = body.find("organization");
  if (organization != body.end() && !organization->is_null()) {
    if (!organization->is_string() ||
        !storage::is_canonical_uuid(
            organization->get_ref<const std::string&>())) {
      parsed.status.reset();
      parsed.problem = "organization must be a canonical uuid";
      return parsed;
    }
    parsed.organization_id = organization->get<std::string>();
  }
  return parsed;
}

}  // namespace batchcast::net
