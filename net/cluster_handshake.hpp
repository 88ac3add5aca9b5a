// The greeting two nodes' gates exchange before any BASP byte passes: each
// proves it holds the cluster secret without sending it, so that nothing
// without the secret reaches a middleman through the node port, and a
// node dials nothing that cannot prove it either.
//
// The node that dials (its dial gate) and the node it dials (its node
// gate) each draw a random 32-byte nonce; each proof is HMAC-SHA256 under
// the secret over a label naming its sender's role and both nonces, so a
// proof fits one connection only and one role only (a proof a node gives
// as the dialed node is no use as the dialing one's):
//
//   dialing -> dialed   hello:   magic, nonce_dialing            48 bytes
//   dialed  -> dialing  answer:  magic, nonce_dialed, proof      80 bytes
//   dialing -> dialed   proof                                    32 bytes
//
// The dialing node checks the answer before it sends its proof (and
// closes after sending it when the answer fails), and the dialed node
// connects to its middleman only once the proof holds. The
// magic, "batchcast-node/1", names the protocol and its version.
//
// What it does not do: the bytes after the greeting are neither encrypted
// nor signed. Something on the path between two nodes, or answering at a
// peer's address and relaying to a real node, can read them and add its
// own once both proofs passed through it. It keeps out what merely
// reaches the node port.
//
// No I/O here: the gate session (node_gate_session.hpp) moves the bytes.
// Not thread-safe; one per connection.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace batchcast::net {

inline constexpr std::string_view cluster_handshake_magic = "batchcast-node/1";
inline constexpr std::size_t cluster_nonce_size = 32;
inline constexpr std::size_t cluster_proof_size = 32;  // HMAC-SHA256

inline constexpr std::size_t cluster_hello_size =
    cluster_handshake_magic.size() + cluster_nonce_size;
inline constexpr std::size_t cluster_answer_size =
    cluster_handshake_magic.size() + cluster_nonce_size + cluster_proof_size;

enum class cluster_handshake_verdict {
  ok,
  not_a_node,    // the magic is missing: not a batchcast node of this
                 // version
  wrong_secret,  // a proof that does not hold under this node's secret
};

const char* to_string(cluster_handshake_verdict verdict);

class cluster_handshake {
 public:
  enum class end { dialing, dialed };

  using hello = std::array<std::uint8_t, cluster_hello_size>;
  using answer = std::array<std::uint8_t, cluster_answer_size>;
  using proof = std::array<std::uint8_t, cluster_proof_size>;

  // Draws this end's nonce. Throws std::runtime_error when the random
  // generator fails, std::invalid_argument for an empty `secret`.
  cluster_handshake(std::string secret, end self);

  // ---- the dialing end ----
  hello make_hello() const;
  // Checks the dialed node's answer to make_hello(). Whenever the answer
  // has the magic, `out` gets this end's proof: sent back when the
  // answer holds, and also when it does not, so that the dialed node
  // learns the two secrets differ and says so in its own log (the proof
  // is bound to both nonces, one of them drawn here, and fits no other
  // connection).
  cluster_handshake_verdict check_answer(const answer& received, proof& out);

  // ---- the dialed end ----
  // Checks a hello; when it has the magic, `out` gets the answer to send.
  cluster_handshake_verdict answer_hello(const hello& received, answer& out);
  // Checks the dialing node's proof, after answer_hello().
  cluster_handshake_verdict check_proof(const proof& received) const;

 private:
  using nonce = std::array<std::uint8_t, cluster_nonce_size>;

  proof proof_of(end sender) const;

  std::string secret_;
  end self_;
  nonce own_{};
  nonce other_{};  // the other end's, once received
};

}  // namespace batchcast::net
