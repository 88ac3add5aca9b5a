#include "net/cluster_view.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "net/publish_api.hpp"

namespace batchcast::net {

namespace {

nlohmann::json peer_json(const actors::peer_report& peer, std::int64_t now_ms) {
  nlohmann::json heard = nullptr;
  nlohmann::json silent = nullptr;
  if (peer.last_heard_ms > 0) {
    heard = format_utc_millis(peer.last_heard_ms);
    silent = std::max<std::int64_t>(0, now_ms - peer.last_heard_ms);
  }
  return {
      {"address", peer.address},
      // Null until its first hello, like every other unknown here.
      {"name",
       peer.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(peer.name)},
      {"state", peer.state},
      {"state_since", format_utc_millis(peer.state_since_ms)},
      {"reason", peer.reason.empty() ? nlohmann::json(nullptr)
                                     : nlohmann::json(peer.reason)},
      {"last_heard", heard},
      {"silent_ms", silent},
      {"subscribed", peer.subscribed},
      {"catching_up", peer.catching_up},
      {"relay",
       {{"queued", peer.relay_queued},
        {"pages_in_flight", peer.relay_pages_in_flight},
        {"from_store", peer.relay_from_store},
        {"fell_behind", peer.relay_fell_behind}}},
  };
}

}  // namespace

std::string cluster_report_json(const actors::cluster_report& report,
                                std::int64_t now_ms) {
  auto peers = nlohmann::json::array();
  for (const auto& peer : report.peers)
    peers.push_back(peer_json(peer, now_ms));
  nlohmann::json body{{"node", report.node},
                      {"clustered", report.clustered},
                      {"peers", std::move(peers)}};
  return body.dump();
}

}  // namespace batchcast::net
