// The one translation unit that defines the test module of the actor suite.
#define BOOST_TEST_MODULE batchcast_actors
#include <boost/test/unit_test.hpp>
