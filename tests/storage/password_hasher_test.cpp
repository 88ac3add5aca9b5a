#include <boost/test/unit_test.hpp>

#include "storage/password_hasher.hpp"

namespace {

using namespace batchcast::storage;

// Few iterations keep the suite fast; the format does not depend on them.
constexpr int fast = 1000;

}  // namespace

BOOST_AUTO_TEST_SUITE(password_hasher_suite)

BOOST_AUTO_TEST_CASE(a_hash_checks_against_its_own_password) {
  auto hash = make_password_hash("correct horse", fast);
  BOOST_TEST(check_password("correct horse", hash));
}

BOOST_AUTO_TEST_CASE(a_hash_refuses_any_other_password) {
  auto hash = make_password_hash("correct horse", fast);
  BOOST_TEST(!check_password("correct hors", hash));
  BOOST_TEST(!check_password("", hash));
}

BOOST_AUTO_TEST_CASE(a_hash_is_laid_out_as_django_writes_it) {
  auto hash = make_password_hash("pw", fast);
  BOOST_TEST(hash.rfind("pbkdf2_sha256$1000$", 0) == 0);
  auto salt_end = hash.find('$', 19);
  BOOST_REQUIRE(salt_end != std::string::npos);
  auto salt = hash.substr(19, salt_end - 19);
  BOOST_TEST(salt.size() == 22u);
  BOOST_TEST(salt.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
             std::string::npos);
  auto key = hash.substr(salt_end + 1);
  BOOST_TEST(key.size() == 44u);
  BOOST_TEST(key.back() == '=');
}

BOOST_AUTO_TEST_CASE(two_hashes_of_one_password_differ_by_salt) {
  BOOST_TEST(make_password_hash("pw", fast) != make_password_hash("pw", fast));
}

BOOST_AUTO_TEST_CASE(the_default_iteration_count_is_django_3_2s) {
  BOOST_TEST(make_password_hash("pw").rfind("pbkdf2_sha256$260000$", 0) == 0);
}

BOOST_AUTO_TEST_CASE(an_unusable_password_never_checks) {
  auto unusable = make_unusable_password();
  BOOST_TEST(unusable.size() == 41u);
  BOOST_TEST(unusable.front() == '!');
  BOOST_TEST(!check_password("", unusable));
  BOOST_TEST(!check_password(unusable, unusable));
}

BOOST_AUTO_TEST_CASE(malformed_hashes_never_check) {
  auto good = encode_pbkdf2_sha256("pw", "salt", 10);
  BOOST_TEST(check_password("pw", good));
  auto key = good.substr(good.rfind('$'));
  for (std::string bad :
       {std::string(""), std::string("pbkdf2_sha256"),
        "pbkdf2_sha1$10$salt" + key, "pbkdf2_sha256$010$salt" + key,
        "pbkdf2_sha256$+10$salt" + key, "pbkdf2_sha256$0$salt" + key,
        "pbkdf2_sha256$x$salt" + key, "pbkdf2_sha256$10$" + key,
        "pbkdf2_sha256$99999999999$salt" + key, good + "=",
        std::string("pbkdf2_sha256$10$salt")})
    BOOST_TEST(!check_password("pw", bad), "accepted " << bad);
}

BOOST_AUTO_TEST_CASE(encoding_refuses_a_salt_django_could_not_split) {
  BOOST_CHECK_THROW(encode_pbkdf2_sha256("pw", "a$b", 10), std::exception);
  BOOST_CHECK_THROW(encode_pbkdf2_sha256("pw", "", 10), std::exception);
  BOOST_CHECK_THROW(encode_pbkdf2_sha256("pw", "salt", 0), std::exception);
}

BOOST_AUTO_TEST_SUITE_END()
