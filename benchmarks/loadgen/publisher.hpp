// The producer side: publishes batch statuses to the internal HTTP API
// (`POST /api/v1/radius/batch/<id>/status` with a bearer token) over a few
// keep-alive connections, recording when each request went out and when
// its answer came back.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "benchmarks/loadgen/loopback.hpp"
#include "benchmarks/loadgen/run_context.hpp"

namespace batchcast::bench {

struct publish_job {
  std::string batch;
  std::string status;        // pending, processing, completed or failed
  std::string organization;  // optional: lets the server create the batch
};

struct publish_record {
  clock_type::time_point sent{};   // just before the request was written
  clock_type::time_point acked{};  // when the whole answer was read
  int http_status = 0;             // 0 when no answer came
};

// Sends every job over at most `concurrency` connections at once (each
// sends its next job after the previous answer) and waits until all were
// answered or `limit` passed. Returns one record per job, in job order. A
// job whose connection broke is retried on a fresh one a few times.
std::vector<publish_record> publish_all(run_context& context,
                                        const loopback_url& server,
                                        const std::string& token,
                                        const std::vector<publish_job>& jobs,
                                        std::size_t concurrency,
                                        clock_type::time_point limit);

// Counts the records answered with 200.
std::size_t count_accepted(const std::vector<publish_record>& records);

}  // namespace batchcast::bench
