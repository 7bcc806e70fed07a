#include "handlers.hpp"

#include <functional>
#include <utility>

#include <fmt/format.h>

#include "cortado/escape.hpp"
#include "cortado/log.hpp"
#include "page.hpp"

namespace chat {

namespace {

// Refuses (400) text that is not UTF-8 or longer than `max_bytes`, before it is stored: JSON
// can only carry UTF-8, and one bad message would otherwise break every later update.
void check_text(std::string_view what, std::string_view text, std::size_t max_bytes) {
  if (!cortado::is_valid_utf8(text)) {
    throw web::HTTPError(400, fmt::format("the {} is not UTF-8", what));
  }
  if (text.size() > max_bytes) {
    throw web::HTTPError(400, fmt::format("the {} is longer than {} bytes", what, max_bytes));
  }
}

}  // namespace

std::optional<std::string> BaseHandler::get_current_user() {
  // Signed, so nobody can post under a name another browser chose (a forged or tampered
  // cookie reads as no cookie at all).
  return get_signed_cookie(kUserCookie);
}

std::string BaseHandler::user_name() {
  const std::optional<std::string>& user = current_user();
  return user ? *user : std::string("anonymous");
}

asio::awaitable<void> MainHandler::get() {
  page::IndexPage page{
      .user_name = current_user().value_or(""),
      .xsrf_form_html = xsrf_form_html(),
      .stylesheet_url = static_url("chat.css"),
      .script_url = static_url("chat.js"),
  };
  write(page::render_index(page, messages().messages()));
  co_return;
}

asio::awaitable<void> UserHandler::post() {
  const std::string name = get_argument("name", "");
  check_text("name", name, kMaxNameBytes);
  cortado::CookieOptions options;
  options.httponly = true;  // only the server reads it
  options.samesite = cortado::SameSite::lax;
  if (name.empty()) {
    clear_cookie(kUserCookie, options);
  } else {
    set_signed_cookie(kUserCookie, name, 30, options);
  }
  redirect(reverse_url("main"));
  co_return;
}

asio::awaitable<void> MessageNewHandler::post() {
  const std::string body = get_argument("body");
  if (body.empty()) throw web::HTTPError(400, "empty message");
  check_text("message", body, kMaxMessageBytes);

  Message message{.id = new_message_id(), .user = user_name(), .body = body};
  message.html = page::render_message(message);
  const nlohmann::json reply = message;
  messages().add(std::move(message));

  // The form was posted by a browser without JavaScript: show it the page again.
  if (!get_argument("next", "").empty()) {
    redirect(reverse_url("main"));
    co_return;
  }
  write(reply);
}

asio::awaitable<void> MessageUpdatesHandler::post() {
  const std::string cursor = get_argument("cursor", "");
  cortado::log::app().debug("{} waits for messages", request().remote_ip);
  // A long poll: this coroutine parks on the buffer's Condition until someone posts. Should
  // the client leave first, the framework cancels the wait (the method ends with
  // operation_aborted and nothing is written) and then calls on_connection_close().
  const std::vector<Message> found = co_await messages().wait_for_messages(cursor);
  nlohmann::json reply;
  reply["messages"] = found;
  write(reply);
}

void MessageUpdatesHandler::on_connection_close() {
  // Nothing to release by hand (Tornado's demo cancels its future here): the wait is already
  // cancelled. A handler holding per-client state would drop it here.
  cortado::log::app().debug("{}: the client left while waiting for messages", request().remote_ip);
}

std::vector<web::URLSpec> routes(MessageBuffer& messages) {
  const auto buffer = std::ref(messages);
  return {
      web::url<MainHandler>("/", buffer).name("main"),
      web::url<UserHandler>("/a/user", buffer),
      web::url<MessageNewHandler>("/a/message/new", buffer),
      web::url<MessageUpdatesHandler>("/a/message/updates", buffer),
  };
}

web::Settings settings(std::string static_path, std::string cookie_secret, bool debug) {
  web::Settings s;
  s.debug = debug;
  s.cookie_secret = std::move(cookie_secret);
  s.xsrf_cookies = true;
  s.xsrf_cookie_options.samesite = cortado::SameSite::lax;
  s.static_path = std::move(static_path);
  return s;
}

}  // namespace chat
