#include "harness.hpp"

#include <poll.h>

#include <cstdio>
#include <stdexcept>

#include <fmt/format.h>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace cortado::test {

ServerThread::ServerThread(RequestCallback callback, HTTPServerOptions options, int threads,
                           std::shared_ptr<asio::ssl::context> tls, std::vector<int> sockets)
    : loop_(std::make_unique<IOLoop>()),
      server_(std::make_unique<HTTPServer>(loop_->executor(), std::move(callback),
                                           std::move(options), threads)) {
  start(std::move(tls), std::move(sockets));
}

ServerThread::ServerThread(HTTPServerConnectionDelegate& delegate, HTTPServerOptions options)
    : loop_(std::make_unique<IOLoop>()),
      server_(std::make_unique<HTTPServer>(loop_->executor(), delegate, std::move(options))) {
  start(nullptr, {});
}

void ServerThread::start(std::shared_ptr<asio::ssl::context> tls, std::vector<int> sockets) {
  if (tls) server_->set_ssl_context(std::move(tls));
  if (sockets.empty()) {
    server_->listen(0, "127.0.0.1");
  } else {
    server_->add_sockets(sockets);
  }
  port_ = server_->local_endpoints().at(0).port();
  thread_ = std::thread([this] {
    auto guard = asio::make_work_guard(loop_->context());
    loop_->run();
  });
}

void ServerThread::close_all(std::chrono::milliseconds grace) {
  if (closed_) return;
  closed_ = true;
  run(server_->close_all_connections(grace));
}

ServerThread::~ServerThread() {
  close_all(std::chrono::seconds(5));
  loop_->stop();
  thread_.join();
}

RawClient::RawClient(std::uint16_t port) : socket_(context_) {
  socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  socket_.set_option(asio::ip::tcp::no_delay(true));
}

void RawClient::send(std::string_view bytes) {
  asio::write(socket_, asio::buffer(bytes));
}

void RawClient::fill() {
  pollfd pfd{socket_.native_handle(), POLLIN, 0};
  if (::poll(&pfd, 1, 10000) <= 0) throw std::runtime_error("RawClient: read timed out");
  char chunk[65536];
  std::error_code ec;
  const std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
  if (ec) throw std::system_error(ec, "RawClient: read");
  buffer_.append(chunk, n);
}

std::string RawClient::read_line() {
  std::size_t pos;
  while ((pos = buffer_.find("\r\n")) == std::string::npos) fill();
  std::string line = buffer_.substr(0, pos);
  buffer_.erase(0, pos + 2);
  return line;
}

Response RawClient::read_response(bool head) {
  Response r;
  const std::string status = read_line();
  const auto sp1 = status.find(' ');
  const auto sp2 = status.find(' ', sp1 + 1);
  r.version = status.substr(0, sp1);
  r.code = std::stoi(status.substr(sp1 + 1, sp2 - sp1 - 1));
  r.reason = sp2 == std::string::npos ? "" : status.substr(sp2 + 1);
  for (std::string line; !(line = read_line()).empty();) {
    const auto colon = line.find(':');
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers.add(line.substr(0, colon), value);
  }
  if (head || r.code < 200 || r.code == 204 || r.code == 304) return r;
  if (iequals(r.headers.get("Transfer-Encoding"), "chunked")) {
    r.chunked = true;
    for (;;) {
      const std::size_t size = std::stoul(read_line(), nullptr, 16);
      if (size == 0) {
        while (!read_line().empty()) {
        }
        break;
      }
      while (buffer_.size() < size + 2) fill();
      r.body.append(buffer_, 0, size);
      buffer_.erase(0, size + 2);
    }
  } else if (r.headers.contains("Content-Length")) {
    const std::size_t size = std::stoul(std::string(r.headers.get("Content-Length")));
    while (buffer_.size() < size) fill();
    r.body = buffer_.substr(0, size);
    buffer_.erase(0, size);
  } else {
    r.body = read_all_until_close();
  }
  return r;
}

std::string RawClient::read_all_until_close() {
  for (;;) {
    try {
      fill();
    } catch (const std::system_error&) {
      break;
    }
  }
  return std::exchange(buffer_, {});
}

bool RawClient::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{socket_.native_handle(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    std::error_code ec;
    const std::size_t n = socket_.read_some(asio::buffer(chunk), ec);
    if (ec) return true;  // EOF or reset
    buffer_.append(chunk, n);
  }
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  char chunk[4096];
  std::size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, pipe)) > 0) result.output.append(chunk, n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string request_bytes(std::string_view method, std::string_view target,
                          std::string_view extra_headers, std::string_view body) {
  std::string out = fmt::format("{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, target);
  out += extra_headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    out += fmt::format("Content-Length: {}\r\n", body.size());
  }
  out += "\r\n";
  out += body;
  return out;
}

}  // namespace cortado::test
