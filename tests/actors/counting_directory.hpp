// A directory that forwards to a real one (the embedded SQLite directory)
// and counts the lookups and readiness checks that reach it, so tests can
// check how many the caches let through. It can also be made slow, to keep
// lookups in flight while a test acts, or failing, like a database that went
// away.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

#include "storage/directory.hpp"

namespace batchcast::actors::testing {

class counting_directory : public storage::directory {
 public:
  explicit counting_directory(std::unique_ptr<storage::directory> real);

  std::optional<storage::session_row> find_session(
      const std::string& session_key) override;
  std::optional<storage::user_row> find_user(
      const std::string& user_id) override;
  std::vector<std::string> managed_organizations(
      const std::string& user_id) override;
  std::optional<std::string> batch_organization(
      const std::string& batch_id) override;
  // The real directory's own check, which reads more than one lookup.
  void check() override;

  // Set from the test thread, read by the directory actor.
  std::atomic<int> session_lookups{0};
  std::atomic<int> batch_lookups{0};
  std::atomic<int> checks{0};
  std::atomic<int> delay_ms{0};      // before every lookup
  std::atomic<bool> failing{false};  // every lookup throws storage_error

 private:
  void before_lookup();

  std::unique_ptr<storage::directory> real_;
};

}  // namespace batchcast::actors::testing
