// Many clients that stay connected: opened with a bounded number of
// upgrades in flight, then held until the server closes them or the
// workload does. Used by the idle, fanout and storm workloads.
//
// The clients report into a shared state that they reach through weak
// pointers, so a crowd may be destroyed while the I/O threads still run.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "benchmarks/loadgen/run_context.hpp"
#include "benchmarks/loadgen/ws_client.hpp"

namespace batchcast::bench {

struct crowd_plan {
  std::size_t size = 0;
  std::size_t concurrency = 1;
  std::function<std::string(std::size_t)> path_for;     // client index
  std::function<std::string(std::size_t)> session_for;  // client index
};

class crowd {
 public:
  // Client i connects with profiles[i % profiles.size()] (one server, or
  // the nodes of a cluster in turn). `profiles` must not be empty.
  crowd(run_context& context, const std::vector<shared_profile>& profiles,
        const crowd_plan& plan);

  // Starts every client, at most `concurrency` upgrading at once, and
  // waits until each upgrade attempt ended or `limit` passed. Returns the
  // number of clients that were accepted.
  std::size_t open(clock_type::time_point limit);

  // Waits until every client's connection is over (the server closed it,
  // or it failed). True when all ended before `limit`.
  bool wait_finished(clock_type::time_point limit);

  void close_all();  // close handshakes for everyone still connected
  void drop_all();   // abandon every socket

  // Valid once the clients in question finished (see wait_finished), or
  // for counts only, at any time.
  const std::vector<std::shared_ptr<ws_client>>& clients() const;
  std::size_t still_connected() const;
  // How long opening took, from the first start to the last upgrade.
  double open_seconds() const;

 private:
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace batchcast::bench
