#include <boost/test/unit_test.hpp>

#include "storage/django_signing.hpp"
#include "storage/storage_error.hpp"
#include "tests/storage/directory_fixture.hpp"

namespace {

using namespace batchcast::storage;
using namespace batchcast::storage::testing;

// Counts lookups, so a test can show that a key was refused without
// asking the directory; fails every lookup when told to.
class watched_directory : public directory {
 public:
  explicit watched_directory(directory& inner) : inner_(inner) {}

  std::optional<session_row> find_session(const std::string& key) override {
    ++lookups;
    fail_if_told();
    return inner_.find_session(key);
  }
  std::optional<user_row> find_user(const std::string& id) override {
    ++lookups;
    fail_if_told();
    return inner_.find_user(id);
  }
  std::vector<std::string> managed_organizations(
      const std::string& id) override {
    ++lookups;
    fail_if_told();
    return inner_.managed_organizations(id);
  }
  std::optional<std::string> batch_organization(
      const std::string& id) override {
    ++lookups;
    fail_if_told();
    return inner_.batch_organization(id);
  }

  int lookups = 0;
  bool failing = false;

 private:
  void fail_if_told() {
    if (failing)
      throw storage_error("directory unavailable", 5);
  }
  directory& inner_;
};

struct validator_fixture : directory_fixture {
  // The principal the session stands for; fails the test when refused.
  principal expect_accepted(const std::string& key) {
    auto verdict = validate(key);
    BOOST_TEST_REQUIRE(std::holds_alternative<principal>(verdict),
                       "refused: " << describe(verdict));
    return std::get<principal>(verdict);
  }

  void expect_refused(const std::string& key, auth_failure why) {
    auto verdict = validate(key);
    BOOST_TEST(describe(verdict) == to_string(why));
  }

  // A session Django could hold, signed with the current key.
  std::string put_signed(const nlohmann::json& data) {
    std::string key = "handmadesession" + std::to_string(++sessions_made);
    put_session(key, sign_object(data, session_salt, current_key, 1));
    return key;
  }

  int sessions_made = 0;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(session_validator_suite, validator_fixture)

BOOST_AUTO_TEST_CASE(a_staff_superuser_is_accepted) {
  auto id = add_staff("root", /*is_superuser=*/true);
  auto who = expect_accepted(login("root"));
  BOOST_TEST(who.user_id == id);
  BOOST_TEST(who.is_superuser);
  BOOST_TEST(may_watch(who, "any-organization"));
}

BOOST_AUTO_TEST_CASE(an_organization_admin_is_accepted_with_what_they_manage) {
  auto managed = admin.add_organization("Managed", true);
  auto joined = admin.add_organization("Joined", true);
  admin.add_organization("Stranger", true);
  add_staff("operator");
  admin.add_member("operator", managed, /*is_admin=*/true);
  admin.add_member("operator", joined, /*is_admin=*/false);

  auto who = expect_accepted(login("operator"));
  BOOST_TEST(!who.is_superuser);
  BOOST_TEST(who.managed_organizations == std::vector<std::string>{managed});
  BOOST_TEST(may_watch(who, managed));
  BOOST_TEST(!may_watch(who, joined));
}

BOOST_AUTO_TEST_CASE(an_inactive_organization_is_not_counted_as_managed) {
  auto dormant = admin.add_organization("Dormant", /*is_active=*/false);
  add_staff("operator");
  admin.add_member("operator", dormant, /*is_admin=*/true);
  auto who = expect_accepted(login("operator"));
  BOOST_TEST(who.managed_organizations.empty());
  BOOST_TEST(!may_watch(who, dormant));
}

BOOST_AUTO_TEST_CASE(a_superuser_who_is_not_staff_is_refused) {
  add_user("boss", /*is_staff=*/false, /*is_superuser=*/true);
  expect_refused(login("boss"), auth_failure::not_staff);
}

BOOST_AUTO_TEST_CASE(an_inactive_user_is_refused) {
  add_user("gone", true, true, /*is_active=*/false);
  expect_refused(login("gone"), auth_failure::inactive_user);
}

BOOST_AUTO_TEST_CASE(a_user_deactivated_after_login_is_refused) {
  add_staff("leaver", true);
  auto key = login("leaver");
  admin.set_user_flags("leaver", false, true, true);
  expect_refused(key, auth_failure::inactive_user);
}

BOOST_AUTO_TEST_CASE(an_expired_session_is_refused) {
  add_staff("root", true);
  expect_refused(login("root", current_key, model_backend, -1),
                 auth_failure::expired);
}

BOOST_AUTO_TEST_CASE(a_session_expires_at_its_expire_date_exactly) {
  add_staff("root", true);
  auto key = login("root", current_key, model_backend, 60);
  auto expires = directory.find_session(key)->expire_unix_ms;
  BOOST_TEST(std::holds_alternative<principal>(validate_at(key, expires - 1)));
  BOOST_TEST(describe(validate_at(key, expires)) == "expired");
}

BOOST_AUTO_TEST_CASE(an_unknown_key_is_refused) {
  expect_refused("abcdefgh12345678abcdefgh12345678", auth_failure::no_session);
}

BOOST_AUTO_TEST_CASE(malformed_keys_are_refused_without_a_lookup) {
  watched_directory watched(directory);
  for (std::string key :
       {std::string(), std::string("abc1234"),
        std::string("ABCDEFGH12345678ABCDEFGH12345678"), std::string(41, 'a'),
        std::string(1 << 20, 'a'), std::string("abcdefgh\0ijklmnop", 17),
        std::string("abcdefgh 1234"), std::string("abcdefgh;1234"),
        std::string("abcdefgh\xc3\xa9")}) {
    auto verdict = validate_session(watched, settings, key, now_ms());
    BOOST_TEST(describe(verdict) == "no_session");
  }
  BOOST_TEST(watched.lookups == 0);
}

BOOST_AUTO_TEST_CASE(a_changed_password_ends_the_session) {
  add_staff("root", true);
  auto key = login("root");
  admin.set_password("root", "a new password");
  expect_refused(key, auth_failure::stale_auth_hash);
}

BOOST_AUTO_TEST_CASE(a_backend_that_is_not_accepted_is_refused) {
  add_staff("root", true);
  expect_refused(login("root", current_key, "some.other.Backend"),
                 auth_failure::bad_backend);
}

BOOST_AUTO_TEST_CASE(the_openwisp_backend_is_accepted_by_default) {
  add_staff("root", true);
  expect_accepted(login("root", current_key,
                        "openwisp_users.backends.UsersAuthenticationBackend"));
}

BOOST_AUTO_TEST_CASE(a_session_signed_with_a_fallback_key_is_accepted) {
  add_staff("root", true);
  expect_accepted(login("root", old_key));
}

BOOST_AUTO_TEST_CASE(a_session_signed_with_an_unknown_key_is_refused) {
  add_staff("root", true);
  expect_refused(login("root", "a-key-nobody-configured"),
                 auth_failure::bad_signature);
}

BOOST_AUTO_TEST_CASE(an_auth_hash_made_with_a_fallback_key_is_accepted) {
  auto id = add_staff("root", true);
  auto password = directory.find_user(id)->password;
  auto key =
      put_signed({{"_auth_user_id", id},
                  {"_auth_user_backend", model_backend},
                  {"_auth_user_hash", session_auth_hash(password, old_key)}});
  expect_accepted(key);
}

BOOST_AUTO_TEST_CASE(a_session_without_a_user_is_not_logged_in) {
  expect_refused(put_signed({{"django_language", "en"}}),
                 auth_failure::not_logged_in);
}

BOOST_AUTO_TEST_CASE(a_session_without_an_auth_hash_is_refused) {
  auto id = add_staff("root", true);
  expect_refused(put_signed({{"_auth_user_id", id},
                             {"_auth_user_backend", model_backend}}),
                 auth_failure::stale_auth_hash);
}

BOOST_AUTO_TEST_CASE(a_session_naming_a_missing_user_is_refused) {
  expect_refused(
      put_signed({{"_auth_user_id", "0c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"},
                  {"_auth_user_backend", model_backend},
                  {"_auth_user_hash", "00"}}),
      auth_failure::unknown_user);
  expect_refused(put_signed({{"_auth_user_id", {1, 2}},
                             {"_auth_user_backend", model_backend}}),
                 auth_failure::unknown_user);
}

BOOST_AUTO_TEST_CASE(tampered_session_data_is_a_bad_signature) {
  add_staff("root", true);
  auto key = login("root");
  auto data = directory.find_session(key)->session_data;
  data[2] = data[2] == 'A' ? 'B' : 'A';
  put_session("tamperedsession1", data);
  expect_refused("tamperedsession1", auth_failure::bad_signature);
}

BOOST_AUTO_TEST_CASE(a_failing_directory_throws_storage_error) {
  add_staff("root", true);
  auto key = login("root");
  watched_directory watched(directory);
  watched.failing = true;
  BOOST_CHECK_THROW(validate_session(watched, settings, key, now_ms()),
                    storage_error);
}

BOOST_AUTO_TEST_CASE(no_accepted_backend_refuses_every_session) {
  add_staff("root", true);
  settings.auth_backends.clear();
  expect_refused(login("root"), auth_failure::bad_backend);
}

BOOST_AUTO_TEST_CASE(may_watch_follows_superuser_and_managed_organizations) {
  principal root{"1", true, {}};
  principal operator_{"2", false, {"org-a"}};
  principal nobody{"3", false, {}};
  BOOST_TEST(may_watch(root, "org-b"));
  BOOST_TEST(may_watch(operator_, "org-a"));
  BOOST_TEST(!may_watch(operator_, "org-b"));
  BOOST_TEST(!may_watch(nobody, "org-a"));
}

BOOST_AUTO_TEST_CASE(every_failure_has_a_stable_name) {
  BOOST_TEST(std::string(to_string(auth_failure::stale_auth_hash)) ==
             "stale_auth_hash");
  BOOST_TEST(std::string(to_string(auth_failure::directory_failed)) ==
             "directory_failed");
  BOOST_TEST(default_auth_backends().size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
