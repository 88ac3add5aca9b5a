#include "net/cluster_handshake.hpp"

#include <algorithm>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace batchcast::net {

namespace {

// The labels keep a proof to its sender's role: without them, a node could
// be asked to prove, as the dialed end, the very bytes a dialing end must
// send.
constexpr std::string_view dialing_label = "batchcast cluster: dialing node";
constexpr std::string_view dialed_label = "batchcast cluster: dialed node";

bool has_magic(const std::uint8_t* bytes) {
  return std::equal(cluster_handshake_magic.begin(),
                    cluster_handshake_magic.end(), bytes);
}

}  // namespace

const char* to_string(cluster_handshake_verdict verdict) {
  switch (verdict) {
    case cluster_handshake_verdict::ok:
      return "ok";
    case cluster_handshake_verdict::not_a_node:
      return "not_a_node";
    case cluster_handshake_verdict::wrong_secret:
      return "wrong_secret";
  }
  return "unknown";
}

cluster_handshake::cluster_handshake(std::string secret, end self)
    : secret_{std::move(secret)}, self_{self} {
  if (secret_.empty())
    throw std::invalid_argument("cluster_handshake: empty secret");
  if (RAND_bytes(own_.data(), static_cast<int>(own_.size())) != 1)
    throw std::runtime_error(
        "cluster handshake: the random generator failed to draw a nonce");
}

cluster_handshake::hello cluster_handshake::make_hello() const {
  hello out{};
  auto at = std::copy(cluster_handshake_magic.begin(),
                      cluster_handshake_magic.end(), out.begin());
  std::copy(own_.begin(), own_.end(), at);
  return out;
}

cluster_handshake_verdict cluster_handshake::check_answer(
    const answer& received, proof& out) {
  if (!has_magic(received.data()))
    return cluster_handshake_verdict::not_a_node;
  auto nonce_at = received.begin() + cluster_handshake_magic.size();
  std::copy(nonce_at, nonce_at + cluster_nonce_size, other_.begin());
  out = proof_of(end::dialing);
  auto expected = proof_of(end::dialed);
  if (CRYPTO_memcmp(expected.data(), &*(nonce_at + cluster_nonce_size),
                    expected.size()) != 0)
    return cluster_handshake_verdict::wrong_secret;
  return cluster_handshake_verdict::ok;
}

cluster_handshake_verdict cluster_handshake::answer_hello(const hello& received,
                                                          answer& out) {
  if (!has_magic(received.data()))
    return cluster_handshake_verdict::not_a_node;
  auto nonce_at = received.begin() + cluster_handshake_magic.size();
  std::copy(nonce_at, nonce_at + cluster_nonce_size, other_.begin());
  auto at = std::copy(cluster_handshake_magic.begin(),
                      cluster_handshake_magic.end(), out.begin());
  at = std::copy(own_.begin(), own_.end(), at);
  auto mine = proof_of(end::dialed);
  std::copy(mine.begin(), mine.end(), at);
  return cluster_handshake_verdict::ok;
}

cluster_handshake_verdict cluster_handshake::check_proof(
    const proof& received) const {
  auto expected = proof_of(end::dialing);
  return CRYPTO_memcmp(expected.data(), received.data(), expected.size()) == 0
             ? cluster_handshake_verdict::ok
             : cluster_handshake_verdict::wrong_secret;
}

// HMAC-SHA256(secret, label of `sender` || the dialing end's nonce || the
// dialed end's nonce): both ends put the nonces in the same order.
cluster_handshake::proof cluster_handshake::proof_of(end sender) const {
  const nonce& dialing_nonce = self_ == end::dialing ? own_ : other_;
  const nonce& dialed_nonce = self_ == end::dialing ? other_ : own_;
  auto label = sender == end::dialing ? dialing_label : dialed_label;

  std::array<std::uint8_t, 64 + 2 * cluster_nonce_size> input{};
  auto at = std::copy(label.begin(), label.end(), input.begin());
  at = std::copy(dialing_nonce.begin(), dialing_nonce.end(), at);
  at = std::copy(dialed_nonce.begin(), dialed_nonce.end(), at);

  proof out{};
  unsigned size = 0;
  if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
           input.data(), static_cast<std::size_t>(at - input.begin()),
           out.data(), &size) == nullptr ||
      size != out.size())
    throw std::runtime_error("cluster handshake: HMAC-SHA256 failed");
  return out;
}

}  // namespace batchcast::net
