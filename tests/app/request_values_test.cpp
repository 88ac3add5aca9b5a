// What the clients accept into their requests: what a real batch id,
// session, Origin and URL look like passes; what would add a header, a
// cookie or a path does not.
#include "app/request_values.hpp"

#include <boost/test/unit_test.hpp>

#include "app/url.hpp"

using namespace batchcast::app;

BOOST_AUTO_TEST_SUITE(request_values)

BOOST_AUTO_TEST_CASE(a_batch_id_is_only_a_canonical_uuid) {
  BOOST_CHECK(!batch_id_problem("8b5a6bd2-4d32-4b5e-9d53-3b7f5d2c9a10", "B"));
  for (auto bad : {"", "../x?y#z", "x/../../../metrics",
                   "8b5a6bd2-4d32-4b5e-9d53-3b7f5d2c9a10/",
                   "8b5a6bd2-4d32-4b5e-9d53-3b7f5d2c9a1\r"})
    BOOST_CHECK(batch_id_problem(bad, "B"));
  auto upper = batch_id_problem("8B5A6BD2-4D32-4B5E-9D53-3B7F5D2C9A10", "B");
  BOOST_REQUIRE(upper);
  BOOST_CHECK(upper->find("8b5a6bd2-4d32-4b5e-9d53-3b7f5d2c9a10") !=
              std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_session_key_is_letters_digits_and_a_few_marks) {
  BOOST_CHECK(!session_key_problem("abcdefghijklmnopqrstuvwxyz012345"));
  BOOST_CHECK(!session_key_problem("Ab-_.9"));
  for (auto bad : {"", "a;b", "a,b", "a b", "a\"b", "a'b", "a\r\nX: y",
                   "caf\xc3\xa9", "a\tb", "a=b"})
    BOOST_CHECK_MESSAGE(session_key_problem(bad), bad);
  BOOST_CHECK(session_key_problem(std::string(257, 'a')));
}

BOOST_AUTO_TEST_CASE(a_cookie_name_is_an_http_token) {
  BOOST_CHECK(!cookie_name_problem("sessionid"));
  BOOST_CHECK(!cookie_name_problem("__Host-session"));
  for (auto bad : {"", "a=b", "a;b", "a b", "a\r\n"})
    BOOST_CHECK_MESSAGE(cookie_name_problem(bad), bad);
}

BOOST_AUTO_TEST_CASE(an_origin_is_scheme_host_and_port) {
  for (auto good :
       {"http://x", "https://admin.example.com", "http://127.0.0.1:8000",
        "https://[::1]:8443", "chrome-extension://abc"})
    BOOST_CHECK_MESSAGE(!origin_problem(good), good);
  for (auto bad :
       {"", "x.example.com", "http://", "http://x\r\nX-Inj2: z", "http://x y",
        "http://x/", "http://x/page", "http://x:", "http://x:8o", "http://[::1",
        "http://[x]", "http://u@x", "http://x?q", "http://\xc3\xa9.example"})
    BOOST_CHECK_MESSAGE(origin_problem(bad), bad);
}

BOOST_AUTO_TEST_CASE(a_url_host_and_path_are_sent_as_they_are) {
  BOOST_CHECK_EQUAL(parse_url("ws://h/pre%20fix/a-b_c~/", "x").path,
                    "/pre%20fix/a-b_c~");
  for (auto bad : {"ws://u@h", "ws://h h", "ws://h/a b", "ws://h/p?q",
                   "ws://h/p#f", "ws://h/../x", "ws://h/./x", "ws://h/%zz",
                   "ws://h/%2", "ws://h/a\r\nX: y", "ws://h/caf\xc3\xa9",
                   "ws://[::1%eth0]:1", "http://127.0.0.1:", "ws://[::1]:",
                   // Escaped dot segments, which servers decode first.
                   "ws://h/%2e%2e/x", "ws://h/a/%2E", "ws://h/.%2e/x"})
    BOOST_CHECK_THROW(parse_url(bad, "--url"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
