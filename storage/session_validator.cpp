#include "storage/session_validator.hpp"

#include <algorithm>

#include "storage/django_signing.hpp"

namespace batchcast::storage {

namespace {

// Django's session column is varchar(40) and its keys are generated from
// [a-z0-9]; SessionBase refuses keys shorter than 8. Anything else cannot
// name a row, so it is refused before the directory is asked.
constexpr std::size_t min_session_key = 8;
constexpr std::size_t max_session_key = 40;

bool is_plausible_session_key(const std::string& key) {
  if (key.size() < min_session_key || key.size() > max_session_key)
    return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// _auth_user_id as Django stores it: str(user.pk). A bare JSON integer is
// taken too, as the pk field's to_python would take it.
std::optional<std::string> session_user_id(const nlohmann::json& session) {
  auto found = session.find("_auth_user_id");
  if (found == session.end())
    return std::nullopt;
  if (found->is_string())
    return found->get<std::string>();
  if (found->is_number_integer())
    return found->dump();
  return std::string();  // present but unusable: names no user
}

bool backend_accepted(const nlohmann::json& session,
                      const std::vector<std::string>& accepted) {
  auto found = session.find("_auth_user_backend");
  if (found == session.end() || !found->is_string())
    return false;
  const auto& backend = found->get_ref<const std::string&>();
  return std::find(accepted.begin(), accepted.end(), backend) != accepted.end();
}

// django.contrib.auth.get_user: the stored hash must equal the user's
// current session auth hash under some key. An empty or missing hash never
// verifies.
bool auth_hash_matches(const nlohmann::json& session,
                       const std::string& password_hash,
                       const std::vector<std::string>& secret_keys) {
  auto found = session.find("_auth_user_hash");
  if (found == session.end() || !found->is_string())
    return false;
  const auto& given = found->get_ref<const std::string&>();
  if (given.empty())
    return false;
  for (const auto& secret : secret_keys)
    if (constant_time_equals(given, session_auth_hash(password_hash, secret)))
      return true;
  return false;
}

}  // namespace

const char* to_string(auth_failure failure) {
  switch (failure) {
    case auth_failure::no_session:
      return "no_session";
    case auth_failure::expired:
      return "expired";
    case auth_failure::bad_signature:
      return "bad_signature";
    case auth_failure::not_logged_in:
      return "not_logged_in";
    case auth_failure::unknown_user:
      return "unknown_user";
    case auth_failure::inactive_user:
      return "inactive_user";
    case auth_failure::bad_backend:
      return "bad_backend";
    case auth_failure::stale_auth_hash:
      return "stale_auth_hash";
    case auth_failure::not_staff:
      return "not_staff";
    case auth_failure::not_allowed:
      return "not_allowed";
    case auth_failure::unknown_batch:
      return "unknown_batch";
    case auth_failure::directory_failed:
      return "directory_failed";
  }
  return "unknown";
}

std::vector<std::string> default_auth_backends() {
  return {"openwisp_users.backends.UsersAuthenticationBackend",
          "django.contrib.auth.backends.ModelBackend"};
}

session_verdict validate_session(directory& dir,
                                 const session_settings& settings,
                                 const std::string& session_key,
                                 std::int64_t now_unix_ms) {
  if (!is_plausible_session_key(session_key))
    return auth_failure::no_session;

  // 1. The row, unexpired (Django: expire_date > now).
  auto row = dir.find_session(session_key);
  if (!row)
    return auth_failure::no_session;
  if (row->expire_unix_ms <= now_unix_ms)
    return auth_failure::expired;

  // 2. The signature, under the current key or a fallback.
  auto session =
      unsign_object(row->session_data, session_salt, settings.secret_keys);
  if (!session)
    return auth_failure::bad_signature;

  // 3-5 in the order django.contrib.auth.get_user takes them: id, backend,
  // the user (ModelBackend.get_user refuses inactive users), then the hash.
  auto user_id = session_user_id(*session);
  if (!user_id)
    return auth_failure::not_logged_in;
  if (!backend_accepted(*session, settings.auth_backends))
    return auth_failure::bad_backend;
  auto user = user_id->empty() ? std::nullopt : dir.find_user(*user_id);
  if (!user)
    return auth_failure::unknown_user;
  if (!user->is_active)
    return auth_failure::inactive_user;
  if (!auth_hash_matches(*session, user->password, settings.secret_keys))
    return auth_failure::stale_auth_hash;

  if (!user->is_staff)
    return auth_failure::not_staff;

  principal who;
  who.user_id = *user_id;
  who.is_superuser = user->is_superuser;
  who.session_expires_unix_ms = row->expire_unix_ms;
  // A superuser may watch everything; the lookup would only cost a query.
  if (!who.is_superuser)
    who.managed_organizations = dir.managed_organizations(*user_id);
  return who;
}

bool may_watch(const principal& who, const std::string& organization_id) {
  if (who.is_superuser)
    return true;
  const auto& orgs = who.managed_organizations;
  return std::find(orgs.begin(), orgs.end(), organization_id) != orgs.end();
}

}  // namespace batchcast::storage
