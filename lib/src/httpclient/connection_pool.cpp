#include "connection_pool.hpp"

#include <algorithm>

namespace cortado::detail {

using Clock = std::chrono::steady_clock;

bool ConnectionPool::expired(const ClientConnection& c, Clock::time_point now) const {
  return now - c.idle_since >= options_.idle_timeout;
}

void ConnectionPool::drop_expired(Clock::time_point now) {
  // Oldest first: the expired ones are all at the front.
  while (!idle_.empty() && expired(*idle_.front(), now)) idle_.pop_front();
}

std::unique_ptr<ClientConnection> ConnectionPool::checkout(const std::string& key) {
  const auto now = Clock::now();
  drop_expired(now);
  for (auto it = idle_.end(); it != idle_.begin();) {
    --it;
    if ((*it)->pool_key() != key) continue;
    auto connection = std::move(*it);
    it = idle_.erase(it);
    if (connection->looks_alive()) return connection;
    // Closed by the server while idle: drop it and look further back.
  }
  return nullptr;
}

void ConnectionPool::checkin(std::unique_ptr<ClientConnection> connection) {
  if (closed_ || !connection->reusable() || options_.max_idle_connections == 0 ||
      options_.max_idle_per_host == 0) {
    return;  // closed as it goes out of scope
  }
  const auto now = Clock::now();
  drop_expired(now);
  IOStream& stream = connection->stream();
  stream.set_deadline(Clock::time_point::max());
  stream.release_buffer();  // an idle connection holds no read buffer
  connection->idle_since = now;
  const std::string& key = connection->pool_key();
  const auto same_key = [&](const auto& c) { return c->pool_key() == key; };
  if (static_cast<std::size_t>(std::count_if(idle_.begin(), idle_.end(), same_key)) >=
      options_.max_idle_per_host) {
    idle_.erase(std::find_if(idle_.begin(), idle_.end(), same_key));
  }
  if (idle_.size() >= options_.max_idle_connections) idle_.pop_front();
  idle_.push_back(std::move(connection));
}

void ConnectionPool::close() {
  closed_ = true;
  idle_.clear();
}

}  // namespace cortado::detail
