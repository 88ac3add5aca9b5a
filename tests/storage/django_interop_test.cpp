// batchcast's Django signing against the real Django. CTest runs
// tests/interop/mint_django_vectors.py first and passes its output in
// BATCHCAST_DJANGO_VECTORS; the last case writes what we sign to
// BATCHCAST_OUR_VECTORS for the same script to check with Django.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "storage/directory_admin.hpp"
#include "storage/django_signing.hpp"
#include "storage/password_hasher.hpp"
#include "storage/session_validator.hpp"
#include "storage/sqlite_directory.hpp"

namespace {

using namespace batchcast::storage;
using nlohmann::json;

std::string env_path(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    throw std::runtime_error(std::string(name) +
                             " is not set; run this suite through ctest, "
                             "which mints the Django vectors first");
  return value;
}

const json& vectors() {
  static const json loaded = [] {
    std::ifstream in(env_path("BATCHCAST_DJANGO_VECTORS"));
    if (!in)
      throw std::runtime_error("cannot read the Django vectors");
    return json::parse(in);
  }();
  return loaded;
}

struct django_fixture {
  const json& v = vectors();
  std::string current = v.at("secret_key");
  std::string old = v.at("old_secret_key");
  std::string salt = v.at("salt");

  std::string signed_session(const std::string& name) const {
    return v.at("sessions").at(name).at("signed");
  }
  const json& session_object(const std::string& name) const {
    return v.at("sessions").at(name).at("object");
  }
  std::optional<json> read(const std::string& value,
                           std::vector<std::string> keys) const {
    return unsign_object(value, salt, keys);
  }
  std::optional<json> read(const std::string& value) const {
    return read(value, {current});
  }
};

// `text` with the character at `index` swapped for another of the same
// alphabet, so only the signature check can notice.
std::string flip(std::string text, std::size_t index) {
  text.at(index) = text[index] == 'A' ? 'B' : 'A';
  return text;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(django_interop_suite, django_fixture)

BOOST_AUTO_TEST_CASE(every_session_django_encoded_decodes_to_its_object) {
  for (const auto& [name, entry] : v.at("sessions").items()) {
    if (name == "signed_with_old_key")
      continue;
    auto object = read(entry.at("signed"));
    BOOST_TEST_REQUIRE(object.has_value(), name << " did not decode");
    BOOST_TEST(*object == entry.at("object"), name << " decoded differently");
  }
}

BOOST_AUTO_TEST_CASE(djangos_large_session_is_compressed_and_still_decodes) {
  BOOST_TEST(signed_session("large").front() == '.');
  BOOST_TEST(*read(signed_session("large")) == session_object("large"));
}

BOOST_AUTO_TEST_CASE(our_signing_matches_djangos_byte_for_byte) {
  std::uint64_t at = v.at("signed_at");
  for (const auto& [name, entry] : v.at("sessions").items()) {
    auto key = name == "signed_with_old_key" ? old : current;
    BOOST_TEST(sign_object(entry.at("object"), salt, key, at) ==
                   entry.at("signed").get<std::string>(),
               name << " signs differently");
  }
}

BOOST_AUTO_TEST_CASE(a_tampered_payload_is_refused) {
  auto value = signed_session("small");
  BOOST_TEST(!read(flip(value, 5)));
  BOOST_TEST(!read(value.substr(1)));  // the "." dropped
  auto tiny = signed_session("tiny");
  BOOST_TEST(!read(flip(tiny, 3)));
}

BOOST_AUTO_TEST_CASE(a_tampered_signature_is_refused) {
  auto value = signed_session("small");
  BOOST_TEST(!read(flip(value, value.size() - 1)));
  BOOST_TEST(!read(value.substr(0, value.size() - 1)));
  BOOST_TEST(!read(value + "A"));
}

BOOST_AUTO_TEST_CASE(a_tampered_timestamp_is_refused) {
  auto value = signed_session("small");
  auto last = value.rfind(':');
  auto stamp = value.rfind(':', last - 1) + 1;
  BOOST_TEST(!read(flip(value, stamp)));
  BOOST_TEST(!read(value.substr(0, stamp) + value.substr(last)));
}

BOOST_AUTO_TEST_CASE(a_session_is_refused_under_a_wrong_key) {
  BOOST_TEST(!read(signed_session("small"), {"not-the-key"}));
  BOOST_TEST(!read(signed_session("small"), {old}));
}

BOOST_AUTO_TEST_CASE(a_session_signed_with_an_old_key_needs_the_fallback) {
  auto value = signed_session("signed_with_old_key");
  BOOST_TEST(!read(value, {current}));
  auto object = read(value, {current, old});
  BOOST_REQUIRE(object);
  BOOST_TEST(*object == session_object("signed_with_old_key"));
}

BOOST_AUTO_TEST_CASE(our_session_auth_hash_equals_djangos) {
  for (const auto& entry : v.at("auth_hashes")) {
    std::string password_hash = entry.at("password_hash");
    BOOST_TEST(session_auth_hash(password_hash, current) ==
               entry.at("current").get<std::string>());
    BOOST_TEST(session_auth_hash(password_hash, old) ==
               entry.at("old").get<std::string>());
  }
}

BOOST_AUTO_TEST_CASE(djangos_password_hashes_check_in_ours) {
  for (const auto& entry : v.at("passwords")) {
    std::string password = entry.at("password");
    std::string hash = entry.at("hash");
    BOOST_TEST(check_password(password, hash), "refused " << hash);
    BOOST_TEST(!check_password(password + "x", hash));
  }
  BOOST_TEST(!check_password("", v.at("unusable_password").get<std::string>()));
}

BOOST_AUTO_TEST_CASE(our_pbkdf2_encoding_matches_djangos_for_the_same_salt) {
  for (const auto& entry : v.at("passwords")) {
    std::string hash = entry.at("hash");
    // "pbkdf2_sha256$260000$<salt>$<key>"
    auto salt_start = hash.find('$', hash.find('$') + 1) + 1;
    auto salt_end = hash.find('$', salt_start);
    auto salt_text = hash.substr(salt_start, salt_end - salt_start);
    BOOST_TEST(encode_pbkdf2_sha256(entry.at("password").get<std::string>(),
                                    salt_text, 260000) == hash);
  }
}

// Not a check of its own: leaves our output for storage_django_check.
BOOST_AUTO_TEST_CASE(writes_what_we_signed_for_django_to_check) {
  auto out_path = env_path("BATCHCAST_OUR_VECTORS");
  auto database = out_path + ".sqlite3";
  std::remove(database.c_str());
  for (auto suffix : {"-wal", "-shm"})
    std::remove((database + suffix).c_str());

  json ours;
  ours["secret_key"] = current;
  ours["salt"] = salt;
  ours["database"] = database;

  json small = {{"_auth_user_id", "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b"},
                {"_auth_user_backend",
                 "django.contrib.auth.backends."
                 "ModelBackend"},
                {"_auth_user_hash", session_auth_hash("!x", current)}};
  json large = small;
  large["notes"] = std::string(3000, 'n');
  json non_ascii = {{"name", "Zo\xc3\xab \xf0\x9f\x98\x80"}};
  std::uint64_t now = 1700000123;
  for (auto& [name, object] : {std::pair<std::string, json>{"small", small},
                               {"large", large},
                               {"non_ascii", non_ascii}})
    ours["signed"][name] = {
        {"object", object},
        {"signed", sign_object(object, salt, current, now)}};
  BOOST_TEST(ours["signed"]["large"]["signed"].get<std::string>().front() ==
             '.');

  ours["passwords"] = json::array();
  for (std::string password : {"correct horse", "p\xc3\xa4sswort", ""})
    ours["passwords"].push_back(
        {{"password", password}, {"hash", make_password_hash(password)}});

  // A directory Django must be able to read as its own.
  {
    directory_admin admin(database);
    new_user user;
    user.username = "operator";
    user.is_staff = true;
    user.password = "operator password";
    ours["user_id"] = admin.add_user(user);
    ours["username"] = user.username;
    ours["user_password"] = user.password;
    ours["session_key"] = admin.issue_session(
        "operator", current, "django.contrib.auth.backends.ModelBackend", 3600);
  }
  std::ofstream out(out_path);
  out << ours.dump(1);
  BOOST_TEST(out.good());
}

BOOST_AUTO_TEST_SUITE_END()
