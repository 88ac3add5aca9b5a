// Why each dial gate last closed the connection to its peer before the
// peer's bytes reached the middleman, for the cluster's view of that peer
// (GET /cluster). CAF only sees the connection closed during its
// handshake and says `disconnect_during_handshake`; the gate knows that
// the peer's secret differs, or that what answers there is no node.
//
// The gates run in the network layer and the cluster actor in the actor
// layer; both hold this. A note is set before the gate closes the
// connection, so the cluster actor, told of the failed connect after the
// close, finds it. Thread-safe.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace batchcast {

class gate_refusals {
 public:
  // One note per configured peer, in the order of --peer.
  explicit gate_refusals(std::size_t peers) : notes_(peers), said_(peers) {}

  // Out-of-range peers are ignored.
  void set(std::size_t peer, std::string why) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (peer < notes_.size())
      notes_[peer] = std::move(why);
  }

  // The peer's gate let a connection through: the last refusal is over.
  void clear(std::size_t peer) { set(peer, {}); }

  // Whether a refusal of the peer for `why` is news to the log: true the
  // first time, and again after a connection passed (passed()) or the
  // peer was refused for another reason. A dial gate retries its peer
  // every few seconds for as long as the node runs.
  bool news(std::size_t peer, const std::string& why) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (peer >= said_.size() || said_[peer] == why)
      return false;
    said_[peer] = why;
    return true;
  }
  void passed(std::size_t peer) {
    std::lock_guard<std::mutex> guard{mutex_};
    if (peer < said_.size())
      said_[peer].clear();
  }

  // Empty when the last connection was not refused by the gate.
  std::string get(std::size_t peer) const {
    std::lock_guard<std::mutex> guard{mutex_};
    return peer < notes_.size() ? notes_[peer] : std::string{};
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> notes_;
  std::vector<std::string> said_;  // the refusal the log last told
};

}  // namespace batchcast
