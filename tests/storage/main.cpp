// The one place that defines the Boost.Test module of each storage suite.
#define BOOST_TEST_MODULE batchcast_storage
#include <boost/test/unit_test.hpp>
