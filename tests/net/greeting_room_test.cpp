#include "net/greeting_room.hpp"

#include <memory>
#include <vector>

#include <boost/test/unit_test.hpp>

using batchcast::net::greeting_room;

namespace {

struct session {
  int number = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(greeting_room_order)

BOOST_AUTO_TEST_CASE(a_full_room_pushes_out_the_oldest_first) {
  greeting_room<session> room{2};
  auto first = std::make_shared<session>(session{1});
  auto second = std::make_shared<session>(session{2});
  auto third = std::make_shared<session>(session{3});
  auto fourth = std::make_shared<session>(session{4});
  BOOST_TEST(room.enter(first) == nullptr);
  BOOST_TEST(room.enter(second) == nullptr);
  BOOST_TEST(room.enter(third) == first);
  BOOST_TEST(room.enter(fourth) == second);
  BOOST_TEST(room.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_session_that_greeted_leaves_and_is_never_pushed_out) {
  greeting_room<session> room{2};
  auto first = std::make_shared<session>(session{1});
  auto second = std::make_shared<session>(session{2});
  auto third = std::make_shared<session>(session{3});
  room.enter(first);
  room.enter(second);
  room.leave(first.get());  // greeted
  BOOST_TEST(room.enter(third) == nullptr);
  auto fourth = std::make_shared<session>(session{4});
  BOOST_TEST(room.enter(fourth) == second);
  room.leave(first.get());  // twice: nothing
  BOOST_TEST(room.size() == 2u);
}

BOOST_AUTO_TEST_CASE(sessions_gone_without_leaving_make_no_room) {
  greeting_room<session> room{1};
  auto gone = std::make_shared<session>(session{1});
  room.enter(gone);
  gone.reset();  // its io_context stopped
  auto next = std::make_shared<session>(session{2});
  BOOST_TEST(room.enter(next) == nullptr);
  auto last = std::make_shared<session>(session{3});
  BOOST_TEST(room.enter(last) == next);
}

BOOST_AUTO_TEST_CASE(a_stream_of_connections_never_fills_more_than_the_room) {
  greeting_room<session> room{8};
  std::vector<std::shared_ptr<session>> open;
  int pushed_out = 0;
  for (int i = 0; i < 1000; ++i) {
    open.push_back(std::make_shared<session>(session{i}));
    if (auto oldest = room.enter(open.back())) {
      BOOST_TEST(oldest->number == i - 8);
      ++pushed_out;
    }
  }
  BOOST_TEST(pushed_out == 992);
  BOOST_TEST(room.size() == 8u);
}

BOOST_AUTO_TEST_SUITE_END()
