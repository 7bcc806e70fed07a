// Idle keep-alive connections, per pool key (scheme, host, port and TLS settings).
//
// Reuse is most-recently-used first: the connection idle for the shortest time is the least
// likely to have been closed by the server. Beyond the caps (in all, per key) the least recently
// used idle connection is closed. There is no timer: expired and dead connections are dropped
// whenever the pool is used, so an idle client leaves its io_context free to run out of work.
// The caps are small (tens), so the pool is a plain list scanned from the newest end.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "client_connection.hpp"
#include "cortado/httpclient.hpp"

namespace cortado::detail {

class ConnectionPool {
 public:
  explicit ConnectionPool(const HTTPClientOptions& options) : options_(options) {}

  // The most recently used live connection for `key`, or null. Dead or expired connections met
  // on the way are closed.
  std::unique_ptr<ClientConnection> checkout(const std::string& key);
  // Keeps a reusable connection for a later request; closes any other.
  void checkin(std::unique_ptr<ClientConnection> connection);
  // Closes every idle connection; later checkins close theirs.
  void close();

  std::size_t idle() const { return idle_.size(); }

 private:
  bool expired(const ClientConnection& c, std::chrono::steady_clock::time_point now) const;
  void drop_expired(std::chrono::steady_clock::time_point now);

  const HTTPClientOptions& options_;
  std::deque<std::unique_ptr<ClientConnection>> idle_;  // least recently used first
  bool closed_ = false;
};

}  // namespace cortado::detail
