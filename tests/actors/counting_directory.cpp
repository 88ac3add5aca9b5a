#include "tests/actors/counting_directory.hpp"

#include <thread>

#include "storage/storage_error.hpp"

namespace batchcast::actors::testing {

counting_directory::counting_directory(std::unique_ptr<storage::directory> real)
    : real_(std::move(real)) {}

void counting_directory::before_lookup() {
  if (auto delay = delay_ms.load(); delay > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{delay});
  if (failing.load())
    throw storage::storage_error("directory unavailable (test)");
}

std::optional<storage::session_row> counting_directory::find_session(
    const std::string& session_key) {
  ++session_lookups;
  before_lookup();
  return real_->find_session(session_key);
}

std::optional<storage::user_row> counting_directory::find_user(
    const std::string& user_id) {
  before_lookup();
  return real_->find_user(user_id);
}

std::vector<std::string> counting_directory::managed_organizations(
    const std::string& user_id) {
  before_lookup();
  return real_->managed_organizations(user_id);
}

std::optional<std::string> counting_directory::batch_organization(
    const std::string& batch_id) {
  ++batch_lookups;
  before_lookup();
  return real_->batch_organization(batch_id);
}

void counting_directory::check() {
  ++checks;
  before_lookup();
  real_->check();
}

}  // namespace batchcast::actors::testing
