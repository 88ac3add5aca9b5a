#include <boost/test/unit_test.hpp>

#include "storage/django_sqlite_format.hpp"
#include "storage/uuid.hpp"

namespace {

using namespace batchcast::storage;

constexpr const char* canonical = "5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b";

}  // namespace

BOOST_AUTO_TEST_SUITE(uuid_and_time_suite)

BOOST_AUTO_TEST_CASE(only_lowercase_dashed_uuids_are_canonical) {
  BOOST_TEST(is_canonical_uuid(canonical));
  BOOST_TEST(!is_canonical_uuid("5B1F4A2E-8C3D-4E5F-9A6B-7C8D9E0F1A2B"));
  BOOST_TEST(!is_canonical_uuid("5b1f4a2e8c3d4e5f9a6b7c8d9e0f1a2b"));
  BOOST_TEST(!is_canonical_uuid("5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2"));
  BOOST_TEST(!is_canonical_uuid("5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2g"));
  BOOST_TEST(!is_canonical_uuid("5b1f4a2e-8c3d4-e5f-9a6b-7c8d9e0f1a2b"));
}

BOOST_AUTO_TEST_CASE(hex32_and_uppercase_spellings_canonicalize) {
  BOOST_TEST(*canonical_uuid("5b1f4a2e8c3d4e5f9a6b7c8d9e0f1a2b") == canonical);
  BOOST_TEST(*canonical_uuid("5B1F4A2E-8C3D-4E5F-9A6B-7C8D9E0F1A2B") ==
             canonical);
  BOOST_TEST(!canonical_uuid("not a uuid"));
  BOOST_TEST(!canonical_uuid("5b1f4a2e8c3d4e5f9a6b7c8d9e0f1a2"));
  BOOST_TEST(!canonical_uuid("{5b1f4a2e-8c3d-4e5f-9a6b-7c8d9e0f1a2b}"));
}

BOOST_AUTO_TEST_CASE(django_stores_a_uuid_as_32_hex_digits) {
  BOOST_TEST(uuid_hex32(canonical) == "5b1f4a2e8c3d4e5f9a6b7c8d9e0f1a2b");
}

BOOST_AUTO_TEST_CASE(new_uuids_are_random_version_4) {
  auto a = new_uuid4();
  BOOST_TEST(is_canonical_uuid(a));
  BOOST_TEST(a[14] == '4');
  BOOST_TEST(std::string("89ab").find(a[19]) != std::string::npos);
  BOOST_TEST(a != new_uuid4());
}

BOOST_AUTO_TEST_CASE(datetimes_are_written_as_django_writes_them) {
  BOOST_TEST(format_django_datetime(0) == "1970-01-01 00:00:00");
  BOOST_TEST(format_django_datetime(1709210096789000) ==
             "2024-02-29 12:34:56.789000");
  BOOST_TEST(format_django_datetime(1709210096000001) ==
             "2024-02-29 12:34:56.000001");
  BOOST_TEST(format_django_datetime(-1) == "1969-12-31 23:59:59.999999");
}

BOOST_AUTO_TEST_CASE(datetimes_django_wrote_read_back_in_milliseconds) {
  BOOST_TEST(*parse_django_datetime("2024-02-29 12:34:56.789000") ==
             1709210096789);
  BOOST_TEST(*parse_django_datetime("2024-02-29 12:34:56") == 1709210096000);
  BOOST_TEST(*parse_django_datetime("2024-02-29T12:34:56.7Z") == 1709210096700);
  BOOST_TEST(*parse_django_datetime("2024-02-29 12:34:56+00:00") ==
             1709210096000);
  BOOST_TEST(*parse_django_datetime("2000-03-01 00:00:00") == 951868800000);
}

BOOST_AUTO_TEST_CASE(every_written_datetime_parses_back) {
  for (std::int64_t us = -5000000000000000; us < 9000000000000000;
       us += 123456789012345)
    BOOST_TEST(*parse_django_datetime(format_django_datetime(us)) ==
               us / 1000 - (us % 1000 < 0 ? 1 : 0));
}

BOOST_AUTO_TEST_CASE(text_that_is_not_a_django_datetime_does_not_parse) {
  for (const char* bad :
       {"", "2024-02-30 00:00:00", "2023-02-29 00:00:00", "2024-13-01 00:00:00",
        "2024-01-01 24:00:00", "2024-01-01 00:00", "2024-01-01 00:00:00.",
        "2024-01-01 00:00:00+02:00", "2024/01/01 00:00:00",
        "2024-01-01 00:00:00 ", "yesterday"})
    BOOST_TEST(!parse_django_datetime(bad), "parsed " << bad);
}

BOOST_AUTO_TEST_SUITE_END()
