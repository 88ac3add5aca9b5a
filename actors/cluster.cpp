#include "actors/cluster.hpp"

#include <algorithm>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/message_types.hpp"
#include "actors/peer_record_check.hpp"
#include "common/host_port.hpp"
#include "common/log.hpp"
#include "common/log_throttle.hpp"
#include "common/node_name.hpp"
#include "common/terminal_text.hpp"
#include "common/throttled_log.hpp"

namespace batchcast::actors {

namespace {

using self_ptr = caf::stateful_actor<cluster_state>*;
using peer = cluster_state::peer;
using link = cluster_state::link;
using phase = cluster_state::peer::phase;
using steady = cluster_state::clock;
using records = std::vector<storage::batch_record>;

// Bumped whenever the messages between nodes change meaning: nodes with
// different numbers refuse to link up rather than misread each other.
constexpr std::uint32_t protocol_version = 4;

// How long a connect or a hello may take before it counts as failed: a
// stopped process accepts TCP connections but never answers.
constexpr auto handshake_timeout = std::chrono::seconds{5};
// A catch-up page or a relayed page not answered within this is taken
// for a stuck peer.
constexpr auto page_timeout = std::chrono::seconds{30};
constexpr auto max_backoff = std::chrono::milliseconds{5000};
constexpr auto min_backoff = std::chrono::milliseconds{250};
// For log lines: "retried at least every 5 s".
constexpr auto max_backoff_seconds =
    std::chrono::duration_cast<std::chrono::seconds>(max_backoff).count();

std::shared_ptr<spdlog::logger> log() {
  static auto instance = batchcast::logger("cluster");
  return instance;
}

std::int64_t unix_now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

const char* to_string(phase state) {
  switch (state) {
    case phase::down:
      return "down";
    case phase::connecting:
      return "connecting";
    case phase::up:
      return "up";
  }
  return "down";
}

std::string address_of(const peer& p) {
  return host_and_port(p.address.host, p.address.port);
}

std::string label(const peer& p) {
  return p.name.empty() ? address_of(p) : p.name + "@" + address_of(p);
}

std::string label(const link& l) {
  return l.name.empty() ? std::string{"(unnamed)"} : l.name;
}

link* find_link(self_ptr self, const caf::actor_addr& address) {
  auto found = self->state.links.find(address);
  return found == self->state.links.end() ? nullptr : &found->second;
}

// The link, unless it was closed (and maybe opened again) since `serial`
// was taken: answers meant for an earlier link are dropped.
link* find_link(self_ptr self, const caf::actor_addr& address,
                std::uint64_t serial) {
  auto* found = find_link(self, address);
  return found && found->serial == serial ? found : nullptr;
}

// The link a configured peer's statuses go through: this node's
// connection to it, or the one its own hello opened; null if neither.
const link* link_of(self_ptr self, const peer& p) {
  for (const auto& [address, candidate] : self->state.links)
    if ((p.remote && address == p.remote.address()) ||
        (!p.name.empty() && candidate.name == p.name))
      return &candidate;
  return nullptr;
}

// Hands a copy of the peers' states to the metrics: on every change of a
// peer's phase, and once per heartbeat for the relay queues.
void post_peer_metrics(self_ptr self) {
  std::vector<peer_state> states;
  states.reserve(self->state.peers.size());
  for (const auto& p : self->state.peers) {
    const auto* l = link_of(self, p);
    states.push_back({address_of(p), p.state == phase::up,
                      l != nullptr ? l->relay.queued() : 0});
  }
  self->state.counters->set_peers(std::move(states));
}

void set_phase(self_ptr self, peer& p, phase next) {
  // Since when it is up, or not: a peer that stays away goes between
  // connecting and down at every retry, and "down since" must survive
  // that.
  if ((p.state == phase::up) != (next == phase::up) || p.state_since_ms == 0)
    p.state_since_ms = unix_now_ms();
  p.state = next;
  post_peer_metrics(self);
}

caf::actor_addr sender_of(self_ptr self) {
  auto source = self->current_sender();
  return source ? source->address() : caf::actor_addr{};
}

// Something arrived from `address`: it is alive.
void heard_from(self_ptr self, const caf::actor_addr& address) {
  if (!address)
    return;
  auto* l = find_link(self, address);
  if (l == nullptr)
    return;
  l->heard = steady::now();
  auto now_ms = unix_now_ms();
  for (auto& p : self->state.peers)
    if ((p.remote && p.remote.address() == address) ||
        (!l->name.empty() && p.name == l->name))
      p.last_heard_ms = now_ms;
}

// ---- connecting to configured peers -----------------------------------

void schedule_connect(self_ptr self, std::size_t index) {
  auto& p = self->state.peers[index];
  self->delayed_send(self, p.backoff, connect_peer_atom::value, index);
  p.backoff = std::min(p.backoff * 2, max_backoff);
}

void peer_down(self_ptr self, std::size_t index, const std::string& reason) {
  auto& p = self->state.peers[index];
  log()->info("peer down peer={} reason={}", label(p), reason);
  p.reason = reason;
  p.remote = nullptr;
  set_phase(self, p, phase::down);
  p.catching_up = false;
  p.pulling = false;
  ++p.generation;
  schedule_connect(self, index);
}

// Forgets the link to `address` (its queued statuses are left to the
// peer's catch-up); a configured peer reached through it goes down.
void close_link(self_ptr self, const caf::actor_addr& address,
                const std::string& reason) {
  auto& st = self->state;
  bool was_peer = false;
  for (std::size_t index = 0; index < st.peers.size(); ++index) {
    if (st.peers[index].remote && st.peers[index].remote.address() == address) {
      was_peer = true;
      peer_down(self, index, reason);
    }
  }
  auto found = st.links.find(address);
  if (found == st.links.end())
    return;
  if (!was_peer)
    log()->info("link closed peer={} reason={}", label(found->second), reason);
  // What this link had not got across: pages unanswered, and statuses
  // still to be read from the store (it was sending from there).
  const auto& closing = found->second;
  std::optional<std::int64_t> oldest = closing.relay.store_cursor();
  if (!closing.unanswered_pages.empty())
    oldest = std::min(oldest.value_or(*closing.unanswered_pages.begin()),
                      *closing.unanswered_pages.begin());
  if (oldest && !closing.name.empty()) {
    auto [entry, added] = st.resend_from_ms.emplace(closing.name, *oldest);
    if (!added)
      entry->second = std::min(entry->second, *oldest);
  }
  self->demonitor(found->second.remote);
  st.links.erase(found);
}

// A link to a peer an earlier link left pages unanswered to: those
// statuses go again, from the store.
void resend_unanswered(self_ptr self, link& l) {
  auto& st = self->state;
  auto found = st.resend_from_ms.find(l.name);
  if (found == st.resend_from_ms.end())
    return;
  log()->info(
      "peer={}: sending this node's statuses from {} on again (the last "
      "link to it left pages of them unanswered)",
      label(l), found->second);
  l.relay.resend_from(found->second);
  st.resend_from_ms.erase(found);
}

link& open_link(self_ptr self, const caf::actor& remote,
                const std::string& name) {
  auto& st = self->state;
  auto found = st.links.find(remote.address());
  if (found == st.links.end()) {
    found =
        st.links
            .emplace(std::piecewise_construct,
                     std::forward_as_tuple(remote.address()),
                     std::forward_as_tuple(remote, name, st.next_link_serial++,
                                           st.relay, st.node_name))
            .first;
    found->second.heard = steady::now();
    self->monitor(remote);
  } else if (!name.empty()) {
    found->second.name = name;
  }
  if (!found->second.name.empty())
    resend_unanswered(self, found->second);
  return found->second;
}

// ---- applying a peer's records ----------------------------------------

// Hands `batch` to the local registry's apply path (stored newest-wins,
// delivered if terminal); `done(ok)` runs once every record is committed
// or failed.
// A hostile sender can fill pages with bad records at will: a few lines
// tell the operator, the rest are counted in the held-back note.
log_throttle dropped_records_logged;
// A peer that cannot store refuses every page, once a liveness round;
// and a store that fails does so for every page a peer sends.
log_throttle page_refusals_logged;
log_throttle peer_records_not_stored_logged;
// A pull is tried again each liveness round or pull interval until it
// succeeds.
log_throttle catch_up_failures_logged;
// Anything on the node port can send messages the cluster actor does not
// know, as fast as it likes.
log_throttle unexpected_messages_logged;

// A warning a peer can cause as often as it likes: written while
// `throttle` admits it, else at debug, so a debug log still has them all.
void warn_throttled(log_throttle& throttle, const std::string& line) {
  log_throttled(*log(), spdlog::level::warn, throttle, line);
}

std::int64_t heartbeat_ms(self_ptr self) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             self->state.heartbeat)
      .count();
}

// A stamp taken from a peer pulls this node's later stamps along with it
// (stamp_clock.hpp): one well ahead of this node's clock, yet within a
// day and so stored, moves every node's stamps ahead for good without
// anything else showing it. Publish bursts run stamps ahead by minutes
// at most; beyond this, a clock is wrong or a record was tampered with.
constexpr std::int64_t far_ahead_ms = 10 * 60 * 1000;
log_throttle far_ahead_logged;

void warn_if_far_ahead(const storage::batch_record& record,
                       std::int64_t now_ms) {
  if (record.updated_at_ms - now_ms <= far_ahead_ms)
    return;
  warn_throttled(
      far_ahead_logged,
      fmt::format("a peer's status for batch={} origin={} is stamped {} s "
                  "ahead of this node's clock; this node's later publishes "
                  "are stamped after it. Is a node's clock ahead (check NTP "
                  "on every node), or was the link between nodes tampered "
                  "with?",
                  record.batch_id, one_line(record.origin),
                  (record.updated_at_ms - now_ms) / 1000));
}

void apply_records(self_ptr self, records batch,
                   std::function<void(bool)> done) {
  struct progress {
    std::size_t waiting = 0;
    bool failed = false;  // also: the first failure was logged
  };
  // No batchcast node sends these (see peer_record_check.hpp).
  auto now_ms = unix_now_ms();
  const char* problem = nullptr;
  std::string first_dropped;  // "batch=... origin=..." of the first
  auto dropped = std::remove_if(
      batch.begin(), batch.end(),
      [now_ms, &problem, &first_dropped](const storage::batch_record& record) {
        auto found = peer_record_problem(record, now_ms);
        if (found && problem == nullptr) {
          problem = *found;
          // Cut short: a hostile page may carry megabytes in either.
          auto shown = [](const std::string& text) {
            return one_line(std::string_view{text}.substr(0, 64));
          };
          first_dropped =
              fmt::format("batch={} origin={}", shown(record.batch_id),
                          shown(record.origin));
        }
        return found.has_value();
      });
  if (dropped != batch.end()) {
    if (auto held_back = dropped_records_logged.admit())
      log()->warn(
          "ignored {} record(s) from a peer, the first ({}) {}; is it "
          "running the same batchcast version, with its clock right? "
          "(anything that reaches the node port can send records){}",
          std::distance(dropped, batch.end()), first_dropped, problem,
          log_throttle::held_back_note(*held_back));
    batch.erase(dropped, batch.end());
  }
  if (batch.empty()) {
    done(true);
    return;
  }
  auto state = std::make_shared<progress>();
  state->waiting = batch.size();
  const storage::batch_record* newest = nullptr;
  for (const auto& record : batch) {
    if (!newest || record.updated_at_ms > newest->updated_at_ms)
      newest = &record;
  }
  warn_if_far_ahead(*newest, now_ms);
  auto finish_one = [state, done = std::move(done)] {
    if (--state->waiting == 0)
      done(!state->failed);
  };
  for (auto& record : batch) {
    auto batch_id = record.batch_id;
    self->request(self->state.registry, caf::infinite, apply_atom::value,
                  std::move(record))
        .then([finish_one](storage::batch_record&) { finish_one(); },
              [state, finish_one, batch_id](caf::error& err) {
                // One line per batch of records: a failing store fails
                // them all, for the same reason.
                if (!state->failed)
                  if (auto held_back = peer_records_not_stored_logged.admit())
                    log()->warn(
                        "status from peer not stored batch={} error={}{}",
                        batch_id, describe(err),
                        log_throttle::held_back_note(*held_back));
                state->failed = true;
                finish_one();
              });
  }
}

// ---- catching up from a configured peer -------------------------------
//
// Pages of everything the peer wrote to its store after a point in its
// own order of commits, whichever node published it: besides the live
// relay of each node's own statuses, the way a status reaches this node
// from a node other than its origin. The point (pulled_up_to_seq) is the
// last commit number of the peer's store this node has applied, with
// that store's id, new at each open: a page from another (the peer
// restarted, maybe on a file restored from a copy) starts it again from
// the beginning. A pull runs after every
// (re)connect, as the catch-up GET /cluster shows, and again every pull
// interval while the peer is up, so that a status whose origin is cut off
// from this node alone still arrives through the nodes that heard it.

void pull(self_ptr self, std::size_t index);

// The page is committed (or failed); advance and ask for the next one.
void page_applied(self_ptr self, std::size_t index, std::uint64_t generation,
                  std::uint64_t round, std::uint64_t after_seq,
                  const storage::commit_page& page, std::size_t count,
                  bool failed) {
  auto& p = self->state.peers[index];
  if (p.generation != generation || p.pull_round != round || !p.remote)
    return;
  if (failed) {
    // Not advanced: the next pull asks for the same records again (each
    // pull interval, while this node's store fails: throttled).
    p.pulling = false;
    warn_throttled(catch_up_failures_logged,
                   fmt::format("catch-up stopped peer={} after={}: a record "
                               "was not stored; trying again in {} s",
                               label(p), p.pulled_up_to_seq,
                               std::chrono::duration_cast<std::chrono::seconds>(
                                   self->state.pull_interval)
                                   .count()));
    return;
  }
  if (page.store_id != p.pulled_store_id) {
    p.pulled_store_id = page.store_id;
    if (after_seq != 0) {
      // The peer restarted: its numbers count from another point, and
      // what it wrote up to the old one would be skipped. Applied anyway
      // (newest wins); read again from its first write on.
      log()->info("peer={} restarted; pulling everything it holds again",
                  label(p));
      p.pulled_up_to_seq = 0;
      pull(self, index);
      return;
    }
  }
  // A full page that moves the point on not at all could only come again:
  // no batchcast node sends one, so the pull ends there.
  bool moved_on = page.last_seq > after_seq;
  p.pulled_up_to_seq = std::max(p.pulled_up_to_seq, page.last_seq);
  if (count < self->state.catch_up_page || !moved_on) {
    p.pulling = false;
    if (p.catching_up) {
      p.catching_up = false;
      log()->info("caught up peer={} up_to={}", label(p), p.pulled_up_to_seq);
    }
    return;
  }
  pull(self, index);
}

// Starts a pull from the peer, a page at a time; `catching_up` after a
// (re)connect, which GET /cluster shows and the log reports when done.
void start_pull(self_ptr self, std::size_t index, bool catching_up) {
  auto& p = self->state.peers[index];
  p.catching_up = p.catching_up || catching_up;
  p.catch_up_due = false;
  p.next_pull = steady::now() + self->state.pull_interval;
  ++p.pull_round;
  pull(self, index);
}

// Pulls one page of what the peer committed after pulled_up_to_seq.
void pull(self_ptr self, std::size_t index) {
  auto& p = self->state.peers[index];
  p.pulling = true;
  auto generation = p.generation;
  auto round = p.pull_round;
  auto address = p.remote.address();
  auto after_seq = p.pulled_up_to_seq;
  self->request(p.remote, page_timeout, commits_atom::value, after_seq,
                static_cast<std::uint64_t>(self->state.catch_up_page))
      .then(
          [self, index, generation, round, after_seq,
           address](storage::commit_page& page) {
            const auto& p = self->state.peers[index];
            if (p.generation != generation || p.pull_round != round)
              return;
            heard_from(self, address);
            log()->debug("catch-up page peer={} after={} records={}",
                         label(self->state.peers[index]), after_seq,
                         page.records.size());
            auto count = page.records.size();
            auto records = std::move(page.records);
            apply_records(self, std::move(records),
                          [self, index, generation, round, after_seq,
                           page = std::move(page), count](bool ok) {
                            page_applied(self, index, generation, round,
                                         after_seq, page, count, !ok);
                          });
          },
          [self, index, generation, round](caf::error& err) {
            auto& p = self->state.peers[index];
            if (p.generation != generation || p.pull_round != round)
              return;
            p.pulling = false;
            if (is_error(err, errc::node_busy)) {
              p.catch_up_due = true;
              log()->debug("catch-up from peer={} waits: it is busy", label(p));
              return;
            }
            // Tried again on the next liveness round: with the peer still
            // up (the link on another of its connections), nothing else
            // would ask for what this node missed.
            p.catch_up_due = true;
            warn_throttled(
                catch_up_failures_logged,
                fmt::format("catch-up failed peer={} error={}; trying again "
                            "in {} ms",
                            label(p), describe(err), heartbeat_ms(self)));
          });
}

void peer_up(self_ptr self, std::size_t index, caf::actor remote,
             std::string name) {
  auto& p = self->state.peers[index];
  set_phase(self, p, phase::up);
  p.reason.clear();
  p.refusal_logged = false;
  p.failure_logged.clear();
  p.backoff = min_backoff;
  p.name = std::move(name);
  p.remote = remote;
  open_link(self, remote, p.name);
  heard_from(self, remote.address());
  log()->info("peer up peer={}", label(p));
  start_pull(self, index, true);
}

// Why a connect, a hello or a link failed, in words an operator can act
// on, CAF's own name for it following in parentheses.
std::string peer_failure(const caf::error& err) {
  const char* words = nullptr;
  if (err == caf::sec::request_timeout)
    words = "it did not answer in time";
  else if (err == caf::sec::connection_timeout)
    words = "nothing came over the connection for too long";
  else if (err == caf::exit_reason::remote_link_unreachable)
    words = "the connection to it was lost";
  else if (err == caf::sec::cannot_connect_to_node)
    words = "it could not be reached";
  if (words == nullptr)
    return describe(err);
  return std::string{words} + " (" + describe(err) + ")";
}

void connect_failed(self_ptr self, std::size_t index, const caf::error& err) {
  auto& p = self->state.peers[index];
  set_phase(self, p, phase::down);
  auto refused = self->state.refused_by_gate
                     ? self->state.refused_by_gate->get(index)
                     : std::string{};
  p.reason = refused.empty() ? peer_failure(err) : refused;
  if (err == caf::sec::unexpected_message)
    log()->warn(
        "peer={} did not understand this node's hello; is it running the "
        "same batchcast version? retry_in={}ms",
        label(p), p.backoff.count());
  else if (p.reason != p.failure_logged) {
    // A mistyped --peer or a node not started yet: said once, not at
    // every retry.
    p.failure_logged = p.reason;
    log()->info(
        "peer={} not reached: {}; retrying at least every {} s (logged "
        "again if the reason changes)",
        label(p), p.reason, max_backoff_seconds);
  } else {
    log()->debug("connect failed peer={} retry_in={}ms error={}", label(p),
                 p.backoff.count(), describe(err));
  }
  schedule_connect(self, index);
}

// Why a peer named as this node is not linked to, for the log and for
// GET /cluster.
std::string namesake_reason(const std::string& name) {
  return "it calls itself " + name +
         ", as this node does: give every node its own --node-name";
}

// A configured peer answered this node's hello with this node's own name.
// Records are tagged with their node's name, and that name breaks the tie
// between two records of one millisecond: two nodes of one name could
// each keep their own status for ever. So they do not link; the peer is
// tried again with the usual backoff, since the operator may restart one
// of them under another name. Logged as an error once until it links.
void refuse_namesake(self_ptr self, std::size_t index,
                     const caf::actor& remote) {
  auto& p = self->state.peers[index];
  p.name = self->state.node_name;
  p.reason = namesake_reason(p.name);
  set_phase(self, p, phase::down);
  // Its hello reaches this node too, if it lists this node as a peer:
  // one error line for both.
  self->state.namesakes_logged.insert(caf::to_string(remote.node()));
  if (!p.refusal_logged) {
    p.refusal_logged = true;
    log()->error(
        "not linking this node {} ({}) to its peer at {} (id={}): both call "
        "themselves {}; give every node its own --node-name and restart one "
        "of them (retried meanwhile, at least every {} s)",
        p.name, self->state.node_address, address_of(p),
        caf::to_string(remote.node()), p.name, max_backoff_seconds);
  } else {
    log()->debug("still not linking to peer={}: {} retry_in={}ms", label(p),
                 p.reason, p.backoff.count());
  }
  schedule_connect(self, index);
}

// Why a peer whose hello carried an unusable name is not linked to, for
// the log and for GET /cluster. The name itself is left out: it is what
// could not be shown.
std::string bad_name_reason(const std::string& problem) {
  return "its node name cannot be used: " + problem +
         "; give it a --node-name of printable text";
}

// A configured peer answered this node's hello with a name no node may
// have (see node_name_problem): a node of an older version or not a
// batchcast node at all. Its name would be logged, shown and stored with
// its records, so it is not linked; retried with the usual backoff, and
// logged as an error once until it links.
void refuse_bad_name(self_ptr self, std::size_t index, const caf::actor& remote,
                     const std::string& problem) {
  auto& p = self->state.peers[index];
  p.reason = bad_name_reason(problem);
  set_phase(self, p, phase::down);
  // Its hello reaches this node too, if it lists this node as a peer:
  // one error line for both.
  self->state.namesakes_logged.insert(caf::to_string(remote.node()));
  if (!p.refusal_logged) {
    p.refusal_logged = true;
    log()->error(
        "not linking to peer at {} (id={}): {} (retried meanwhile, "
        "at least every {} s)",
        address_of(p), caf::to_string(remote.node()), p.reason,
        max_backoff_seconds);
  } else {
    log()->debug("still not linking to peer={}: {} retry_in={}ms", label(p),
                 p.reason, p.backoff.count());
  }
  schedule_connect(self, index);
}

// A configured peer's address led to a node this node cannot link to
// there: itself (a --peer naming this node, or whatever answers there
// claiming to be it), or a node already linked through another configured
// address (two --peer naming one node, or an impostor copying that node's
// id from the log). Tried again with backoff, for as long as the node
// runs: what answers at the address may change. Logged once until it
// links.
void refuse_address(self_ptr self, std::size_t index, std::string reason) {
  auto& p = self->state.peers[index];
  p.reason = std::move(reason);
  set_phase(self, p, phase::down);
  if (!p.refusal_logged) {
    p.refusal_logged = true;
    log()->warn(
        "not linking to peer={}: {} (retried meanwhile, at least "
        "every {} s)",
        label(p), p.reason, max_backoff_seconds);
  } else {
    log()->debug("still not linking to peer={}: {} retry_in={}ms", label(p),
                 p.reason, p.backoff.count());
  }
  schedule_connect(self, index);
}

// Why `remote`, reached through configured peer `index`, cannot be
// linked there; nothing when it can.
std::optional<std::string> unlinkable(self_ptr self, std::size_t index,
                                      const caf::actor& remote) {
  const auto& peers = self->state.peers;
  if (remote.address() == self->address())
    return "its address leads back to this node";
  for (std::size_t other = 0; other < peers.size(); ++other) {
    const auto& q = peers[other];
    if (other != index && q.remote && q.remote.address() == remote.address())
      return "the node there is linked already as peer " + label(q) +
             "; is one node listed twice, or is something posing as it?";
  }
  return std::nullopt;
}

// Why configured peer `index`, a node other than those linked, cannot
// be linked under `name`: another linked peer has that name. Two nodes
// sharing a name refuse each other, yet a third would take both, and
// what this node keeps per peer name would mix them up.
std::optional<std::string> name_taken(self_ptr self, std::size_t index,
                                      const std::string& name) {
  const auto& peers = self->state.peers;
  for (std::size_t other = 0; other < peers.size(); ++other) {
    const auto& q = peers[other];
    if (other != index && q.state == phase::up && q.name == name)
      return "it calls itself " + name + ", as linked peer " + label(q) +
             " does: two nodes share a name; give every node its own "
             "--node-name";
  }
  return std::nullopt;
}

void say_hello(self_ptr self, std::size_t index, caf::actor remote) {
  if (auto why = unlinkable(self, index, remote)) {
    refuse_address(self, index, *why);
    return;
  }
  self->request(remote, handshake_timeout, hello_atom::value,
                self->state.node_name, protocol_version)
      .then(
          [self, index, remote](std::string& name, std::uint32_t protocol) {
            if (protocol != protocol_version) {
              log()->warn(
                  "peer={} speaks cluster protocol {}, this node {}: not "
                  "linking; run the same batchcast version on every node",
                  name, protocol, protocol_version);
              connect_failed(self, index,
                             caf::make_error(caf::sec::runtime_error));
              return;
            }
            if (auto problem = node_name_problem(name)) {
              refuse_bad_name(self, index, remote, *problem);
              return;
            }
            if (name == self->state.node_name) {
              refuse_namesake(self, index, remote);
              return;
            }
            // Another address may have led to it meanwhile.
            if (auto why = unlinkable(self, index, remote)) {
              refuse_address(self, index, *why);
              return;
            }
            if (auto why = name_taken(self, index, name)) {
              refuse_address(self, index, *why);
              return;
            }
            peer_up(self, index, remote, std::move(name));
          },
          [self, index](caf::error& err) { connect_failed(self, index, err); });
}

// One attempt: a TCP connect (blocking, hence detached), then CAF's BASP
// handshake on that connection, answered by the BASP broker straight to
// the requester. With dial gates the connect goes to the peer's gate on
// loopback, which checks what the peer's address answers before CAF
// reads it (a server handshake header without payload crashes CAF 0.17;
// see net/basp_framing.hpp).
caf::behavior dialer(caf::event_based_actor* self, caf::actor basp) {
  return {
      [self, basp](dial_atom, const std::string& host, std::uint16_t port) {
        auto promise = self->make_response_promise();
        auto scribe =
            self->system().middleman().backend().new_tcp_scribe(host, port);
        if (scribe)
          promise.delegate(basp, caf::connect_atom::value, std::move(*scribe),
                           port);
        else
          promise.deliver(std::move(scribe.error()));
        self->quit();
      },
  };
}

void connect(self_ptr self, std::size_t index) {
  auto& p = self->state.peers[index];
  if (p.state != phase::down)
    return;
  // Its gate's port has yet to arrive; dialed then.
  if (self->state.gate_ports.valid() && p.gate_port == 0)
    return;
  if (p.dialer) {
    // The last attempt's TCP connect has not returned yet (a peer whose
    // network drops packets): wait rather than pile up threads.
    schedule_connect(self, index);
    return;
  }
  set_phase(self, p, phase::connecting);
  auto dialing =
      self->spawn<caf::detached + caf::monitored>(dialer, self->state.basp);
  p.dialer = dialing.address();
  auto gated = p.gate_port != 0;
  self->request(dialing, handshake_timeout, dial_atom::value,
                gated ? std::string{"127.0.0.1"} : p.address.host,
                gated ? p.gate_port : p.address.port)
      .then(
          [self, index](caf::node_id&, caf::strong_actor_ptr& found,
                        std::set<std::string>&) {
            if (!found) {
              connect_failed(
                  self, index,
                  caf::make_error(caf::sec::no_actor_published_at_port));
              return;
            }
            say_hello(self, index, caf::actor_cast<caf::actor>(found));
          },
          [self, index](caf::error& err) { connect_failed(self, index, err); });
}

// ---- relaying this node's statuses ------------------------------------

void pump(self_ptr self, link& l);

void send_page(self_ptr self, link& l, records page) {
  auto oldest_ms = page.front().updated_at_ms;
  for (const auto& record : page)
    oldest_ms = std::min(oldest_ms, record.updated_at_ms);
  auto address = l.remote.address();
  auto serial = l.serial;
  l.unanswered_pages.insert(oldest_ms);
  auto answered = [](link& l, std::int64_t oldest_ms) {
    auto found = l.unanswered_pages.find(oldest_ms);
    if (found != l.unanswered_pages.end())
      l.unanswered_pages.erase(found);
  };
  self->request(l.remote, page_timeout, apply_page_atom::value, std::move(page))
      .then(
          [self, address, serial, oldest_ms, answered](std::uint64_t) {
            auto* l = find_link(self, address, serial);
            if (l == nullptr)
              return;
            answered(*l, oldest_ms);
            heard_from(self, address);
            l->relay.page_committed();
            pump(self, *l);
          },
          [self, address, serial, oldest_ms, answered](caf::error& err) {
            auto* l = find_link(self, address, serial);
            // A peer that went away: its down message closes the link.
            if (l == nullptr || is_receiver_gone(err))
              return;
            if (err == caf::sec::request_timeout) {
              // Left in unanswered_pages: the next link sends it again.
              log()->warn(
                  "peer={} left a page of statuses unanswered for {} s; "
                  "dropping the link (it catches up when it reconnects)",
                  label(*l), page_timeout.count());
              close_link(self, address, "page unanswered");
              return;
            }
            answered(*l, oldest_ms);
            // Sent again from the store on the next liveness round, not
            // at once: a busy peer is taking in all it can, and one that
            // cannot store (its state file gone, a page it cannot read)
            // answers at once, which would make a hot loop of it.
            l->relay.page_failed(oldest_ms);
            if (is_error(err, errc::node_busy)) {
              log()->debug(
                  "peer={} is busy and did not take a page of statuses; "
                  "sending them again from the store",
                  label(*l));
              return;
            }
            warn_throttled(
                page_refusals_logged,
                fmt::format("peer={} did not store a page of statuses "
                            "error={}; sending them again from the store in "
                            "{} ms (see that node's log and /readyz)",
                            label(*l), describe(err), heartbeat_ms(self)));
          });
}

void read_store(self_ptr self, link& l, std::int64_t since_ms) {
  auto address = l.remote.address();
  auto serial = l.serial;
  self->request(self->state.store, caf::infinite, changes_atom::value, since_ms,
                static_cast<std::uint64_t>(self->state.relay.page_size))
      .then(
          [self, address, serial](records& read) {
            auto* l = find_link(self, address, serial);
            if (l == nullptr)
              return;
            auto own = l->relay.store_read_done(read);
            if (!own.empty())
              send_page(self, *l, std::move(own));
            if (l->relay.take_caught_up())
              log()->debug("relay to peer={} caught up; statuses go live again",
                           label(*l));
            pump(self, *l);
          },
          [self, address, serial](caf::error& err) {
            auto* l = find_link(self, address, serial);
            if (l == nullptr)
              return;
            // Retried on the next liveness round, not at once: the store
            // is failing and a tight loop would not help it.
            l->relay.store_read_failed();
            log()->warn("relay to peer={} cannot read the store error={}",
                        label(*l), describe(err));
          });
}

// Sends what the relay allows now: live pages, or the next read from the
// store when the peer fell behind.
void pump(self_ptr self, link& l) {
  if (l.relay.times_fell_behind() != l.fell_behind_seen) {
    // A peer slower than the publishes falls behind again and again; one
    // line a minute says so without flooding the log.
    l.fell_behind_seen = l.relay.times_fell_behind();
    auto now = steady::now();
    auto level = spdlog::level::debug;
    if (now - l.fell_behind_logged_at > std::chrono::minutes{1}) {
      level = spdlog::level::info;
      l.fell_behind_logged_at = now;
    }
    log()->log(level,
               "relay to peer={} fell behind (its queue of {} statuses "
               "filled; {} times since linked); sending from the store until "
               "it catches up",
               label(l), self->state.relay.queued_records, l.fell_behind_seen);
  }
  while (auto page = l.relay.next_live_page())
    send_page(self, l, std::move(*page));
  if (auto since_ms = l.relay.next_store_read())
    read_store(self, l, *since_ms);
}

void forward(self_ptr self, const storage::batch_record& record) {
  for (auto& [address, l] : self->state.links) {
    l.relay.push(record);
    pump(self, l);
  }
}

// The dial gates listen: dial every peer through its own. Once only.
void use_dial_gates(self_ptr self) {
  auto& st = self->state;
  if (!st.gate_ports.valid())
    return;
  auto set = st.gate_ports.wait_for(std::chrono::seconds{0});
  if (set != std::future_status::ready)
    return;  // sent early, by something on the node port
  std::vector<std::uint16_t> ports;
  try {
    ports = st.gate_ports.get();
  } catch (const std::future_error&) {
    return;  // the network layer did not start; the node is stopping
  }
  for (std::size_t index = 0; index < st.peers.size(); ++index) {
    auto& p = st.peers[index];
    if (p.gate_port != 0 || index >= ports.size() || ports[index] == 0)
      continue;
    p.gate_port = ports[index];
    log()->debug("dialing peer={} through 127.0.0.1:{}", label(p), p.gate_port);
    connect(self, index);
  }
}

// ---- liveness -----------------------------------------------------------

void check_liveness(self_ptr self) {
  auto& st = self->state;
  auto now = steady::now();
  auto late = now - st.next_liveness_check;
  if (late > st.heartbeat) {
    // This node was not running (stopped, or starved of CPU): the peers'
    // messages are still in the mailbox, so their silence means nothing.
    log()->warn(
        "cluster checks ran {} ms late (this process was stopped or "
        "starved of CPU); not judging peers' silence this round",
        std::chrono::duration_cast<std::chrono::milliseconds>(late).count());
    for (auto& [address, l] : st.links)
      l.heard = now;
  }
  std::vector<std::pair<caf::actor_addr, std::string>> silent;
  for (auto& [address, l] : st.links) {
    auto quiet =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - l.heard);
    if (quiet > st.silence_limit) {
      silent.emplace_back(
          address, "silent for " + std::to_string(quiet.count()) + " ms");
      continue;
    }
    self->send(l.remote, heartbeat_atom::value);
    pump(self, l);  // retries a failed read from the store
  }
  for (const auto& [address, reason] : silent)
    close_link(self, address, reason);
  for (std::size_t index = 0; index < st.peers.size(); ++index) {
    auto& p = st.peers[index];
    if (p.state != phase::up || !p.remote || p.pulling)
      continue;
    if (p.catch_up_due || now >= p.next_pull)
      start_pull(self, index, false);
  }
  post_peer_metrics(self);
  st.next_liveness_check = now + st.heartbeat;
  self->delayed_send(self, st.heartbeat, liveness_atom::value);
}

// ---- answering peers and operators ------------------------------------

// A peer said hello again on a link this node had taken its hello on: it
// let this node go (judged it silent) and dialed it again. This node may
// not have noticed, if it was the one frozen or starved and resumed just
// as the peer gave up on it: then it never judged the peer silent, and
// what the peer published while its link was gone came through no link.
// Catching up from the peer again fills that gap. (Not a hello back: two
// nodes could answer each other's hellos for ever.)
log_throttle relinks_logged;

void catch_up_again(self_ptr self, const caf::actor_addr& address) {
  auto& peers = self->state.peers;
  for (std::size_t index = 0; index < peers.size(); ++index) {
    auto& p = peers[index];
    if (p.state != phase::up || !p.remote || p.remote.address() != address)
      continue;
    // Also each time a node refusing this one (it links another node of
    // this one's name) tries again: throttled.
    log_throttled(*log(), spdlog::level::info, relinks_logged,
                  fmt::format("peer={} linked to this node again after "
                              "letting it go; catching up from it",
                              label(p)));
    // At once, even with a pull in flight: it may have read the peer's
    // store before the gap ended, or its answer may never come (lost with
    // the connection the peer let go), and would be waited for 30 s.
    start_pull(self, index, true);
    return;
  }
}

// A hello from a node named as this one is (see refuse_namesake): not
// subscribed. Said once per process of that node (its id changes when it
// restarts), for a node that is not among --peer too.
void refuse_namesake_hello(self_ptr self, const caf::actor& sender,
                           const std::string& peer_name) {
  auto id = sender ? caf::to_string(sender.node()) : std::string{"unknown"};
  if (!self->state.namesakes_logged.insert(id).second)
    return;
  log()->error(
      "not linking this node {} ({}) to node id={}, which said hello: both "
      "call themselves {}; give every node its own --node-name and restart "
      "one of them",
      peer_name, self->state.node_address, id, peer_name);
}

// A hello carrying a name no node may have (see refuse_bad_name): not
// subscribed, said once per process of that node.
void refuse_bad_name_hello(self_ptr self, const caf::actor& sender,
                           const std::string& problem) {
  auto id = sender ? caf::to_string(sender.node()) : std::string{"unknown"};
  if (!self->state.namesakes_logged.insert(id).second)
    return;
  log()->error("not linking to node id={}, which said hello: {}", id,
               bad_name_reason(problem));
}

caf::result<std::string, std::uint32_t> on_hello(self_ptr self,
                                                 const std::string& peer_name,
                                                 std::uint32_t protocol) {
  auto& st = self->state;
  auto sender = caf::actor_cast<caf::actor>(self->current_sender());
  if (protocol != protocol_version) {
    log()->warn(
        "hello from node={} with cluster protocol {}, this node {}: not "
        "linking; run the same batchcast version on every node",
        peer_name, protocol, protocol_version);
    return {st.node_name, protocol_version};
  }
  if (auto problem = node_name_problem(peer_name)) {
    refuse_bad_name_hello(self, sender, *problem);
    return {st.node_name, protocol_version};
  }
  if (peer_name == st.node_name) {
    // Answered all the same: the peer refuses this node on reading its
    // name. Its next hello comes after its backoff, so configured peers
    // are not hurried here either, or two namesakes would make each
    // other retry at once, for ever.
    refuse_namesake_hello(self, sender, peer_name);
    return {st.node_name, protocol_version};
  }
  if (sender && sender.address() != self->address()) {
    auto& l = open_link(self, sender, peer_name);
    bool again = l.subscribed;
    if (!l.subscribed) {
      l.subscribed = true;
      log()->debug("hello from peer={}", peer_name);
    }
    heard_from(self, sender.address());
    if (again)
      catch_up_again(self, sender.address());
    // A node saying hello may have just started: try the configured peers
    // that wait for their next attempt now rather than after the backoff.
    for (std::size_t index = 0; index < st.peers.size(); ++index) {
      if (st.peers[index].state == phase::down) {
        st.peers[index].backoff = min_backoff;
        self->send(self, connect_peer_atom::value, index);
      }
    }
  }
  return {st.node_name, protocol_version};
}

// The sending node as peer_intake names it.
std::string node_of(const caf::actor_addr& sender) {
  return sender ? caf::to_string(sender.node()) : std::string{"unknown"};
}

// Anything that reaches the node port can flood it: a few lines tell the
// operator, the rest are counted in the held-back note.
log_throttle busy_refusals_logged;
log_throttle unsolicited_errors_logged;

// `page_records`: the records of the page refused; 0 for a read of this
// node's changes. Called for every refusal of a flood, so the text is
// made only for a line that is written.
void refused_as_busy(self_ptr self, const std::string& node,
                     std::uint64_t page_records) {
  auto what = [page_records] {
    return page_records > 0 ? fmt::format("a page of {} statuses", page_records)
                            : std::string{"a read of this node's changes"};
  };
  const auto& intake = self->state.intake;
  if (auto held_back = busy_refusals_logged.admit())
    log()->warn(
        "answered {} from node id={} with node_busy: peers' requests in "
        "flight here are at their bound ({} records being applied, {} reads "
        "being served); a batchcast peer retries later, so this is a node "
        "sending more than one of ours would, or a burst{}",
        what(), node, intake.records_in_flight(), intake.reads_in_flight(),
        log_throttle::held_back_note(*held_back));
  else if (log()->should_log(spdlog::level::debug))
    log()->debug("answered {} from node id={} with node_busy", what(), node);
}

// A page of a peer's statuses: applied here, never forwarded.
caf::result<std::uint64_t> on_apply_page(self_ptr self, records& page) {
  // Before the promise: making it takes the sender out of the message.
  auto sender = sender_of(self);
  heard_from(self, sender);
  auto node = node_of(sender);
  auto count = static_cast<std::uint64_t>(page.size());
  if (!self->state.intake.admit_records(node, page.size())) {
    refused_as_busy(self, node, count);  // never 0: empty pages are taken
    return make_error(errc::node_busy);
  }
  auto promise = self->make_response_promise<std::uint64_t>();
  apply_records(self, std::move(page),
                [self, promise, node, count](bool ok) mutable {
                  self->state.intake.records_done(node, count);
                  if (!ok) {
                    promise.deliver(make_error(errc::storage_failed));
                    return;
                  }
                  promise.deliver(count);
                });
  return promise;
}

caf::result<storage::commit_page> serve_commits(self_ptr self,
                                                std::uint64_t after_seq,
                                                std::uint64_t limit) {
  // Before the promise takes the sender.
  auto requester = caf::actor_cast<caf::actor>(self->current_sender());
  // A peer pulling our changes gets our statuses, as after a hello. A peer
  // catching up again without one (see catch_up_again) asks before it has
  // answered our new hello, so its link may not be open yet.
  if (requester && requester.address() != self->address()) {
    open_link(self, requester, "").subscribed = true;
    heard_from(self, requester.address());
  }
  auto node = node_of(requester.address());
  if (!self->state.intake.admit_read(node)) {
    refused_as_busy(self, node, 0);
    return make_error(errc::node_busy);
  }
  auto promise = self->make_response_promise<storage::commit_page>();
  // Bounded by our page size whatever a peer asks for.
  limit = std::min<std::uint64_t>(limit, self->state.catch_up_page);
  self->request(self->state.store, caf::infinite, commits_atom::value,
                after_seq, limit)
      .then(
          [self, promise, node](storage::commit_page& found) mutable {
            self->state.intake.read_done(node);
            promise.deliver(found);
          },
          [self, promise, node](caf::error& err) mutable {
            self->state.intake.read_done(node);
            promise.deliver(err);
          });
  return promise;
}

cluster_report make_report(self_ptr self) {
  const auto& st = self->state;
  cluster_report report;
  report.node = st.node_name;
  report.clustered = true;
  for (const auto& p : st.peers) {
    peer_report entry;
    entry.address = address_of(p);
    entry.name = p.name;
    entry.state = to_string(p.state);
    entry.state_since_ms = p.state_since_ms;
    entry.reason = p.reason;
    entry.last_heard_ms = p.last_heard_ms;
    entry.catching_up = p.catching_up;
    if (const auto* l = link_of(self, p)) {
      entry.subscribed = l->subscribed;
      entry.relay_queued = l->relay.queued();
      entry.relay_pages_in_flight = l->relay.pages_in_flight();
      entry.relay_from_store = l->relay.reading_store();
      entry.relay_fell_behind = l->relay.times_fell_behind();
    }
    report.peers.push_back(std::move(entry));
  }
  return report;
}

}  // namespace

caf::behavior cluster(self_ptr self, services running,
                      cluster_settings settings, caf::actor basp) {
  auto& st = self->state;
  st.basp = std::move(basp);
  st.node_name = running.node_name;
  st.node_address = host_and_port(settings.node_host, settings.node_port);
  st.registry = running.registry;
  st.store = running.store;
  st.counters = running.counters;
  st.catch_up_page = std::max<std::size_t>(1, settings.catch_up_page);
  st.pull_interval = settings.pull_interval;
  st.heartbeat = settings.heartbeat;
  st.silence_limit = settings.silence_limit;
  st.relay = settings.relay;
  st.gate_ports = settings.gate_ports;
  st.refused_by_gate = settings.refused_by_gate;
  auto now_ms = unix_now_ms();
  for (auto& address : settings.peers) {
    cluster_state::peer p;
    p.address = address;
    p.state_since_ms = now_ms;
    st.peers.push_back(std::move(p));
  }
  post_peer_metrics(self);
  // A scrape after the cluster stopped at shutdown shows no peers rather
  // than stale ones. Ended any other way, the node no longer relays, so
  // every peer shows down, where an alert on batchcast_cluster_peer_up
  // sees it, and the log says so.
  std::vector<peer_state> all_down;
  for (const auto& p : st.peers)
    all_down.push_back({address_of(p), false, 0});
  self->attach_functor([counters = st.counters, all_down = std::move(all_down)](
                           const caf::error& reason) mutable {
    if (reason == caf::exit_reason::user_shutdown) {
      counters->clear_peers();
      return;
    }
    counters->set_peers(std::move(all_down));
    log()->critical(
        "cluster actor ended: {}; this node no longer relays statuses to or "
        "from its peers (it still serves its own clients and stores their "
        "publishes); restart it to rejoin the cluster",
        describe(reason));
  });
  // Anything on the node port can message this actor. CAF's default
  // prints what it does not expect to stderr, outside the log and its
  // format (a line of text amid JSON lines); it goes to the debug log
  // instead, escaped like every other line, and the sender gets
  // unexpected_message as before.
  self->set_default_handler(
      [](caf::scheduled_actor* receiver,
         caf::message_view& unexpected) -> caf::result<caf::message> {
        // The sender logs that this node refused it and points here.
        // What it held is shown in part: a message may be megabytes.
        auto content = caf::to_string(unexpected.content());
        if (content.size() > 200)
          content = content.substr(0, 200) + "...";
        warn_throttled(
            unexpected_messages_logged,
            fmt::format("cluster: message from {} not understood, refused: "
                        "{} (another batchcast version, or a message "
                        "altered on the way)",
                        caf::to_string(receiver->current_sender()),
                        one_line(content)));
        return caf::sec::unexpected_message;
      });
  // CAF's default ends the actor on an error message that answers no
  // request: a peer answers one of this node's plain sends that way when
  // it could not read it (another version, or a message altered on the
  // way), which must not end this node's part in the cluster.
  self->set_error_handler([self](caf::error& err) {
    if (auto held_back = unsolicited_errors_logged.admit())
      log()->warn(
          "cluster: error from {} answering no request: {}; ignored (a peer "
          "that could not read a message of this node's: another batchcast "
          "version, or a message altered on the way){}",
          caf::to_string(self->current_sender()), describe(err),
          log_throttle::held_back_note(*held_back));
  });
  // Only this process may stop the cluster actor (service.cpp, at
  // shutdown). Anything on the node port can message this actor, an
  // exit message too; the node gates refuse those before the middleman
  // reads them, and this is the second line.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto sender = self->current_sender();
    if (sender && sender->node() == self->node()) {
      self->quit(std::move(msg.reason));
      return;
    }
    log()->warn(
        "cluster: exit message from {} ignored: only this node may "
        "stop its cluster actor",
        caf::to_string(sender));
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    for (auto& p : self->state.peers)
      if (p.dialer == msg.source) {
        p.dialer = caf::actor_addr{};
        return;
      }
    close_link(self, msg.source, peer_failure(msg.reason));
  });
  for (std::size_t index = 0; index < st.peers.size(); ++index)
    self->send(self, connect_peer_atom::value, index);
  st.next_liveness_check = steady::now() + st.heartbeat;
  self->delayed_send(self, st.heartbeat, liveness_atom::value);

  return {
      [self](replicate_atom, const storage::batch_record& record) {
        forward(self, record);
      },
      [self](hello_atom, const std::string& peer_name, std::uint32_t protocol) {
        return on_hello(self, peer_name, protocol);
      },
      [self](apply_page_atom, records& page) {
        return on_apply_page(self, page);
      },
      [self](commits_atom, std::uint64_t after_seq, std::uint64_t limit) {
        return serve_commits(self, after_seq, limit);
      },
      [self](heartbeat_atom) { heard_from(self, sender_of(self)); },
      [self](report_atom) { return make_report(self); },
      [self](connect_peer_atom, std::size_t index) {
        if (index < self->state.peers.size())
          connect(self, index);
      },
      [self](dial_gate_atom) { use_dial_gates(self); },
      [self](liveness_atom) { check_liveness(self); },
  };
}

void configure_cluster(caf::actor_system_config& config,
                       const cluster_settings& settings) {
  config.load<caf::io::middleman>();
  config.add_message_type<std::vector<storage::batch_record>>(
      "batchcast::batch_records");
  config.set("middleman.heartbeat-interval", caf::timespan{settings.heartbeat});
  config.set("middleman.connection-timeout",
             caf::timespan{settings.silence_limit});
}

caf::expected<started_cluster> start_cluster(caf::actor_system& system,
                                             const services& running,
                                             const cluster_settings& settings) {
  // The middleman makes its BASP broker under this name at start; asking
  // for it here only looks it up.
  auto basp =
      system.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  auto node = system.spawn(cluster, running, settings, basp);
  // Loopback only, on any free port: CAF 0.17 trusts what a connection
  // sends it and caps nothing, so only the node gate talks to it.
  auto port = system.middleman().publish(node, 0, "127.0.0.1", true);
  if (!port) {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    return caf::make_error(caf::sec::runtime_error,
                           "cannot publish the cluster actor on 127.0.0.1: " +
                               system.render(port.error()));
  }
  caf::anon_send(running.registry, attach_atom::value, node);
  std::string peers;
  for (auto& p : settings.peers)
    peers += (peers.empty() ? "" : ",") + host_and_port(p.host, p.port);
  // The node port itself is not bound yet: the node gate says so, or
  // why not, once it has tried.
  log()->info("cluster node={} id={} middleman=127.0.0.1:{} peers={}",
              running.node_name, caf::to_string(system.node()), *port,
              peers.empty() ? "none" : peers);
  return started_cluster{node, *port};
}

void dial_through_gates(const caf::actor& cluster) {
  if (cluster)
    caf::anon_send(cluster, dial_gate_atom::value);
}

void stop_cluster(caf::actor_system& system, const caf::actor& cluster) {
  if (!cluster)
    return;
  caf::scoped_actor self{system};
  self->send_exit(cluster, caf::exit_reason::user_shutdown);
  self->wait_for(cluster);
}

}  // namespace batchcast::actors
