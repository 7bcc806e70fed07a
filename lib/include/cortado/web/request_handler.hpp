// RequestHandler: one object per request, Tornado's lifecycle as coroutines.
//
//   class MainHandler : public cortado::web::RequestHandler {
//     asio::awaitable<void> get() override {
//       write("Hello, " + get_argument("name", "world"));
//       co_return;
//     }
//   };
//
// Lifecycle: initialize(args...) (or the constructor) -> co_await prepare() -> co_await get()
// / post() / ... -> finish() (automatic when the method returns) -> on_finish().
// on_connection_close() runs if the client leaves early; whatever the handler awaits then
// (a timer, a Condition) is cancelled, so nothing is left hanging.
#pragma once

#include <concepts>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "cortado/httputil/cookies.hpp"
#include "cortado/httputil/delegate.hpp"
#include "cortado/httputil/request.hpp"
#include "cortado/web/errors.hpp"
#include "cortado/web/settings.hpp"

namespace cortado::web {

class Application;
class OutputTransform;
struct URLSpec;
namespace detail {
class HandlerDelegate;
}

class RequestHandler {
 public:
  RequestHandler();
  virtual ~RequestHandler();
  RequestHandler(const RequestHandler&) = delete;
  RequestHandler& operator=(const RequestHandler&) = delete;

  // --- What a handler overrides ---------------------------------------------------------
  virtual asio::awaitable<void> prepare();
  virtual asio::awaitable<void> get();
  virtual asio::awaitable<void> head();
  virtual asio::awaitable<void> post();
  virtual asio::awaitable<void> put();
  virtual asio::awaitable<void> patch();
  virtual asio::awaitable<void> delete_();
  virtual asio::awaitable<void> options();
  // For routes that stream their body: each piece as it arrives (reading waits meanwhile).
  virtual asio::awaitable<void> data_received(std::string_view chunk);
  virtual void on_finish() {}
  virtual void on_connection_close() {}
  // Headers every response of this handler starts with (also after clear()).
  virtual void set_default_headers() {}
  // The error page; `error` is the exception that caused it, if any.
  virtual void write_error(int status, std::exception_ptr error);
  // The signed-in user, or nothing. Called once per request (current_user() caches it).
  virtual std::optional<std::string> get_current_user();
  virtual std::string get_login_url();
  // The ETag of a finished response body (a quoted SHA-1 by default; nullopt disables).
  virtual std::optional<std::string> compute_etag();

  // --- The request ----------------------------------------------------------------------
  HTTPServerRequest& request() const { return *request_; }
  Application& application() const { return *application_; }
  const Settings& settings() const;
  // Captured by the route's regex, percent-decoded.
  const std::vector<std::string>& path_args() const { return path_args_; }
  const std::map<std::string, std::string, std::less<>>& path_kwargs() const {
    return path_kwargs_;
  }

  // Arguments from the query string and the form body; the last value wins, whitespace is
  // stripped. A missing required argument is a 400 naming it.
  std::string get_argument(std::string_view name) const;
  std::string get_argument(std::string_view name, std::string_view fallback) const;
  std::vector<std::string> get_arguments(std::string_view name) const;
  std::string get_query_argument(std::string_view name) const;
  std::string get_query_argument(std::string_view name, std::string_view fallback) const;
  std::vector<std::string> get_query_arguments(std::string_view name) const;
  std::string get_body_argument(std::string_view name) const;
  std::string get_body_argument(std::string_view name, std::string_view fallback) const;
  std::vector<std::string> get_body_arguments(std::string_view name) const;

  // --- The response ---------------------------------------------------------------------
  void set_status(int code, std::string_view reason = {});
  int get_status() const { return status_; }
  // CR/LF (header injection) in a name or value throws std::invalid_argument.
  void set_header(std::string_view name, std::string_view value);
  void set_header(std::string_view name, std::int64_t value);
  void add_header(std::string_view name, std::string_view value);
  void clear_header(std::string_view name);
  const HTTPHeaders& response_headers() const { return headers_; }

  // Buffers output. A JSON value also sets Content-Type: application/json.
  void write(std::string_view chunk);
  void write(const std::string& chunk) { write(std::string_view(chunk)); }
  void write(const char* chunk) { write(std::string_view(chunk)); }
  // Only a json value itself: a string must not turn into a JSON string by conversion.
  template <class J>
  requires std::same_as<J, nlohmann::json>
  void write(const J& value) { write_json(value); }
  // Sends what is buffered now; the first flush sends the headers, and the rest of the body
  // then goes out chunked. After finish(), sends the end of the response.
  asio::awaitable<void> flush();
  // Ends the response: Content-Length, ETag / 304 are settled here. Writing afterwards is an
  // error. The bytes leave when the handler method returns (or at the next co_await flush()).
  void finish();
  void finish(std::string_view chunk);
  bool finished() const { return finished_; }
  void redirect(std::string_view url, bool permanent = false, int status = 0);
  // Forgets the status, headers and body written so far (not what was flushed).
  void clear();
  void send_error(int status = 500, std::exception_ptr error = nullptr);

  // --- Cookies --------------------------------------------------------------------------
  std::optional<std::string> get_cookie(std::string_view name) const;
  std::string get_cookie(std::string_view name, std::string_view fallback) const;
  void set_cookie(std::string_view name, std::string_view value, const CookieOptions& options = {});
  void clear_cookie(std::string_view name, const CookieOptions& options = {});
  // Tornado's signed cookies (format version 2: HMAC-SHA256 with a timestamp), compatible
  // with cookies Tornado 6 signs with the same secret.
  void set_signed_cookie(std::string_view name, std::string_view value, int expires_days = 30,
                         CookieOptions options = {});
  std::optional<std::string> get_signed_cookie(std::string_view name,
                                               double max_age_days = 31) const;

  // --- XSRF -----------------------------------------------------------------------------
  // The token for this session (sets the _xsrf cookie if needed).
  const std::string& xsrf_token();
  // Throws HTTPError(403) unless the _xsrf argument or X-XSRFToken / X-CSRFToken header
  // matches the cookie. Runs automatically on POST/PUT/PATCH/DELETE with xsrf_cookies.
  void check_xsrf_cookie();
  // <input type="hidden" name="_xsrf" value="...">
  std::string xsrf_form_html();

  // --- Users and URLs -------------------------------------------------------------------
  const std::optional<std::string>& current_user();
  std::string reverse_url(std::string_view name, const std::vector<std::string>& args = {}) const;
  // /static/path?v=<content hash>, cacheable forever.
  std::string static_url(std::string_view path) const;

 protected:
  // Defaults to true: the framework finishes the response when the method returns.
  void set_auto_finish(bool on) { auto_finish_ = on; }
  // The response was written straight to request().connection (FallbackHandler does that).
  void response_written_elsewhere() { headers_written_ = finished_ = completed_ = true; }

 private:
  friend class Application;
  friend class detail::HandlerDelegate;

  void write_json(const nlohmann::json& value);
  asio::awaitable<void> run_method();
  bool complete_now();
  asio::awaitable<void> complete();
  asio::awaitable<void> send_chunk(std::string chunk, bool last);
  void handle_exception(std::exception_ptr error);
  void apply_etag();
  void ensure_body_arguments() const;
  void log_exception(std::exception_ptr error) const;

  Application* application_ = nullptr;
  const URLSpec* spec_ = nullptr;
  HTTPServerRequest* request_ = nullptr;
  HTTPConnection* connection_ = nullptr;
  std::vector<std::string> path_args_;
  std::map<std::string, std::string, std::less<>> path_kwargs_;

  int status_ = 200;
  std::string reason_;
  HTTPHeaders headers_;
  std::string write_buffer_;
  std::vector<std::unique_ptr<OutputTransform>> transforms_;
  bool headers_written_ = false;
  // How far complete_now() got with the response before it needed to await.
  enum class Sent : std::uint8_t { none, head_ready, last_chunk };
  Sent sent_ = Sent::none;
  bool finished_ = false;
  bool completed_ = false;
  bool auto_finish_ = true;
  bool current_user_loaded_ = false;
  std::optional<std::string> current_user_;
  std::optional<std::string> xsrf_token_;
};

}  // namespace cortado::web
