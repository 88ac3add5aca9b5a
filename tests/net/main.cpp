// The one translation unit that defines the test module of the net suite.
#define BOOST_TEST_MODULE net
#include <boost/test/unit_test.hpp>
