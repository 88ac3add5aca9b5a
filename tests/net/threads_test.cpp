// Where the network layer's threads meet, without the actor system: the
// internal listener's sessions on two I/O threads, answers arriving from a
// plain worker thread that stands in for CAF's, and the gates the server
// closes while answers are still on their way.
//
// These run under ThreadSanitizer in scripts/test. Debian's CAF is not
// built with TSan, so TSan cannot see the synchronization inside CAF and
// suites that run actors drown in false reports; a worker thread of our
// own lets it judge the hand-over from the "actor side" to the sockets.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include "common/metrics.hpp"
#include "net/answer_gate.hpp"
#include "net/api_session.hpp"
#include "net/connection_limits.hpp"
#include "net/listener.hpp"
#include "net/publish_api.hpp"
#include "net/status_page_handler.hpp"

using namespace batchcast;
using namespace batchcast::net;
using namespace std::chrono_literals;

namespace {

const std::string batch = "0f3c5a2e-9b1d-4c6e-8a7f-1234567890ab";
const std::string route = "/api/v1/radius/batch/" + batch + "/status";
const std::string token = "s3cret";

// Runs jobs in order on one thread of its own, as CAF's scheduler runs the
// actor side's replies: never on an I/O thread.
class worker {
 public:
  worker() : thread_{[this] { run(); }} {}

  ~worker() {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stopping_ = true;
    }
    ready_.notify_one();
    thread_.join();
  }

  void post(std::function<void()> job) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock{mutex_};
    for (;;) {
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty())
        return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the rest exists
};

const std::string cap_refusal =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";

// The internal listener wired as net::server wires it, on a free loopback
// port with two I/O threads and a cap of `cap` connections. Its backend
// answers every publish on the worker thread, or keeps the callbacks when
// `hold_answers` is set.
struct internal_listener {
  explicit internal_listener(bool hold, std::size_t cap = 128)
      : hold_answers{hold},
        limits{{cap, 0, 1}, [this](const std::string& line) { log(line); }} {
    auto api = std::make_shared<const publish_api>(backend(), token, 1024);
    listening = std::make_shared<listener>(
        io, "127.0.0.1", 0, "internal",
        [api, gate = gate, counters = counters,
         requests = std::make_shared<request_tally>()](
            tcp::socket socket, std::uint64_t id, std::string peer,
            connection_limits::slot slot) {
          std::make_shared<api_session<plain_stream>>(
              std::move(socket), nullptr, api, gate, api_limits{}, counters,
              requests, id, std::move(peer), std::move(slot))
              ->start();
        });
    listening->cap_connections(limits, cap_refusal, [counters = counters] {
      counters->count_api_response(503);
    });
    listening->start();
    work.emplace(io.get_executor());
    for (int i = 0; i < 2; ++i)
      io_threads.emplace_back([this] { io.run(); });
  }

  ~internal_listener() { stop(); }

  // In net::server::stop's order: no more accepts, the I/O threads end,
  // then the gate closes so late answers find it shut.
  void stop() {
    if (io_threads.empty())
      return;
    listening->stop();
    work.reset();
    io.stop();
    for (auto& thread : io_threads)
      thread.join();
    io_threads.clear();
    gate->close();
  }

  status_backend backend() {
    status_backend result;
    result.publish = [this](actors::publish_request request,
                            actors::api_callback done) {
      if (hold_answers) {
        std::lock_guard<std::mutex> guard{held_mutex};
        held.push_back(std::move(done));
        held_changed.notify_all();
        return;
      }
      answers.post([request, done = std::move(done)] {
        done(storage::batch_record{request.batch_id, request.status,
                                   1796398900123, "worker"});
      });
    };
    result.fetch = [](std::string, actors::api_callback done) {
      done(actors::api_failure::not_found);
    };
    return result;
  }

  // Waits until `count` publishes are held, for at most `limit`.
  bool wait_for_held(std::size_t count, std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock{held_mutex};
    return held_changed.wait_for(lock, limit,
                                 [&] { return held.size() >= count; });
  }

  // The limits' log lines, written on the I/O threads.
  void log(const std::string& line) {
    std::lock_guard<std::mutex> guard{log_mutex};
    logged.push_back(line);
  }
  std::vector<std::string> log_lines() {
    std::lock_guard<std::mutex> guard{log_mutex};
    return logged;
  }

  const bool hold_answers;
  worker answers;  // outlives the I/O side: declared before it
  std::mutex held_mutex;
  std::condition_variable held_changed;
  std::vector<actors::api_callback> held;
  std::mutex log_mutex;
  std::vector<std::string> logged;

  connection_limits limits;  // outlives the sessions' slots, and io
  asio::io_context io;
  std::shared_ptr<metrics> counters = std::make_shared<metrics>();
  std::shared_ptr<api_gate> gate = std::make_shared<api_gate>();
  std::shared_ptr<listener> listening;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work;
  std::vector<std::thread> io_threads;
};

struct publish_result {
  int status = 0;  // 0: no answer before the connection ended or timed out
  std::string body;
};

// One POST of `status` on its own connection, waiting at most `limit`.
publish_result publish_within(std::uint16_t port, const std::string& status,
                              std::chrono::milliseconds limit) {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  http::request<http::string_body> request{http::verb::post, route, 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::authorization, "Bearer " + token);
  request.set(http::field::content_type, "application/json");
  request.body() = R"({"status":")" + status + R"("})";
  request.prepare_payload();
  http::response<http::string_body> response;
  publish_result result;

  stream.expires_after(limit);
  stream.async_connect(
      tcp::endpoint{asio::ip::make_address("127.0.0.1"), port},
      [&](error_code ec) {
        if (ec)
          return;
        http::async_write(stream, request, [&](error_code ec, std::size_t) {
          if (ec)
            return;
          http::async_read(stream, buffer, response,
                           [&](error_code ec, std::size_t) {
                             if (ec)
                               return;
                             result.status = response.result_int();
                             result.body = response.body();
                           });
        });
      });
  io.run();
  return result;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(internal_listener_threads)

BOOST_AUTO_TEST_CASE(answers_from_another_thread_reach_every_producer) {
  internal_listener server{false};
  constexpr int producers = 4;
  constexpr int publishes_each = 25;
  // Boost.Test's checks are not thread-safe: each producer only records.
  std::vector<std::vector<publish_result>> results(producers);
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < publishes_each; ++i)
        results[p].push_back(publish_within(
            server.listening->port(), i % 2 ? "completed" : "failed", 30s));
    });
  }
  for (auto& thread : threads)
    thread.join();

  // Counted on the I/O threads, read here.
  BOOST_TEST(server.counters->api_responses.value(api_response_slot(200)) ==
             static_cast<std::uint64_t>(producers * publishes_each));
  for (int p = 0; p < producers; ++p) {
    for (int i = 0; i < publishes_each; ++i) {
      const auto& got = results[p][i];
      BOOST_TEST(got.status == 200);
      BOOST_TEST(got.body.find(i % 2 ? "\"completed\"" : "\"failed\"") !=
                 std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(answers_after_the_server_stopped_are_dropped) {
  constexpr std::size_t producers = 6;
  std::optional<internal_listener> server;
  server.emplace(true);
  auto port = server->listening->port();
  std::vector<publish_result> results(producers);
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < producers; ++p)
    threads.emplace_back(
        [&, p] { results[p] = publish_within(port, "completed", 30s); });

  // Every publish waits on the actor side; the server stops under them
  // and only then do the answers come, from the worker thread.
  BOOST_REQUIRE(server->wait_for_held(producers, 30s));
  server->stop();
  std::atomic<int> answered{0};
  for (auto& done : server->held) {
    server->answers.post([&answered, done = std::move(done)] {
      done(storage::batch_record{batch, storage::batch_status::completed, 1,
                                 "late"});
      ++answered;
    });
  }
  server.reset();  // joins the worker after it ran every late answer
  for (auto& thread : threads)
    thread.join();

  BOOST_TEST(answered.load() == static_cast<int>(producers));
  for (const auto& got : results)
    BOOST_TEST(got.status == 0);  // the connection ended without an answer
}

// Over the cap, a connection is answered on the listener's thread before
// it sends anything, while the slots of the sessions that ended are given
// back on the I/O threads.
BOOST_AUTO_TEST_CASE(connections_over_the_cap_are_refused_at_accept) {
  internal_listener server{false, 2};
  auto port = server.listening->port();
  asio::io_context io;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 2; ++i) {
    idle.emplace_back(io);
    idle.back().connect({asio::ip::make_address("127.0.0.1"), port});
  }
  auto settled = [&](std::size_t open) {
    for (int i = 0; i < 500 && server.limits.open() != open; ++i)
      std::this_thread::sleep_for(10ms);
    return server.limits.open() == open;
  };
  BOOST_REQUIRE(settled(2));

  tcp::socket refused{io};
  refused.connect({asio::ip::make_address("127.0.0.1"), port});
  timeval limit{5, 0};  // fail rather than hang if nothing comes
  ::setsockopt(refused.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit,
               sizeof limit);
  std::string answer(256, '\0');
  error_code ec;
  auto length = asio::read(refused, asio::buffer(answer), ec);
  answer.resize(length);
  BOOST_TEST(ec == asio::error::eof);
  BOOST_TEST(answer == cap_refusal);
  BOOST_TEST(server.counters->api_responses.value(api_response_slot(503)) ==
             1u);
  auto lines = server.log_lines();
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0].find("limit reached") != std::string::npos);

  // A producer gets in once an idle connection is gone.
  idle.pop_back();
  BOOST_REQUIRE(settled(1));
  BOOST_TEST(publish_within(port, "completed", 30s).status == 200);
  BOOST_TEST(settled(1));
}

BOOST_AUTO_TEST_SUITE_END()

// Status page answers come from CAF threads while the server may be
// closing the gate: each waiting session gets its answer at most once,
// and none once the gate is closed.
BOOST_AUTO_TEST_CASE(page_answers_race_the_gate_closing) {
  constexpr int sessions = 400;
  answer_gate<page_response> gate;
  std::vector<int> keys(sessions);
  std::mutex count_mutex;
  std::condition_variable count_changed;
  std::vector<int> posted(sessions, 0);
  int total_posted = 0;
  for (int i = 0; i < sessions; ++i) {
    BOOST_REQUIRE(gate.hold(&keys[i], [&, i](page_response) {
      std::lock_guard<std::mutex> guard{count_mutex};
      ++posted[i];
      ++total_posted;
      count_changed.notify_all();
    }));
  }

  auto answer = [] { return std::make_unique<page_response::element_type>(); };
  std::vector<std::thread> deliverers;
  for (int t = 0; t < 2; ++t) {
    deliverers.emplace_back([&, t] {
      for (int i = t; i < sessions; i += 2) {
        gate.deliver(&keys[i], answer());
        gate.deliver(&keys[i], answer());  // a second answer never posts
      }
    });
  }
  // Close while the deliverers are somewhere in the middle.
  {
    std::unique_lock<std::mutex> lock{count_mutex};
    count_changed.wait_for(lock, 30s,
                           [&] { return total_posted >= sessions / 4; });
  }
  gate.close();
  int posted_at_close;
  {
    std::lock_guard<std::mutex> guard{count_mutex};
    posted_at_close = total_posted;
  }
  for (auto& thread : deliverers)
    thread.join();

  BOOST_TEST(!gate.hold(&keys[0], [](page_response) {}));
  for (int i = 0; i < sessions; ++i)
    BOOST_TEST(posted[i] <= 1);
  BOOST_TEST(total_posted == posted_at_close);  // none once close() returned
  BOOST_TEST(total_posted >= sessions / 4);
}
