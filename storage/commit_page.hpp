// A page of what one state store wrote after a point in its own order of
// commits (see state_store.hpp, commit_seq): how a cluster node catches up
// from a peer.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "storage/batch_status.hpp"

namespace batchcast::storage {

struct commit_page {
  // Which open of which file answered, random: a number from another
  // one's pages means nothing here (the peer restarted, maybe on a file
  // restored from a copy, or made anew).
  std::string store_id;
  std::vector<batch_record> records;  // in the order written
  // The commit number of the last record, or the point asked from when
  // there is none.
  std::uint64_t last_seq = 0;
};

}  // namespace batchcast::storage
