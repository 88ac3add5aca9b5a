// Caps on a listener's open connections: one for the whole listener and
// one per client address. A connection counts from accept until its socket
// is closed, so an upgrade still being read or decided counts as much as
// an open WebSocket: both hold a descriptor. The public listener counts
// its connections in one; the internal listener, with a cap of its own and
// no per-address cap, in another (see server.hpp).
//
// On the public listener a connection over a cap is not dropped at
// accept: its request is read as usual and an upgrade (or status page) is
// answered 503, so a browser sees a proper HTTP answer. Only
// `max_refusing` such connections are held open at once (each holds a
// descriptor until its request is read and answered); beyond that a
// connection over a cap is closed at accept without an answer, so a flood
// of connections cannot use more than max_connections + max_refusing
// descriptors and starve the internal listener, the databases or the
// cluster of theirs. The internal listener answers its refusals at accept
// instead (listener::cap_connections), one after another on its strand.
// Either way refusals are logged once at the start of a burst and then
// summarized at most every `report_interval`, never one line per refused
// socket.
//
// Behind a reverse proxy every client has the proxy's address, and the
// per-address cap then caps the proxy as a whole; such deployments set it
// to 0 and limit per client in the proxy.
//
// Thread-safe: slots are taken on the listener's strand and released on
// the sessions' strands (or wherever a session is destroyed).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

#include "net/asio.hpp"

namespace batchcast::net {

// Which cap turned a connection away (the same for one closed at accept).
enum class limit_reached {
  none,         // not refused
  process,      // max_connections open in the whole process
  per_address,  // max_per_address open from the client's address
};

// How a connection_limits' log lines name the listener, its caps and its
// refusals; the defaults are the public listener's.
struct limits_wording {
  std::string listener = "public";
  std::string process_cap = "--max-connections";
  std::string per_address_cap = "--max-connections-per-address";
  // What is done meanwhile, in the line that opens a burst.
  std::string refusing = "answering new upgrades with 503";
  // What the summary counts.
  std::string refused = "upgrades answered 503";
};

class connection_limits {
 public:
  using clock = std::chrono::steady_clock;

  struct caps {
    std::size_t max_connections = 50000;  // 0: no cap
    std::size_t max_per_address = 1000;   // 0: no cap
    // Connections over a cap held open while their 503 is written; more
    // are closed at accept. 0: every one is closed at accept.
    std::size_t max_refusing = 64;
  };

  using wording = limits_wording;

  // At most one summary line per interval while refusals go on; a
  // refusal after this much quiet starts a new burst.
  static constexpr std::chrono::seconds report_interval{10};

  // One counted connection, released when destroyed or release()d.
  // Move-only. A refused slot tells which cap refused; it counts among the
  // refusals being answered, or, when too many are, says to close the
  // socket at once (closes_at_once).
  class slot {
   public:
    slot() = default;
    slot(slot&& other) noexcept;
    slot& operator=(slot&& other) noexcept;
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;
    ~slot() { release(); }

    // True for a connection within the caps.
    explicit operator bool() const {
      return owner_ != nullptr && refused_by_ == limit_reached::none;
    }
    limit_reached refused_by() const { return refused_by_; }
    // Refused, and max_refusing refusals are being answered already: the
    // caller closes the socket without reading or answering anything.
    bool closes_at_once() const {
      return owner_ == nullptr && refused_by_ != limit_reached::none;
    }

    void release();

   private:
    friend class connection_limits;
    using address_count =
        std::unordered_map<asio::ip::address, std::size_t>::value_type;

    connection_limits* owner_ = nullptr;
    address_count* address_ = nullptr;  // the client address's counter
    limit_reached refused_by_ = limit_reached::none;
  };

  // `report` receives each refusal log line; by default the "net"
  // logger's warning level. `now` reads the clock. Tests replace both.
  explicit connection_limits(
      caps limits, std::function<void(const std::string&)> report = {},
      std::function<clock::time_point()> now = {}, wording names = {});

  connection_limits(const connection_limits&) = delete;
  connection_limits& operator=(const connection_limits&) = delete;

  // Counts one more connection from `address`, or refuses it when a cap
  // is reached (the slot is then empty). Nothing is logged here: the
  // caller reports the refusal when it answers it.
  slot try_acquire(const asio::ip::address& address);

  // Counts a refusal that was answered (503) to `peer` ("address:port"),
  // and logs it if it starts a burst or a summary is due.
  void refused(limit_reached which, std::string_view peer);

  const caps& limits() const { return caps_; }

  // Connections counted right now, in all and from one address.
  std::size_t open() const;
  std::size_t open_from(const asio::ip::address& address) const;
  // Connections over a cap held open right now while they are answered.
  std::size_t refusing() const;

 private:
  void release(slot& counted);
  // With the lock held: the summary of refusals not yet logged when one
  // is due (or `force`d and there are any), else "".
  std::string summary_due_locked(clock::time_point now, bool force);

  const caps caps_;
  const wording names_;
  const std::function<void(const std::string&)> report_;
  const std::function<clock::time_point()> now_;

  mutable std::mutex mutex_;
  std::size_t open_ = 0;
  std::unordered_map<asio::ip::address, std::size_t> by_address_;
  std::size_t refusing_ = 0;

  // The current burst of refusals, if any.
  bool in_burst_ = false;
  clock::time_point last_refusal_;
  clock::time_point counting_since_;  // of the unreported refusals
  std::size_t unreported_process_ = 0;
  std::size_t unreported_per_address_ = 0;
  std::size_t unreported_closed_ = 0;  // closed at accept, unanswered
};

// The address connections from `address` are counted under: an
// IPv4-mapped IPv6 address counts as the IPv4 address it carries.
asio::ip::address counted_address(const asio::ip::address& address);

}  // namespace batchcast::net
