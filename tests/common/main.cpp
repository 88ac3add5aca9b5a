// The one translation unit that defines the test module of the common
// suite.
#define BOOST_TEST_MODULE common
#include <boost/test/unit_test.hpp>
