#include "actors/peer_intake.hpp"

#include <algorithm>

namespace batchcast::actors {

bool peer_intake::admit_records(const std::string& node, std::size_t records) {
  auto& mine = by_node_[node];
  // An empty page costs nothing and is always taken.
  if (records > 0 && (mine.records + records > limits_.records_per_node ||
                      records_total_ + records > limits_.records_total)) {
    ++refused_;
    forget_if_idle(by_node_.find(node));
    return false;
  }
  mine.records += records;
  records_total_ += records;
  return true;
}

void peer_intake::records_done(const std::string& node, std::size_t records) {
  auto found = by_node_.find(node);
  if (found == by_node_.end())
    return;
  found->second.records -= std::min(found->second.records, records);
  records_total_ -= std::min(records_total_, records);
  forget_if_idle(found);
}

bool peer_intake::admit_read(const std::string& node) {
  auto& mine = by_node_[node];
  if (mine.reads + 1 > limits_.reads_per_node ||
      reads_total_ + 1 > limits_.reads_total) {
    ++refused_;
    forget_if_idle(by_node_.find(node));
    return false;
  }
  ++mine.reads;
  ++reads_total_;
  return true;
}

void peer_intake::read_done(const std::string& node) {
  auto found = by_node_.find(node);
  if (found == by_node_.end() || found->second.reads == 0)
    return;
  --found->second.reads;
  --reads_total_;
  forget_if_idle(found);
}

// Entries go once their node has nothing in flight, so a sender that
// comes back under ever new node ids leaves nothing behind.
void peer_intake::forget_if_idle(
    std::unordered_map<std::string, taken>::iterator found) {
  if (found != by_node_.end() && found->second.records == 0 &&
      found->second.reads == 0)
    by_node_.erase(found);
}

}  // namespace batchcast::actors
