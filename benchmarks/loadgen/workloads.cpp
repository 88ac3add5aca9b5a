#include "benchmarks/loadgen/workloads.hpp"

#include <cstdio>

namespace batchcast::bench {

std::string watch_path(const std::string& batch) {
  return "/ws/radius/batch/" + batch + "/";
}

shared_profile profile_of(const options& settings) {
  return std::make_shared<const client_profile>(
      client_profile{settings.ws, settings.cookie_name, settings.origin});
}

std::vector<shared_profile> profiles_of(const options& settings) {
  std::vector<shared_profile> profiles;
  for (const auto& url : settings.ws_all)
    profiles.push_back(std::make_shared<const client_profile>(
        client_profile{url, settings.cookie_name, settings.origin}));
  return profiles;
}

bool publish_each(run_context& context, const std::vector<std::string>& batches,
                  const std::string& status) {
  const auto& settings = context.settings();
  std::vector<publish_job> jobs;
  jobs.reserve(batches.size());
  for (const auto& batch : batches)
    jobs.push_back({batch, status, settings.organization});
  auto records = publish_all(context, *settings.publish, settings.token, jobs,
                             settings.publish_concurrency, context.deadline());
  if (records.empty()) {
    note_deadline(settings.workload, "publish " + status);
    return false;
  }
  auto accepted = count_accepted(records);
  if (accepted == records.size())
    return true;
  for (const auto& record : records) {
    if (record.http_status != 200) {
      std::fprintf(stderr,
                   "loadgen: publishing `%s` answered HTTP %d "
                   "(%zu of %zu accepted)\n",
                   status.c_str(), record.http_status, accepted,
                   records.size());
      break;
    }
  }
  return false;
}

void note_deadline(const std::string& workload, const std::string& step) {
  std::fprintf(stderr, "loadgen: %s: deadline reached during %s\n",
               workload.c_str(), step.c_str());
}

}  // namespace batchcast::bench
