#include "cortado/testing.hpp"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/use_future.hpp>

namespace cortado::testing {
namespace {

AsyncHTTPTestCase::FailHandler& fail_handler() {
  static AsyncHTTPTestCase::FailHandler handler;
  return handler;
}

// Request logs are not failures: a 404 in a test is usually the point of the test.
bool counts_as_failure(const log::Record& r) {
  return r.level >= log::Level::warning && r.channel != "access";
}

}  // namespace

void AsyncHTTPTestCase::set_fail_handler(FailHandler handler) {
  fail_handler() = std::move(handler);
}

void AsyncHTTPTestCase::fail(const std::string& message) {
  if (fail_handler()) {
    fail_handler()(message);
    return;
  }
  std::fprintf(stderr, "cortado::testing: %s\n", message.c_str());
  std::abort();
}

ExpectLog::ExpectLog(AsyncHTTPTestCase& test, std::string channel, std::string substring,
                     bool required)
    : test_(test),
      channel_(std::move(channel)),
      substring_(std::move(substring)),
      required_(required) {
  std::lock_guard lock(test_.mutex_);
  test_.expectations_.push_back(this);
}

ExpectLog::~ExpectLog() {
  int seen;
  {
    std::lock_guard lock(test_.mutex_);
    std::erase(test_.expectations_, this);
    seen = count_;
  }
  if (required_ && seen == 0) {
    AsyncHTTPTestCase::fail(
        fmt::format("expected a {:?} log containing {:?}; none came", channel_, substring_));
  }
}

int ExpectLog::count() const {
  std::lock_guard lock(test_.mutex_);
  return count_;
}

AsyncHTTPTestCase::AsyncHTTPTestCase(HTTPServerConnectionDelegate& app, HTTPServerOptions options)
    : loop_(std::make_unique<IOLoop>()),
      server_(std::make_unique<HTTPServer>(loop_->executor(), app, std::move(options))) {
  start();
}

AsyncHTTPTestCase::AsyncHTTPTestCase(RequestCallback callback, HTTPServerOptions options)
    : loop_(std::make_unique<IOLoop>()),
      server_(std::make_unique<HTTPServer>(loop_->executor(), std::move(callback),
                                           std::move(options))) {
  start();
}

void AsyncHTTPTestCase::start() {
  previous_sink_ = log::set_sink([this](const log::Record& r) { on_record(r); });
  server_->listen(0, "127.0.0.1");
  port_ = server_->local_endpoints().at(0).port();
  client_ = std::make_unique<HTTPClient>();
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(loop_->context());
    loop_->run();
  });
}

AsyncHTTPTestCase::~AsyncHTTPTestCase() {
  client_.reset();
  asio::co_spawn(loop_->context(), server_->close_all_connections(std::chrono::seconds(5)),
                 asio::use_future)
      .get();
  loop_->stop();
  thread_.join();
  log::set_sink(previous_sink_);
  std::vector<std::string> unexpected;
  {
    std::lock_guard lock(mutex_);
    unexpected.swap(unexpected_);
  }
  for (const auto& message : unexpected) fail("unexpected log record: " + message);
}

void AsyncHTTPTestCase::on_record(const log::Record& r) {
  std::lock_guard lock(mutex_);
  records_.push_back({std::string(r.channel), r.level, std::string(r.message)});
  bool expected = false;
  for (ExpectLog* e : expectations_) {
    if (r.channel == e->channel_ && r.message.find(e->substring_) != std::string_view::npos) {
      ++e->count_;
      expected = true;
    }
  }
  if (!expected && counts_as_failure(r)) {
    unexpected_.push_back(fmt::format("[{}] {}", r.channel, r.message));
  }
}

std::vector<CapturedRecord> AsyncHTTPTestCase::logs() const {
  std::lock_guard lock(mutex_);
  return records_;
}

std::string AsyncHTTPTestCase::get_url(std::string_view path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

HTTPResponse AsyncHTTPTestCase::fetch(std::string_view path, HTTPRequest request) {
  request.url = get_url(path);
  HTTPResponse response = client_->fetch(std::move(request), false);
  // The server logs a request after sending its last byte; one round trip through its loop
  // lets that bookkeeping finish before the test looks at the logs.
  asio::post(loop_->context(), asio::use_future).get();
  return response;
}

}  // namespace cortado::testing
