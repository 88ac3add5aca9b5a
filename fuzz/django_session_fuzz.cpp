// Django session data against storage/django_signing and the session
// validator. A fixed secret lets the fuzzer past the signature: every input
// is tried three ways,
//
//   as session_data itself (a real Django-minted value verifies),
//   re-signed: the part before the last ':' signed with the secret,
//   as the session's JSON text, signed (and compressed) by sign_json_text,
//
// so the base64, zlib and JSON decoding all see fuzzed bytes. Beyond not
// crashing:
//
// - re-signing a value that verified decodes to the same object;
// - signed JSON text decodes to exactly what a JSON parser reads from it
//   as Latin-1, whenever that is an object;
// - every decoded session re-encodes: signing it again decodes to the same
//   object, under the key or a fallback, never under another key;
// - the validator's verdict on a decoded session is what Django's rules
//   give (the model below), an expired row is expired, and a tampered
//   signature is a bad signature.
#include <algorithm>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.hpp"
#include "storage/directory.hpp"
#include "storage/django_signing.hpp"
#include "storage/session_validator.hpp"

namespace {

using namespace batchcast;
using fuzz::require;
using storage::auth_failure;

// The key tests/interop/mint_django_vectors.py mints with, so the seed
// corpus holds sessions Django itself signed.
const std::string secret =
    "django-insecure-current-key-for-batchcast-interop-tests";
const std::string other_secret = "a-key-that-signed-none-of-these";
constexpr std::uint64_t signed_at = 1700000000;
constexpr std::int64_t now_ms = 1700000000000;
const std::string session_key = "fuzzsessionkey000000000000000001";

// Staff with a known password hash (the one fuzz/mint_session_seeds.py
// logs in), a plain active user with an integer id, and an inactive one.
const storage::user_row staff_user = {
    "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b",
    "pbkdf2_sha256$260000$fixedsalt$"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    true, true, false};
const storage::user_row plain_user = {"42", "", true, false, false};
const storage::user_row inactive_user = {"7", "!unusable", false, true, true};
const std::string managed_organization = "0f3c5a2e-9b1d-4c6e-8a7f-1234567890ab";

// One session row and the three users above.
class fixed_directory : public storage::directory {
 public:
  explicit fixed_directory(storage::session_row row) : row_{std::move(row)} {}

  std::optional<storage::session_row> find_session(
      const std::string& key) override {
    if (key != session_key)
      return std::nullopt;
    return row_;
  }

  std::optional<storage::user_row> find_user(const std::string& id) override {
    for (const auto* user : {&staff_user, &plain_user, &inactive_user})
      if (user->id == id)
        return *user;
    return std::nullopt;
  }

  std::vector<std::string> managed_organizations(
      const std::string& user_id) override {
    if (user_id == staff_user.id)
      return {managed_organization};
    return {};
  }

  std::optional<std::string> batch_organization(const std::string&) override {
    return std::nullopt;
  }

 private:
  storage::session_row row_;
};

const storage::session_settings settings = {{secret},
                                            storage::default_auth_backends()};

storage::session_verdict validate(const std::string& session_data,
                                  std::int64_t expire_ms) {
  fixed_directory directory{{session_data, expire_ms}};
  return storage::validate_session(directory, settings, session_key, now_ms);
}

std::string signature(std::string_view value) {
  std::string key_salt{storage::session_salt};
  key_salt += "signer";
  return storage::base64url_encode(
      storage::salted_hmac_sha256(key_salt, value, secret));
}

std::string latin1_to_utf8(std::string_view bytes) {
  std::string text;
  for (char c : bytes) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      text += c;
    } else {
      text += static_cast<char>(0xc0 | (byte >> 6));
      text += static_cast<char>(0x80 | (byte & 0x3f));
    }
  }
  return text;
}

// Django's rules (DESIGN section 6, steps 3-5, then the staff check) for
// a session that verified, written out plainly as a reference.
storage::session_verdict expected_verdict(const nlohmann::json& session,
                                          std::int64_t expire_ms) {
  auto id = session.find("_auth_user_id");
  if (id == session.end())
    return auth_failure::not_logged_in;
  auto backend = session.find("_auth_user_backend");
  auto backends = storage::default_auth_backends();
  if (backend == session.end() || !backend->is_string() ||
      std::count(backends.begin(), backends.end(),
                 backend->get<std::string>()) == 0)
    return auth_failure::bad_backend;

  std::string id_text;
  if (id->is_string())
    id_text = id->get<std::string>();
  else if (id->is_number_integer())
    id_text = id->dump();
  const storage::user_row* user = nullptr;
  for (const auto* each : {&staff_user, &plain_user, &inactive_user})
    if (!id_text.empty() && each->id == id_text)
      user = each;
  if (!user)
    return auth_failure::unknown_user;
  if (!user->is_active)
    return auth_failure::inactive_user;
  auto hash = session.find("_auth_user_hash");
  if (hash == session.end() || !hash->is_string() ||
      *hash != storage::session_auth_hash(user->password, secret))
    return auth_failure::stale_auth_hash;
  if (!user->is_staff)
    return auth_failure::not_staff;

  storage::principal who;
  who.user_id = user->id;
  who.is_superuser = user->is_superuser;
  who.managed_organizations = {managed_organization};
  who.session_expires_unix_ms = expire_ms;
  return who;
}

bool same_verdict(const storage::session_verdict& a,
                  const storage::session_verdict& b) {
  if (a.index() != b.index())
    return false;
  if (auto failure = std::get_if<auth_failure>(&a))
    return *failure == std::get<auth_failure>(b);
  const auto& x = std::get<storage::principal>(a);
  const auto& y = std::get<storage::principal>(b);
  return x.user_id == y.user_id && x.is_superuser == y.is_superuser &&
         x.managed_organizations == y.managed_organizations &&
         x.session_expires_unix_ms == y.session_expires_unix_ms;
}

void check_reencodes(const nlohmann::json& session) {
  std::string signed_again;
  try {
    signed_again =
        storage::sign_object(session, storage::session_salt, secret, signed_at);
  } catch (const std::exception&) {
    require(false, "a decoded session can be signed again");
  }
  auto decoded =
      storage::unsign_object(signed_again, storage::session_salt, {secret});
  require(decoded && *decoded == session, "a decoded session re-encodes");
  require(!storage::unsign_object(signed_again, storage::session_salt,
                                  {other_secret}),
          "another key does not verify it");
  auto by_fallback = storage::unsign_object(signed_again, storage::session_salt,
                                            {other_secret, secret});
  require(by_fallback && *by_fallback == session, "a fallback key verifies it");
}

void check_validator(const std::string& session_data,
                     const nlohmann::json& session) {
  constexpr std::int64_t expire_ms = now_ms + 3600 * 1000;
  auto verdict = validate(session_data, expire_ms);
  require(same_verdict(verdict, expected_verdict(session, expire_ms)),
          "the validator follows Django's rules");

  auto expired = validate(session_data, now_ms);
  require(same_verdict(expired, auth_failure::expired),
          "a row expiring now is expired");

  std::string tampered = session_data;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  require(
      same_verdict(validate(tampered, now_ms + 1), auth_failure::bad_signature),
      "a tampered signature is a bad signature");
}

void check_decoded(const std::string& session_data,
                   const nlohmann::json& session) {
  require(session.is_object(), "a decoded session is an object");
  check_reencodes(session);
  check_validator(session_data, session);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  std::string text{fuzz::as_text(data, size)};

  // As session_data.
  auto as_is = storage::unsign_object(text, storage::session_salt, {secret});
  if (as_is)
    check_decoded(text, *as_is);
  else
    require(
        same_verdict(validate(text, now_ms + 1), auth_failure::bad_signature),
        "data that does not decode is a bad signature");

  // Re-signed.
  std::string value = text.substr(0, text.rfind(':'));
  std::string resigned = value + ":" + signature(value);
  auto by_resigning =
      storage::unsign_object(resigned, storage::session_salt, {secret});
  if (as_is)
    require(by_resigning && *by_resigning == *as_is,
            "re-signing a verified value changes nothing");
  if (by_resigning)
    check_decoded(resigned, *by_resigning);

  // As the session's JSON text.
  std::string from_json =
      storage::sign_json_text(text, storage::session_salt, secret, signed_at);
  auto by_json =
      storage::unsign_object(from_json, storage::session_salt, {secret});
  auto read = nlohmann::json::parse(latin1_to_utf8(text), nullptr, false);
  // Nesting is refused somewhere past 512 levels, so only shallower text
  // must be read.
  auto openers = std::count(text.begin(), text.end(), '[') +
                 std::count(text.begin(), text.end(), '{');
  if (by_json)
    require(*by_json == read, "signed JSON decodes as a JSON parser reads it");
  else
    require(!read.is_object() || openers > 512,
            "signed JSON that is an object decodes");
  if (by_json)
    check_decoded(from_json, *by_json);
  return 0;
}
