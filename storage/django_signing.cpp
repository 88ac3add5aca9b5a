#include "storage/django_signing.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <limits>

#include "storage/storage_error.hpp"

namespace batchcast::storage {

namespace {

constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// django.utils.baseconv.BASE62_ALPHABET: digits, then upper, then lower.
constexpr std::string_view base62_alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

constexpr std::string_view auth_hash_salt =
    "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

int base62_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 36;
  return -1;
}

std::string sha256(std::string_view a, std::string_view b) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx != nullptr &&
            EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, digest.data(), &size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    throw storage_error("django signing: SHA-256 failed");
  return std::string(reinterpret_cast<const char*>(digest.data()), size);
}

// Django's Signer.signature: the base64 HMAC under the salt + "signer" key.
std::string signature_of(std::string_view value, std::string_view salt,
                         std::string_view secret) {
  std::string key_salt(salt);
  key_salt += "signer";
  return base64url_encode(salted_hmac_sha256(key_salt, value, secret));
}

// What Django's b62_decode accepts: an optional "-", then base62 digits.
// The value itself is not needed, since the timestamp is not an expiry.
bool is_django_timestamp(std::string_view text) {
  if (text.empty())
    return false;
  if (text.front() == '-')
    text.remove_prefix(1);
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return base62_value(c) >= 0; });
}

std::string zlib_compress(std::string_view data) {
  uLongf size = compressBound(static_cast<uLong>(data.size()));
  std::string out(size, '\0');
  // Level 6 (the default) is what Python's zlib.compress uses, so the output
  // matches Django's byte for byte.
  int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                     reinterpret_cast<const Bytef*>(data.data()),
                     static_cast<uLong>(data.size()), Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK)
    throw storage_error("django signing: zlib compression failed");
  out.resize(size);
  return out;
}

// zlib.decompress, refusing output past `limit` bytes. Like Python, data
// after the end of the stream is ignored and a truncated stream refused.
std::optional<std::string> zlib_inflate(std::string_view input,
                                        std::size_t limit) {
  z_stream stream{};
  if (inflateInit(&stream) != Z_OK)
    return std::nullopt;
  struct end_guard {
    z_stream* s;
    ~end_guard() { inflateEnd(s); }
  } guard{&stream};

  std::string out;
  std::array<unsigned char, 16 * 1024> chunk{};
  std::size_t fed = 0;
  for (;;) {
    if (stream.avail_in == 0 && fed < input.size()) {
      auto n = std::min<std::size_t>(input.size() - fed,
                                     std::numeric_limits<uInt>::max());
      stream.next_in =
          reinterpret_cast<Bytef*>(const_cast<char*>(input.data() + fed));
      stream.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    stream.next_out = chunk.data();
    stream.avail_out = static_cast<uInt>(chunk.size());
    int rc = inflate(&stream, Z_NO_FLUSH);
    std::size_t produced = chunk.size() - stream.avail_out;
    if (produced > limit - out.size())
      return std::nullopt;
    out.append(reinterpret_cast<const char*>(chunk.data()), produced);
    if (rc == Z_STREAM_END)
      return out;
    // Z_OK made progress. Z_BUF_ERROR (no progress possible) is fine only
    // when the next slice of input is still to be fed; otherwise the
    // stream is truncated.
    bool refill = stream.avail_in == 0 && fed < input.size();
    if (rc != Z_OK && !(rc == Z_BUF_ERROR && refill))
      return std::nullopt;
  }
}

// Django's JSONSerializer decodes the bytes as Latin-1 before parsing, so
// every byte is one code point.
std::string latin1_to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x80) {
      out += c;
    } else {
      out += static_cast<char>(0xc0 | (b >> 6));
      out += static_cast<char>(0x80 | (b & 0x3f));
    }
  }
  return out;
}

// Python's json.loads gives up on nesting deeper than its recursion limit
// (about a thousand levels), and Django then treats the session as empty.
// The limit here is lower than that and well above any real session.
constexpr int max_json_depth = 512;

bool nests_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::optional<nlohmann::json> unsign_unchecked(
    std::string_view signed_value, std::string_view salt,
    const std::vector<std::string>& secrets, std::size_t max_bytes) {
  auto last = signed_value.rfind(':');
  if (last == std::string_view::npos)
    return std::nullopt;
  std::string_view value = signed_value.substr(0, last);
  std::string_view signature = signed_value.substr(last + 1);

  bool verified = false;
  for (const auto& secret : secrets) {
    if (constant_time_equals(signature, signature_of(value, salt, secret))) {
      verified = true;
      break;
    }
  }
  if (!verified)
    return std::nullopt;

  auto colon = value.rfind(':');
  if (colon == std::string_view::npos ||
      !is_django_timestamp(value.substr(colon + 1)))
    return std::nullopt;
  std::string_view payload = value.substr(0, colon);

  bool compressed = !payload.empty() && payload.front() == '.';
  if (compressed)
    payload.remove_prefix(1);
  auto data = base64url_decode(payload);
  if (!data)
    return std::nullopt;
  if (compressed) {
    data = zlib_inflate(*data, max_bytes);
    if (!data)
      return std::nullopt;
  } else if (data->size() > max_bytes) {
    return std::nullopt;
  }

  if (nests_deeper_than(*data, max_json_depth))
    return std::nullopt;
  auto object = nlohmann::json::parse(latin1_to_utf8(*data), nullptr,
                                      /*allow_exceptions=*/false);
  if (!object.is_object())
    return std::nullopt;
  return object;
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += base64url_alphabet[(n >> 18) & 63];
    out += base64url_alphabet[(n >> 12) & 63];
    out += base64url_alphabet[(n >> 6) & 63];
    out += base64url_alphabet[n & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    unsigned n = at(i) << 16;
    out += base64url_alphabet[(n >> 18) & 63];
    out += base64url_alphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    unsigned n = (at(i) << 16) | (at(i + 1) << 8);
    out += base64url_alphabet[(n >> 18) & 63];
    out += base64url_alphabet[(n >> 12) & 63];
    out += base64url_alphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  // One leftover character cannot encode a whole byte.
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = base64url_value(c);
    if (v < 0)
      return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  // Leftover bits are ignored, as Python's decoder ignores them.
  return out;
}

std::string base62_encode(std::uint64_t value) {
  if (value == 0)
    return "0";
  std::string out;
  while (value > 0) {
    out += base62_alphabet[value % 62];
    value /= 62;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::optional<std::uint64_t> base62_decode(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  std::uint64_t value = 0;
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  for (char c : text) {
    int digit = base62_value(c);
    if (digit < 0)
      return std::nullopt;
    auto d = static_cast<std::uint64_t>(digit);
    if (value > (max - d) / 62)
      return std::nullopt;
    value = value * 62 + d;
  }
  return value;
}

std::string salted_hmac_sha256(std::string_view key_salt,
                               std::string_view value,
                               std::string_view secret) {
  std::string key = sha256(key_salt, secret);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(value.data()), value.size(),
           mac.data(), &size) == nullptr)
    throw storage_error("django signing: HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(mac.data()), size);
}

std::string sign_json_text(std::string_view json_text, std::string_view salt,
                           std::string_view secret,
                           std::uint64_t unix_seconds) {
  std::string data(json_text);
  bool compressed = false;
  std::string deflated = zlib_compress(data);
  // Django compresses only when that saves more than the "." it costs.
  if (deflated.size() + 1 < data.size()) {
    data = std::move(deflated);
    compressed = true;
  }
  std::string value = compressed ? "." : "";
  value += base64url_encode(data);
  value += ':';
  value += base62_encode(unix_seconds);
  std::string signed_value = value;
  signed_value += ':';
  signed_value += signature_of(value, salt, secret);
  return signed_value;
}

std::string sign_object(const nlohmann::json& object, std::string_view salt,
                        std::string_view secret, std::uint64_t unix_seconds) {
  std::string text;
  try {
    // ensure_ascii, as Python's json.dumps does by default.
    text = object.dump(-1, ' ', true, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    throw storage_error(std::string("django signing: cannot serialize: ") +
                        e.what());
  }
  return sign_json_text(text, salt, secret, unix_seconds);
}

std::optional<nlohmann::json> unsign_object(
    std::string_view signed_value, std::string_view salt,
    const std::vector<std::string>& secrets, std::size_t max_inflated_bytes) {
  try {
    return unsign_unchecked(signed_value, salt, secrets, max_inflated_bytes);
  } catch (...) {
    // Out of memory or a failing crypto library: the value is simply not
    // accepted, since callers treat this as a bad signature either way.
    return std::nullopt;
  }
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  if (a.empty())
    return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string session_auth_hash(std::string_view password_hash,
                              std::string_view secret) {
  constexpr char hex[] = "0123456789abcdef";
  std::string mac = salted_hmac_sha256(auth_hash_salt, password_hash, secret);
  std::string out;
  out.reserve(mac.size() * 2);
  for (char c : mac) {
    auto b = static_cast<unsigned char>(c);
    out += hex[b >> 4];
    out += hex[b & 0x0f];
  }
  return out;
}

}  // namespace batchcast::storage
