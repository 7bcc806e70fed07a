// Tornado's tornado.testing for cortado: an application served on an ephemeral port by a loop
// of its own, a client to fetch from it, and a log capture that fails a test on unexpected
// warnings and errors.
//
//   cortado::web::Application app({web::url<MainHandler>("/")});
//   cortado::testing::AsyncHTTPTestCase t(app);
//   auto response = t.fetch("/");            // a blocking fetch; 4xx/5xx do not throw
//   CHECK(response.code == 200);
//   {
//     auto expected = t.expect_log("application", "Uncaught exception");
//     CHECK(t.fetch("/boom").code == 500);   // the error log is expected here
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cortado/httpclient.hpp"
#include "cortado/httpserver.hpp"
#include "cortado/ioloop.hpp"
#include "cortado/log.hpp"

namespace cortado::testing {

struct CapturedRecord {
  std::string channel;
  log::Level level;
  std::string message;
};

class AsyncHTTPTestCase;

// While alive, log records of `channel` containing `substring` are expected, not failures.
// If `required`, the scope fails the test unless at least one such record was logged.
class ExpectLog {
 public:
  ExpectLog(AsyncHTTPTestCase& test, std::string channel, std::string substring, bool required);
  ~ExpectLog();
  ExpectLog(const ExpectLog&) = delete;
  ExpectLog& operator=(const ExpectLog&) = delete;
  int count() const;

 private:
  friend class AsyncHTTPTestCase;
  AsyncHTTPTestCase& test_;
  std::string channel_;
  std::string substring_;
  bool required_;
  int count_ = 0;
};

class AsyncHTTPTestCase {
 public:
  // What happens on an unexpected warning/error or a missing expected log. The default
  // prints the problem and aborts; test frameworks plug in their own failure (doctest: FAIL).
  using FailHandler = std::function<void(const std::string&)>;
  static void set_fail_handler(FailHandler handler);

  explicit AsyncHTTPTestCase(HTTPServerConnectionDelegate& app, HTTPServerOptions options = {});
  explicit AsyncHTTPTestCase(RequestCallback callback, HTTPServerOptions options = {});
  ~AsyncHTTPTestCase();
  AsyncHTTPTestCase(const AsyncHTTPTestCase&) = delete;
  AsyncHTTPTestCase& operator=(const AsyncHTTPTestCase&) = delete;

  // Fetches `path` from the app and waits for the answer. Like Tornado's AsyncHTTPTestCase,
  // error statuses are returned, not thrown.
  HTTPResponse fetch(std::string_view path, HTTPRequest request = {});
  std::string get_url(std::string_view path) const;
  std::uint16_t get_http_port() const { return port_; }

  HTTPServer& server() { return *server_; }
  // The loop serving the app, running on its own thread.
  IOLoop& io_loop() { return *loop_; }

  ExpectLog expect_log(std::string channel, std::string substring, bool required = true) {
    return ExpectLog(*this, std::move(channel), std::move(substring), required);
  }
  // Every record captured so far (any channel, any level).
  std::vector<CapturedRecord> logs() const;

 private:
  friend class ExpectLog;
  void start();
  void on_record(const log::Record& record);
  static void fail(const std::string& message);

  std::unique_ptr<IOLoop> loop_;
  std::unique_ptr<HTTPServer> server_;
  std::unique_ptr<HTTPClient> client_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  log::Sink previous_sink_;
  mutable std::mutex mutex_;
  std::vector<CapturedRecord> records_;
  std::vector<ExpectLog*> expectations_;
  std::vector<std::string> unexpected_;
};

}  // namespace cortado::testing
