// Which upgrade requests the server refuses itself, and that Beast's
// websocket accept completes every request the server lets through: once
// a session is authorized, the upgrade must not fail on a check the
// server did not make.
#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "net/upgrade_check.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using batchcast::net::check_upgrade;
using batchcast::net::is_valid_websocket_key;
using request = http::request<http::empty_body>;

// What a browser sends to watch a batch.
request browser_request() {
  request req{http::verb::get, "/ws/radius/batch/x/", 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, "websocket");
  req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(http::field::sec_websocket_version, "13");
  req.set(http::field::origin, "http://localhost");
  return req;
}

// The status our check answers with, or 101 when it lets `req` through.
unsigned ours(const request& req) {
  auto refusal = check_upgrade(req);
  return refusal ? static_cast<unsigned>(refusal->status) : 101;
}

// Whether Beast's websocket accept completes the upgrade of `req`.
bool beast_accepts(const request& req) {
  asio::io_context io;
  beast::test::stream local{io};
  beast::test::stream remote{io};
  local.connect(remote);
  websocket::stream<beast::test::stream> ws{std::move(local)};
  beast::error_code ec;
  ws.accept(req, ec);
  return !ec;
}

// A browser's request changed by `change`, and the status we expect.
struct variant {
  const char* what;
  std::function<void(request&)> change;
  unsigned expected;
};

const std::vector<variant>& variants() {
  static const std::vector<variant> all = {
      {"as a browser sends it", [](request&) {}, 101},
      {"no Host", [](request& r) { r.erase(http::field::host); }, 400},
      {"two Hosts",
       [](request& r) { r.insert(http::field::host, "localhost"); }, 400},
      {"empty Host", [](request& r) { r.set(http::field::host, ""); }, 101},
      {"HTTP/1.0", [](request& r) { r.version(10); }, 426},
      {"HTTP/1.2", [](request& r) { r.version(12); }, 400},
      {"POST", [](request& r) { r.method(http::verb::post); }, 405},
      {"no Connection", [](request& r) { r.erase(http::field::connection); },
       426},
      {"Connection without upgrade",
       [](request& r) { r.set(http::field::connection, "keep-alive"); }, 426},
      {"Connection upgrade among others",
       [](request& r) {
         r.set(http::field::connection, "keep-alive, Upgrade");
       },
       101},
      {"no Upgrade", [](request& r) { r.erase(http::field::upgrade); }, 426},
      {"Upgrade not websocket",
       [](request& r) { r.set(http::field::upgrade, "h2c"); }, 426},
      {"no key", [](request& r) { r.erase(http::field::sec_websocket_key); },
       400},
      {"short key",
       [](request& r) {
         r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ=");
       },
       400},
      {"long key",
       [](request& r) {
         r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ===");
       },
       400},
      {"key not base64",
       [](request& r) {
         r.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZ*==");
       },
       400},
      {"two keys",
       [](request& r) {
         r.insert(http::field::sec_websocket_key, "AAAAAAAAAAAAAAAAAAAAAA==");
       },
       400},
      {"the same key twice",
       [](request& r) {
         r.insert(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
       },
       400},
      {"two versions",
       [](request& r) { r.insert(http::field::sec_websocket_version, "8"); },
       400},
      {"no version",
       [](request& r) { r.erase(http::field::sec_websocket_version); }, 426},
      {"chunked",
       [](request& r) { r.set(http::field::transfer_encoding, "chunked"); },
       400},
      {"gzip",
       [](request& r) { r.set(http::field::transfer_encoding, "gzip"); }, 400},
      {"gzip, chunked",
       [](request& r) {
         r.set(http::field::transfer_encoding, "gzip, chunked");
       },
       400},
      {"empty Transfer-Encoding",
       [](request& r) { r.set(http::field::transfer_encoding, ""); }, 400},
      {"version 8",
       [](request& r) { r.set(http::field::sec_websocket_version, "8"); }, 426},
  };
  return all;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(upgrade_check)

BOOST_AUTO_TEST_CASE(each_defect_gets_its_answer) {
  for (const auto& each : variants()) {
    auto req = browser_request();
    each.change(req);
    BOOST_TEST_CONTEXT(each.what) {
      BOOST_CHECK_EQUAL(ours(req), each.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(beast_completes_every_upgrade_we_let_through) {
  // The harness sees a refusal: Beast's accept wants a Host.
  auto no_host = browser_request();
  no_host.erase(http::field::host);
  BOOST_CHECK(!beast_accepts(no_host));

  for (const auto& each : variants()) {
    auto req = browser_request();
    each.change(req);
    BOOST_TEST_CONTEXT(each.what) {
      if (ours(req) == 101)
        BOOST_CHECK(beast_accepts(req));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_key_is_16_bytes_in_base64) {
  BOOST_TEST(is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ=="));
  BOOST_TEST(is_valid_websocket_key("AAAAAAAAAAAAAAAAAAAA+/=="));
  BOOST_TEST(!is_valid_websocket_key(""));
  BOOST_TEST(!is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQ"));
  BOOST_TEST(!is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZQAA"));
  BOOST_TEST(!is_valid_websocket_key("dGhlIHNhbXBsZSBub25j=Q=="));
  BOOST_TEST(!is_valid_websocket_key("dGhlIHNhbXBsZSBub25jZ-=="));
}

BOOST_AUTO_TEST_SUITE_END()
