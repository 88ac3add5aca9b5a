#include "storage/batch_status.hpp"

#include <tuple>

namespace batchcast::storage {

std::string_view to_string(batch_status status) {
  switch (status) {
    case batch_status::pending:
      return "pending";
    case batch_status::processing:
      return "processing";
    case batch_status::completed:
      return "completed";
    case batch_status::failed:
      return "failed";
  }
  return "pending";
}

std::optional<batch_status> parse_batch_status(std::string_view text) {
  for (auto status : {batch_status::pending, batch_status::processing,
                      batch_status::completed, batch_status::failed})
    if (text == to_string(status))
      return status;
  return std::nullopt;
}

bool is_terminal(batch_status status) {
  return status == batch_status::completed || status == batch_status::failed;
}

bool supersedes(const batch_record& candidate, const batch_record& current) {
  return std::tie(candidate.updated_at_ms, candidate.origin) >
         std::tie(current.updated_at_ms, current.origin);
}

std::string status_message(batch_status status) {
  std::string message = R"({"status":")";
  message += to_string(status);
  message += R"("})";
  return message;
}

}  // namespace batchcast::storage
