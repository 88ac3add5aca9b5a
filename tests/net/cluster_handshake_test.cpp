#include "net/cluster_handshake.hpp"

#include <string>

#include <boost/test/unit_test.hpp>

using namespace batchcast::net;

namespace {

using verdict = cluster_handshake_verdict;
using end = cluster_handshake::end;

constexpr const char* shared_secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

// Runs the greeting between a dialing end holding `dialing_secret` and a
// dialed end holding `dialed_secret`; returns what each end concluded.
struct outcome {
  verdict dialing;  // of the dialed end's answer
  verdict dialed;   // of the dialing end's proof
};

outcome greet(const std::string& dialing_secret,
              const std::string& dialed_secret) {
  cluster_handshake dialing{dialing_secret, end::dialing};
  cluster_handshake dialed{dialed_secret, end::dialed};
  cluster_handshake::answer answer{};
  BOOST_REQUIRE(dialed.answer_hello(dialing.make_hello(), answer) ==
                verdict::ok);
  cluster_handshake::proof proof{};
  auto dialing_verdict = dialing.check_answer(answer, proof);
  if (dialing_verdict != verdict::ok)
    return {dialing_verdict, verdict::wrong_secret};  // no proof sent
  return {dialing_verdict, dialed.check_proof(proof)};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_greeting)

BOOST_AUTO_TEST_CASE(ends_with_the_same_secret_accept_each_other) {
  auto result = greet(shared_secret, shared_secret);
  BOOST_TEST(to_string(result.dialing) == "ok");
  BOOST_TEST(to_string(result.dialed) == "ok");
}

BOOST_AUTO_TEST_CASE(a_dialed_node_with_another_secret_is_refused) {
  auto result = greet(shared_secret, std::string{shared_secret} + "x");
  BOOST_TEST(to_string(result.dialing) == "wrong_secret");
}

BOOST_AUTO_TEST_CASE(a_dialing_node_with_another_secret_is_refused) {
  // The dialed end proves itself first; a dialing end with another secret
  // refuses that answer and sends no proof. One that sends a proof made
  // with its own secret anyway is refused by the dialed end.
  cluster_handshake dialing{"another secret of enough length 1234",
                            end::dialing};
  cluster_handshake dialed{shared_secret, end::dialed};
  cluster_handshake::answer answer{};
  BOOST_REQUIRE(dialed.answer_hello(dialing.make_hello(), answer) ==
                verdict::ok);
  cluster_handshake::proof proof{};
  BOOST_TEST(to_string(dialing.check_answer(answer, proof)) == "wrong_secret");
  // The proof it sends back anyway, so that the dialed node learns the
  // secrets differ, fails there.
  BOOST_TEST(to_string(dialed.check_proof(proof)) == "wrong_secret");
  cluster_handshake pretender{"another secret of enough length 1234",
                              end::dialed};
  cluster_handshake::answer own_answer{};
  BOOST_REQUIRE(pretender.answer_hello(dialing.make_hello(), own_answer) ==
                verdict::ok);
  BOOST_REQUIRE(dialing.check_answer(own_answer, proof) == verdict::ok);
  BOOST_TEST(to_string(dialed.check_proof(proof)) == "wrong_secret");
}

BOOST_AUTO_TEST_CASE(a_greeting_without_the_magic_is_not_a_node) {
  cluster_handshake dialing{shared_secret, end::dialing};
  cluster_handshake dialed{shared_secret, end::dialed};
  auto hello = dialing.make_hello();
  hello[0] = 0x00;  // a BASP header starts this way
  cluster_handshake::answer answer{};
  BOOST_TEST(to_string(dialed.answer_hello(hello, answer)) == "not_a_node");

  BOOST_REQUIRE(dialed.answer_hello(dialing.make_hello(), answer) ==
                verdict::ok);
  answer[cluster_handshake_magic.size() - 1] ^= 0x01;
  cluster_handshake::proof proof{};
  BOOST_TEST(to_string(dialing.check_answer(answer, proof)) == "not_a_node");
}

BOOST_AUTO_TEST_CASE(any_changed_byte_of_the_answer_or_proof_is_refused) {
  for (std::size_t at = cluster_handshake_magic.size();
       at < cluster_answer_size; ++at) {
    cluster_handshake dialing{shared_secret, end::dialing};
    cluster_handshake dialed{shared_secret, end::dialed};
    cluster_handshake::answer answer{};
    BOOST_REQUIRE(dialed.answer_hello(dialing.make_hello(), answer) ==
                  verdict::ok);
    answer[at] ^= 0x80;
    cluster_handshake::proof proof{};
    BOOST_TEST(to_string(dialing.check_answer(answer, proof)) ==
               "wrong_secret");
  }
  for (std::size_t at = 0; at < cluster_proof_size; ++at) {
    cluster_handshake dialing{shared_secret, end::dialing};
    cluster_handshake dialed{shared_secret, end::dialed};
    cluster_handshake::answer answer{};
    BOOST_REQUIRE(dialed.answer_hello(dialing.make_hello(), answer) ==
                  verdict::ok);
    cluster_handshake::proof proof{};
    BOOST_REQUIRE(dialing.check_answer(answer, proof) == verdict::ok);
    proof[at] ^= 0x01;
    BOOST_TEST(to_string(dialed.check_proof(proof)) == "wrong_secret");
  }
}

BOOST_AUTO_TEST_CASE(a_node_gates_own_proof_sent_back_is_refused) {
  // Something without the secret that dials a node can read the node's
  // proof in its answer; sending it back as the dialing end's proof must
  // not pass, nor may the nonce it got be echoed to make a proof match.
  cluster_handshake dialed{shared_secret, end::dialed};
  cluster_handshake dialing{shared_secret, end::dialing};
  cluster_handshake::answer answer{};
  BOOST_REQUIRE(dialed.answer_hello(dialing.make_hello(), answer) ==
                verdict::ok);
  cluster_handshake::proof reflected{};
  std::copy(answer.end() - cluster_proof_size, answer.end(), reflected.begin());
  BOOST_TEST(to_string(dialed.check_proof(reflected)) == "wrong_secret");
}

BOOST_AUTO_TEST_CASE(a_proof_from_an_earlier_connection_is_refused) {
  cluster_handshake first_dialing{shared_secret, end::dialing};
  cluster_handshake first_dialed{shared_secret, end::dialed};
  auto hello = first_dialing.make_hello();
  cluster_handshake::answer answer{};
  BOOST_REQUIRE(first_dialed.answer_hello(hello, answer) == verdict::ok);
  cluster_handshake::proof recorded{};
  BOOST_REQUIRE(first_dialing.check_answer(answer, recorded) == verdict::ok);
  BOOST_REQUIRE(first_dialed.check_proof(recorded) == verdict::ok);

  // Replayed to a new connection with the same hello: the dialed end drew
  // a new nonce, so the recorded proof no longer fits.
  cluster_handshake second_dialed{shared_secret, end::dialed};
  cluster_handshake::answer second_answer{};
  BOOST_REQUIRE(second_dialed.answer_hello(hello, second_answer) ==
                verdict::ok);
  BOOST_TEST(to_string(second_dialed.check_proof(recorded)) == "wrong_secret");
}

BOOST_AUTO_TEST_CASE(an_empty_secret_is_refused) {
  BOOST_CHECK_THROW((cluster_handshake{"", end::dialing}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
