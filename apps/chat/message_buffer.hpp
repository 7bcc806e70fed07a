// The chat's state: the latest messages, and the coroutines waiting for newer ones.
//
// Affinity. Like every cortado primitive it is built on (cortado::Condition), a MessageBuffer
// belongs to one event loop: create it for the loop that serves the app and touch it only from
// that loop's thread. The chat app runs one loop, so its handlers share the buffer without locks.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <nlohmann/json_fwd.hpp>

#include "cortado/locks.hpp"

namespace chat {

struct Message {
  std::string id{};    // random: unique across restarts, so an old cursor never matches another
  std::string user{};  // who posted it
  std::string body{};  // the text as posted (UTF-8)
  std::string html{};  // user and body rendered and escaped once, when posted
};

// {"id", "user", "body", "html"}: what the JSON API sends for a message.
void to_json(nlohmann::json& json, const Message& message);

// A new random message id (32 hex digits).
std::string new_message_id();

class MessageBuffer {
 public:
  static constexpr std::size_t kDefaultCapacity = 200;

  explicit MessageBuffer(std::size_t capacity = kDefaultCapacity);
  MessageBuffer(const MessageBuffer&) = delete;
  MessageBuffer& operator=(const MessageBuffer&) = delete;

  // What is kept, oldest first.
  const std::deque<Message>& messages() const noexcept { return messages_; }

  // The messages posted after the one whose id is `cursor`. A client that has seen nothing
  // sends an empty cursor; one whose cursor is no longer kept (dropped as too old, or from
  // before a restart) gets everything, and drops what it already shows by id.
  std::vector<Message> since(std::string_view cursor) const;

  // Keeps `message` (dropping the oldest beyond the capacity) and wakes every waiter.
  const Message& add(Message message);

  // Completes once there are messages after `cursor`, with them; at once if there already
  // are. After close(), completes at once too, with whatever there is (usually nothing).
  // Cancelling the awaiting coroutine (the framework does when its client disconnects) ends
  // the wait with asio::error::operation_aborted and leaves nothing behind.
  asio::awaitable<std::vector<Message>> wait_for_messages(std::string cursor);

  // Releases every waiter, for a quick shutdown: a long poll would otherwise hold its
  // connection open until the drain's grace period runs out.
  void close();

  // Coroutines waiting in wait_for_messages (for tests and monitoring).
  std::size_t waiters() const noexcept { return new_messages_.waiters(); }

 private:
  std::size_t capacity_;
  std::deque<Message> messages_;
  cortado::Condition new_messages_;
  bool closed_ = false;
};

}  // namespace chat
