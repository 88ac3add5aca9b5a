#include "net/page_gate.hpp"

#include <utility>

namespace batchcast::net {

bool page_gate::hold(const void* key, post_back post) {
  std::lock_guard<std::mutex> guard{mutex_};
  if (closed_)
    return false;
  waiting_[key] = std::move(post);
  return true;
}

void page_gate::deliver(const void* key, page_response answer) {
  post_back post;
  std::lock_guard<std::mutex> guard{mutex_};
  auto found = waiting_.find(key);
  if (closed_ || found == waiting_.end())
    return;
  post = std::move(found->second);
  waiting_.erase(found);
  // Under the lock: close() cannot run meanwhile, so the io_context the
  // session's strand belongs to is still there.
  post(std::move(answer));
}

void page_gate::close() {
  std::unordered_map<const void*, post_back> dropped;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    closed_ = true;
    dropped.swap(waiting_);
  }
  // The sessions go here, outside the lock, while the io_context they
  // belong to still exists.
}

}  // namespace batchcast::net
