// The chat's request handlers, after Tornado's chat demo:
//
//   GET  /                    the page: the latest messages, a form to post one, a name form
//   POST /a/user              sets (or, when empty, clears) the name shown with your messages
//   POST /a/message/new       body=...: posts a message; answers it as JSON
//   POST /a/message/updates   cursor=<last id seen>: a long poll; answers {"messages": [...]}
//                             as soon as there are messages newer than the cursor
//
// Every POST carries the _xsrf field (the framework checks it: settings().xsrf_cookies).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cortado/web.hpp"
#include "message_buffer.hpp"

namespace chat {

namespace web = cortado::web;

// Limits on what users send, checked before anything is stored (a 400 otherwise).
inline constexpr std::size_t kMaxMessageBytes = 2000;
inline constexpr std::size_t kMaxNameBytes = 40;
// The signed cookie holding the user's name.
inline constexpr std::string_view kUserCookie = "chat_user";

// What every chat handler shares: the message buffer, and the user from the signed cookie.
class BaseHandler : public web::RequestHandler {
 public:
  void initialize(MessageBuffer& messages) { messages_ = &messages; }
  std::optional<std::string> get_current_user() override;

 protected:
  MessageBuffer& messages() const { return *messages_; }
  // The name shown with this user's messages.
  std::string user_name();

 private:
  MessageBuffer* messages_ = nullptr;
};

class MainHandler : public BaseHandler {
 public:
  asio::awaitable<void> get() override;
};

class UserHandler : public BaseHandler {
 public:
  asio::awaitable<void> post() override;
};

class MessageNewHandler : public BaseHandler {
 public:
  asio::awaitable<void> post() override;
};

class MessageUpdatesHandler : public BaseHandler {
 public:
  asio::awaitable<void> post() override;
  void on_connection_close() override;
};

// The app's routes, all sharing `messages` (which must outlive the Application).
std::vector<web::URLSpec> routes(MessageBuffer& messages);

// The framework settings the chat relies on: XSRF checks, signed cookies, its static files.
web::Settings settings(std::string static_path, std::string cookie_secret, bool debug);

}  // namespace chat
