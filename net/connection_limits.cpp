#include "net/connection_limits.hpp"

#include <algorithm>
#include <utility>

#include "common/log.hpp"

namespace batchcast::net {

namespace {

void log_warning(const std::string& line) {
  static const auto log = logger("net");
  log->warn("{}", line);
}

long whole_seconds(connection_limits::clock::duration span) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(span).count());
}

// The line that opens a burst of refusals.
std::string opening_line(const limits_wording& names,
                         const connection_limits::caps& caps, std::size_t open,
                         limit_reached which, std::string_view peer) {
  auto line = names.listener + " connection limit reached: ";
  if (which == limit_reached::process)
    line += std::to_string(open) + " open, " + names.process_cap + " is " +
            std::to_string(caps.max_connections);
  else
    line += std::string{peer} + " has " + names.per_address_cap + " (" +
            std::to_string(caps.max_per_address) + ") open";
  line += "; " + names.refusing +
          " until some close (further refusals are summarized every " +
          std::to_string(whole_seconds(connection_limits::report_interval)) +
          " s)";
  return line;
}

}  // namespace

asio::ip::address counted_address(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address;
}

// --- slot -------------------------------------------------------------------

connection_limits::slot::slot(slot&& other) noexcept
    : owner_{std::exchange(other.owner_, nullptr)},
      address_{std::exchange(other.address_, nullptr)},
      refused_by_{other.refused_by_} {}

connection_limits::slot& connection_limits::slot::operator=(
    slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    address_ = std::exchange(other.address_, nullptr);
    refused_by_ = other.refused_by_;
  }
  return *this;
}

void connection_limits::slot::release() {
  if (owner_)
    owner_->release(*this);
  owner_ = nullptr;
  address_ = nullptr;
}

// --- connection_limits ------------------------------------------------------

connection_limits::connection_limits(
    caps limits, std::function<void(const std::string&)> report,
    std::function<clock::time_point()> now, wording names)
    : caps_{limits},
      names_{std::move(names)},
      report_{report ? std::move(report) : log_warning},
      now_{now ? std::move(now) : [] { return clock::now(); }} {}

connection_limits::slot connection_limits::try_acquire(
    const asio::ip::address& address) {
  slot result;
  std::string previous_tail, opening, summary;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto entry = by_address_.try_emplace(counted_address(address), 0).first;
    if (caps_.max_connections > 0 && open_ >= caps_.max_connections)
      result.refused_by_ = limit_reached::process;
    else if (caps_.max_per_address > 0 &&
             entry->second >= caps_.max_per_address)
      result.refused_by_ = limit_reached::per_address;

    if (result.refused_by_ == limit_reached::none) {
      ++open_;
      ++entry->second;
      result.owner_ = this;
      // Map nodes stay put until erased, and this one is not erased while
      // a slot counts in it.
      result.address_ = &*entry;
    } else {
      if (entry->second == 0)
        by_address_.erase(entry);
      if (refusing_ < caps_.max_refusing) {
        ++refusing_;
        result.owner_ = this;
      } else if (caps_.max_refusing > 0) {
        // (Without any refusals answered, as at the node gate, every one
        // is closed at accept and reported by the caller through
        // refused(): counting it here too would report it twice.)
        // Nobody will answer this one, so it may be the only sign of a
        // burst: refused connections that never send a request never
        // reach refused().
        auto now = now_();
        if (!in_burst_ || now - last_refusal_ >= report_interval) {
          previous_tail = summary_due_locked(now, true);
          in_burst_ = true;
          last_refusal_ = now;
          opening = opening_line(names_, caps_, open_, result.refused_by_,
                                 counted_address(address).to_string());
        } else {
          // The first one counted starts the span its summary covers.
          if (unreported_process_ + unreported_per_address_ +
                  unreported_closed_ ==
              0)
            counting_since_ = now;
          ++unreported_closed_;
          last_refusal_ = now;
        }
      }
    }
    if (opening.empty() &&
        unreported_process_ + unreported_per_address_ + unreported_closed_ > 0)
      summary = summary_due_locked(now_(), false);
  }
  for (const auto* line : {&previous_tail, &opening, &summary})
    if (!line->empty())
      report_(*line);
  return result;
}

void connection_limits::release(slot& counted) {
  std::string summary;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (counted.refused_by_ != limit_reached::none) {
      --refusing_;
    } else {
      --open_;
      if (counted.address_ && --counted.address_->second == 0) {
        auto address = counted.address_->first;
        by_address_.erase(address);
      }
    }
    if (unreported_process_ + unreported_per_address_ + unreported_closed_ > 0)
      summary = summary_due_locked(now_(), false);
  }
  if (!summary.empty())
    report_(summary);
}

void connection_limits::refused(limit_reached which, std::string_view peer) {
  if (which == limit_reached::none)
    return;
  std::string previous_tail, line;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    auto now = now_();
    if (in_burst_ && now - last_refusal_ < report_interval) {
      // The first one counted starts the span its summary covers.
      if (unreported_process_ + unreported_per_address_ + unreported_closed_ ==
          0)
        counting_since_ = now;
      ++(which == limit_reached::process ? unreported_process_
                                         : unreported_per_address_);
      last_refusal_ = now;
      line = summary_due_locked(now, false);
    } else {
      // A new burst; whatever the last one left unreported goes first.
      previous_tail = summary_due_locked(now, true);
      in_burst_ = true;
      last_refusal_ = now;
      line = opening_line(names_, caps_, open_, which, peer);
    }
  }
  if (!previous_tail.empty())
    report_(previous_tail);
  if (!line.empty())
    report_(line);
}

std::string connection_limits::summary_due_locked(clock::time_point now,
                                                  bool force) {
  auto unreported = unreported_process_ + unreported_per_address_;
  if (unreported + unreported_closed_ == 0 ||
      (!force && now < counting_since_ + report_interval))
    return {};
  // counting_since_ is the first refusal this summary counts, so the span
  // runs from it to the last one, which may be long before a summary
  // flushed by a later connection.
  auto span = whole_seconds(std::max(last_refusal_ - counting_since_,
                                     clock::duration::zero())) +
              1;
  auto line = names_.listener + " connection limit: ";
  if (unreported > 0) {
    line += std::to_string(unreported) + " more " + names_.refused;
    // Without a per-address cap every refusal is at the process cap.
    if (caps_.max_per_address > 0)
      line += " (" + std::to_string(unreported_process_) + " at " +
              names_.process_cap + ", " +
              std::to_string(unreported_per_address_) + " at " +
              names_.per_address_cap + ")";
    if (unreported_closed_ > 0)
      line += " and ";
  }
  if (unreported_closed_ > 0)
    line += std::to_string(unreported_closed_) +
            " more connections closed unanswered at accept (" +
            std::to_string(caps_.max_refusing) +
            " refusals were being answered)";
  line += " within " + std::to_string(span) + " s; " + std::to_string(open_) +
          " open now";
  unreported_process_ = 0;
  unreported_per_address_ = 0;
  unreported_closed_ = 0;
  return line;
}

std::size_t connection_limits::open() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return open_;
}

std::size_t connection_limits::refusing() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return refusing_;
}

std::size_t connection_limits::open_from(
    const asio::ip::address& address) const {
  std::lock_guard<std::mutex> guard{mutex_};
  auto found = by_address_.find(counted_address(address));
  return found == by_address_.end() ? 0 : found->second;
}

}  // namespace batchcast::net
