#include "benchmarks/loadgen/publisher.hpp"

#include <atomic>
#include <memory>

#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace batchcast::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr int attempts_per_job = 3;
constexpr auto exchange_limit = std::chrono::seconds{30};

// What every lane shares: the jobs, where they stand, and the latch the
// caller waits on. Lanes reach it through a shared_ptr, so the caller may
// return at its deadline while lanes are still in flight.
struct shared_run {
  shared_run(const loopback_url& server, std::string token,
             std::vector<publish_job> jobs, std::size_t lanes)
      : server{server},
        token{std::move(token)},
        jobs{std::move(jobs)},
        records(this->jobs.size()),
        lanes_done{lanes} {}

  loopback_url server;
  std::string token;
  std::vector<publish_job> jobs;
  std::vector<publish_record> records;  // each index written by one lane
  std::atomic<std::size_t> next{0};
  countdown lanes_done;
};

// One keep-alive connection that takes jobs until none are left.
class lane : public std::enable_shared_from_this<lane> {
 public:
  lane(asio::io_context& io, std::shared_ptr<shared_run> run)
      : stream_{asio::make_strand(io)}, run_{std::move(run)} {}

  void start() {
    asio::dispatch(stream_.get_executor(),
                   [self = shared_from_this()] { self->take_next(); });
  }

 private:
  void take_next() {
    job_ = run_->next.fetch_add(1);
    attempt_ = 0;
    if (job_ >= run_->jobs.size())
      return stop();
    send();
  }

  void send() {
    ++attempt_;
    if (!connected_)
      return do_connect();
    do_write();
  }

  void do_connect() {
    stream_.expires_after(exchange_limit);
    stream_.async_connect(
        tcp::endpoint{run_->server.address, run_->server.port},
        beast::bind_front_handler(&lane::on_connect, shared_from_this()));
  }

  void on_connect(beast::error_code ec) {
    if (ec)
      return retry_or_give_up();
    connected_ = true;
    do_write();
  }

  void do_write() {
    const auto& job = run_->jobs[job_];
    nlohmann::json body{{"status", job.status}};
    if (!job.organization.empty())
      body["organization"] = job.organization;

    request_ = {};
    request_.method(http::verb::post);
    request_.target("/api/v1/radius/batch/" + job.batch + "/status");
    request_.version(11);
    request_.set(http::field::host, run_->server.host_header);
    request_.set(http::field::authorization, "Bearer " + run_->token);
    request_.set(http::field::content_type, "application/json");
    request_.keep_alive(true);
    request_.body() = body.dump();
    request_.prepare_payload();

    response_ = {};
    stream_.expires_after(exchange_limit);
    run_->records[job_].sent = clock_type::now();
    http::async_write(
        stream_, request_,
        beast::bind_front_handler(&lane::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec)
      return retry_or_give_up();
    http::async_read(
        stream_, buffer_, response_,
        beast::bind_front_handler(&lane::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec)
      return retry_or_give_up();
    auto& record = run_->records[job_];
    record.acked = clock_type::now();
    record.http_status = response_.result_int();
    if (!response_.keep_alive())
      disconnect();
    take_next();
  }

  // A keep-alive connection the server closed between requests fails on
  // the next write or read; that is normal, so try again on a new one.
  void retry_or_give_up() {
    disconnect();
    if (attempt_ < attempts_per_job)
      return send();
    take_next();
  }

  void disconnect() {
    beast::error_code ignored;
    // A closed tcp_stream opens a fresh socket on its next connect.
    stream_.socket().close(ignored);
    buffer_.clear();
    connected_ = false;
  }

  void stop() {
    disconnect();
    run_->lanes_done.arrive();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<shared_run> run_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::size_t job_ = 0;
  int attempt_ = 0;
  bool connected_ = false;
};

}  // namespace

std::vector<publish_record> publish_all(run_context& context,
                                        const loopback_url& server,
                                        const std::string& token,
                                        const std::vector<publish_job>& jobs,
                                        std::size_t concurrency,
                                        clock_type::time_point limit) {
  auto lanes = std::max<std::size_t>(1, std::min(concurrency, jobs.size()));
  auto run = std::make_shared<shared_run>(server, token, jobs, lanes);
  for (std::size_t i = 0; i < lanes; ++i)
    std::make_shared<lane>(context.io(), run)->start();
  if (!run->lanes_done.wait_until(limit))
    return {};  // the caller reports the deadline; records are incomplete
  return run->records;
}

std::size_t count_accepted(const std::vector<publish_record>& records) {
  std::size_t accepted = 0;
  for (const auto& record : records)
    accepted += record.http_status == 200 ? 1 : 0;
  return accepted;
}

}  // namespace batchcast::bench
