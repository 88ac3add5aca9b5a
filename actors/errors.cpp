#include "actors/errors.hpp"

#include <caf/exit_reason.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace batchcast::actors {

const char* to_string(errc code) {
  switch (code) {
    case errc::storage_failed:
      return "storage_failed";
    case errc::directory_failed:
      return "directory_failed";
    case errc::shutting_down:
      return "shutting_down";
    case errc::invalid_batch_id:
      return "invalid_batch_id";
    case errc::node_busy:
      return "node_busy";
  }
  return "unknown_error";
}

caf::error make_error(errc code) {
  return {static_cast<std::uint8_t>(code), error_category};
}

caf::error make_error(errc code, std::string detail) {
  return {static_cast<std::uint8_t>(code), error_category,
          caf::make_message(std::move(detail))};
}

bool is_error(const caf::error& err, errc code) {
  return err && err.category() == error_category &&
         err.code() == static_cast<std::uint8_t>(code);
}

bool is_receiver_gone(const caf::error& err) {
  if (!err)
    return false;
  if (is_error(err, errc::shutting_down))
    return true;
  // An actor that quits answers the requests left in its mailbox with
  // request_receiver_down; one killed by an exit message may pass on the
  // exit reason instead.
  if (err.category() == caf::atom("system"))
    return err.code() ==
           static_cast<std::uint8_t>(caf::sec::request_receiver_down);
  return err.category() == caf::atom("exit");
}

std::string describe(const caf::error& err) {
  if (!err)
    return "none";
  if (err.category() != error_category)
    return caf::to_string(err);
  std::string text = to_string(static_cast<errc>(err.code()));
  const auto& context = err.context();
  if (context.match_elements<std::string>()) {
    text += " (";
    text += context.get_as<std::string>(0);
    text += ")";
  }
  return text;
}

}  // namespace batchcast::actors
