// The atoms that name the messages between batchcast's actors. Each actor's
// header lists which of them it handles and what it replies; this file only
// gives them names, so two actors never disagree on a spelling.
//
// An atom is at most 10 characters (CAF 0.17's encoding).
#pragma once

#include <caf/atom.hpp>

namespace batchcast::actors {

// storage_actor
using load_atom = caf::atom_constant<caf::atom("load")>;
using save_atom = caf::atom_constant<caf::atom("save")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using ensure_batch_atom = caf::atom_constant<caf::atom("ensure_bat")>;
using changes_atom = caf::atom_constant<caf::atom("changes")>;
using commits_atom = caf::atom_constant<caf::atom("commits")>;

// directory_reader
using validate_atom = caf::atom_constant<caf::atom("validate")>;
using batch_org_atom = caf::atom_constant<caf::atom("batch_org")>;

// session_auth
using authorize_atom = caf::atom_constant<caf::atom("authorize")>;
using refresh_atom = caf::atom_constant<caf::atom("refresh")>;
using refresh_batch_atom = caf::atom_constant<caf::atom("refr_batch")>;

// session_watch
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using revalidate_atom = caf::atom_constant<caf::atom("revalidate")>;

// registry and batch_group
using join_atom = caf::atom_constant<caf::atom("join")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using idle_atom = caf::atom_constant<caf::atom("idle")>;
using retire_atom = caf::atom_constant<caf::atom("retire")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
// A status from a cluster peer: stored and delivered, never forwarded.
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using attach_atom = caf::atom_constant<caf::atom("attach")>;

// cluster (between nodes, and to itself)
using hello_atom = caf::atom_constant<caf::atom("hello")>;
using replicate_atom = caf::atom_constant<caf::atom("replicate")>;
using apply_page_atom = caf::atom_constant<caf::atom("apply_page")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using connect_peer_atom = caf::atom_constant<caf::atom("conn_peer")>;
using dial_atom = caf::atom_constant<caf::atom("dial")>;
using dial_gate_atom = caf::atom_constant<caf::atom("dial_gate")>;
using liveness_atom = caf::atom_constant<caf::atom("liveness")>;
using report_atom = caf::atom_constant<caf::atom("report")>;

// readiness, and the probe it sends storage_actor and directory_reader
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;
using probe_deadline_atom = caf::atom_constant<caf::atom("probe_tmo")>;

// connection
using status_atom = caf::atom_constant<caf::atom("status")>;
using socket_closed_atom = caf::atom_constant<caf::atom("sock_closd")>;
// Its session ended or no longer allows its batch: close with 1008.
using revoke_atom = caf::atom_constant<caf::atom("revoke")>;

// Sent by an actor to itself: run deferred work after everything already
// in its mailbox (group commit), or expire cache entries.
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;

}  // namespace batchcast::actors
