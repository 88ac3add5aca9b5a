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
  std::lock_guard<std::mutex> guard{mutex_};
  auto found = waiting_.find(key);
  if (closed_ || found == waiting_.end())
    return;
  // Under the lock: close() cannot run meanwhile, so the io_context the
  // session's strand belongs to is still there. `post` holds the session
  // too, and goes before the lock does: were it to outlive the lock, the
  // server could be destroyed meanwhile and leave it the last holder,
  // freeing the session on this thread after its io_context.
  auto post = std::move(found->second);
  waiting_.erase(found);
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
