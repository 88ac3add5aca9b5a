// Whose a loopback connection is, told over real sockets: one this test
// process made itself, one a child process made and holds, and one whose
// client closed before the lookup. A dial gate relays only the first.
#define BOOST_TEST_MODULE net_own_connection
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "net/own_connection.hpp"

using namespace batchcast::net;

namespace {

struct loopback_listener {
  explicit loopback_listener(const char* address)
      : acceptor{context, tcp::endpoint{asio::ip::make_address(address), 0}} {}

  tcp::endpoint endpoint() const { return acceptor.local_endpoint(); }

  tcp::socket accept() { return acceptor.accept(); }

  asio::io_context context;
  tcp::acceptor acceptor;
};

// A child process that connects to `gate`, tells the parent through a
// pipe, and holds the connection until the parent closes the pipe.
struct connecting_child {
  explicit connecting_child(const tcp::endpoint& gate) {
    int ready[2];
    int hold[2];
    BOOST_REQUIRE(::pipe(ready) == 0);
    BOOST_REQUIRE(::pipe(hold) == 0);
    pid = ::fork();
    BOOST_REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(ready[0]);
      ::close(hold[1]);
      asio::io_context context;
      tcp::socket client{context};
      error_code ec;
      client.connect(gate, ec);
      char told = ec ? 'x' : 'c';
      (void)!::write(ready[1], &told, 1);
      char ignored;
      (void)!::read(hold[0], &ignored, 1);  // until the parent closes it
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(hold[0]);
    release = hold[1];
    char told = 0;
    BOOST_REQUIRE(::read(ready[0], &told, 1) == 1);
    ::close(ready[0]);
    BOOST_REQUIRE_MESSAGE(told == 'c', "the child could not connect");
  }

  ~connecting_child() {
    ::close(release);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }

  pid_t pid = -1;
  int release = -1;
};

connection_owner owner_of_accepted(
    tcp::socket& accepted, socket_lookup how = socket_lookup::best_available) {
  std::string why;
  auto owner = owner_of(accepted, why, how);
  BOOST_TEST_MESSAGE("owner " << static_cast<int>(owner) << ": " << why);
  return owner;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_connection_this_process_made_is_its_own) {
  loopback_listener gate{"127.0.0.1"};
  tcp::socket client{gate.context};
  client.connect(gate.endpoint());
  auto accepted = gate.accept();
  BOOST_TEST((owner_of_accepted(accepted) == connection_owner::this_process));
}

BOOST_AUTO_TEST_CASE(a_connection_over_ipv6_loopback_is_told_too) {
  std::unique_ptr<loopback_listener> gate;
  try {
    gate = std::make_unique<loopback_listener>("::1");
  } catch (const boost::system::system_error& e) {
    BOOST_TEST_MESSAGE("no ::1 here, nothing to check: " << e.what());
    return;
  }
  tcp::socket client{gate->context};
  client.connect(gate->endpoint());
  auto accepted = gate->accept();
  BOOST_TEST((owner_of_accepted(accepted) == connection_owner::this_process));

  connecting_child other{gate->endpoint()};
  auto foreign = gate->accept();
  BOOST_TEST((owner_of_accepted(foreign) == connection_owner::another_process));
}

BOOST_AUTO_TEST_CASE(a_connection_another_process_holds_is_not) {
  loopback_listener gate{"127.0.0.1"};
  connecting_child other{gate.endpoint()};
  auto accepted = gate.accept();
  BOOST_TEST(
      (owner_of_accepted(accepted) == connection_owner::another_process));
}

BOOST_AUTO_TEST_CASE(a_connection_whose_client_closed_is_gone) {
  loopback_listener gate{"127.0.0.1"};
  tcp::socket client{gate.context};
  client.connect(gate.endpoint());
  auto accepted = gate.accept();
  client.close();
  BOOST_TEST((owner_of_accepted(accepted) == connection_owner::gone));
}

// Among many connections of this process, both ways, each accepted end
// is told by its own client end, not by a neighbour's.
BOOST_AUTO_TEST_CASE(each_of_many_connections_is_told_apart) {
  loopback_listener gate{"127.0.0.1"};
  std::vector<tcp::socket> clients;
  std::vector<tcp::socket> accepted;
  for (int i = 0; i < 200; ++i) {
    clients.emplace_back(gate.context);
    clients.back().connect(gate.endpoint());
    accepted.push_back(gate.accept());
  }
  connecting_child other{gate.endpoint()};
  auto foreign = gate.accept();
  for (auto& end : accepted) {
    std::string why;
    BOOST_TEST((owner_of(end, why) == connection_owner::this_process));
  }
  BOOST_TEST((owner_of_accepted(foreign) == connection_owner::another_process));
}

// Kernels without socket diagnostics are served from /proc/net/tcp.
BOOST_AUTO_TEST_CASE(the_table_alone_tells_the_same) {
  loopback_listener gate{"127.0.0.1"};
  tcp::socket client{gate.context};
  client.connect(gate.endpoint());
  auto own = gate.accept();
  connecting_child other{gate.endpoint()};
  auto foreign = gate.accept();
  BOOST_TEST((owner_of_accepted(own, socket_lookup::table_only) ==
              connection_owner::this_process));
  BOOST_TEST((owner_of_accepted(foreign, socket_lookup::table_only) ==
              connection_owner::another_process));
}
