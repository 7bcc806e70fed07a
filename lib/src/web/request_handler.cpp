#include "cortado/web/request_handler.hpp"

#include <openssl/sha.h>

#include <chrono>
#include <typeinfo>

#include <cxxabi.h>
#include <fmt/format.h>

#include "../ascii.hpp"
#include "cortado/detail/encoding.hpp"
#include "cortado/escape.hpp"
#include "cortado/httputil/errors.hpp"
#include "cortado/httputil/status.hpp"
#include "cortado/iostream.hpp"
#include "cortado/log.hpp"
#include "cortado/web/application.hpp"
#include "cortado/web/signing.hpp"
#include "cortado/web/transforms.hpp"

namespace cortado::web {
namespace {

std::string_view strip(std::string_view s) {
  constexpr std::string_view ws = " \t\r\n";
  const auto begin = s.find_first_not_of(ws);
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(ws) - begin + 1);
}

const std::vector<std::string>* lookup(const Arguments& args, std::string_view name) {
  const auto it = args.find(name);
  return it == args.end() || it->second.empty() ? nullptr : &it->second;
}

std::vector<std::string> stripped(const Arguments& args, std::string_view name) {
  std::vector<std::string> out;
  if (const auto* values = lookup(args, name)) {
    for (const auto& v : *values) out.emplace_back(strip(v));
  }
  return out;
}

void check_header_text(std::string_view name, std::string_view value) {
  if (cortado::detail::has_line_break(name) || name.find(':') != std::string_view::npos ||
      cortado::detail::has_line_break(value)) {
    throw std::invalid_argument(fmt::format("unsafe header {:?}: {:?}", name, value));
  }
}

// SHA-1 through a digest context kept per thread: OpenSSL 3's one-shot SHA1() looks the
// algorithm up by name on every call, which cost more than hashing a small body.
// Returns the digest's size (20).
// Tornado's ETag is the SHA-1 of the body. For the small bodies most responses have, OpenSSL's
// EVP interface adds an engine lookup and a context reset to every digest (650 of the 19,500
// instructions of a /plaintext request, per callgrind). The low-level functions, deprecated in
// OpenSSL 3 but kept, go straight to the block function (SHA-NI where the CPU has it).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void sha1_digest(std::string_view data, unsigned char (&digest)[SHA_DIGEST_LENGTH]) {
  SHA_CTX ctx;
  if (SHA1_Init(&ctx) != 1 || SHA1_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA1_Final(digest, &ctx) != 1) {
    throw std::runtime_error("SHA-1 digest failed");
  }
}
#pragma GCC diagnostic pop

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && demangled ? demangled.get() : type.name();
}

// "std::runtime_error: what" for error pages and logs: the closest C++ has to a traceback.
std::string describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return type_name(typeid(e)) + ": " + e.what();
  } catch (...) {
    return "unknown exception";
  }
}

SigningKeys signing_keys(const Settings& s) {
  if (s.cookie_secret.empty() && s.cookie_secrets.empty()) {
    throw std::logic_error("the cookie_secret setting is required for signed cookies and XSRF");
  }
  return SigningKeys{s.cookie_secret, s.cookie_secrets, s.key_version};
}

}  // namespace

RequestHandler::RequestHandler() {
  headers_.reserve(8, 256);  // a typical response's headers, without growing
  headers_.add("Content-Type", "text/html; charset=UTF-8");
}
RequestHandler::~RequestHandler() = default;

asio::awaitable<void> RequestHandler::prepare() {
  co_return;
}
asio::awaitable<void> RequestHandler::get() {
  throw HTTPError(405);
  co_return;
}
asio::awaitable<void> RequestHandler::head() {
  throw HTTPError(405);
  co_return;
}
asio::awaitable<void> RequestHandler::post() {
  throw HTTPError(405);
  co_return;
}
asio::awaitable<void> RequestHandler::put() {
  throw HTTPError(405);
  co_return;
}
asio::awaitable<void> RequestHandler::patch() {
  throw HTTPError(405);
  co_return;
}
asio::awaitable<void> RequestHandler::delete_() {
  throw HTTPError(405);
  co_return;
}
asio::awaitable<void> RequestHandler::options() {
  throw HTTPError(405);
  co_return;
}

asio::awaitable<void> RequestHandler::data_received(std::string_view chunk) {
  request_->body.append(chunk);
  co_return;
}

void RequestHandler::write_error(int status, std::exception_ptr error) {
  if (error && settings().serve_traceback) {
    set_header("Content-Type", "text/plain; charset=UTF-8");
    finish(fmt::format("{} {}\n\n{}\n", status, reason_, describe(error)));
    return;
  }
  const std::string reason = xhtml_escape(reason_);
  finish(fmt::format("<html><title>{0}: {1}</title><body>{0}: {1}</body></html>", status, reason));
}

std::optional<std::string> RequestHandler::get_current_user() {
  return std::nullopt;
}

std::string RequestHandler::get_login_url() {
  return settings().login_url;
}

std::optional<std::string> RequestHandler::compute_etag() {
  // Tornado's ETag: the SHA-1 of the body, quoted.
  unsigned char digest[SHA_DIGEST_LENGTH];
  sha1_digest(write_buffer_, digest);
  std::string etag(2 + 2 * SHA_DIGEST_LENGTH, '"');
  cortado::detail::hex_encode_to({reinterpret_cast<const char*>(digest), SHA_DIGEST_LENGTH},
                                 etag.data() + 1);
  return etag;
}

const Settings& RequestHandler::settings() const {
  return application_->settings();
}

// --- Arguments --------------------------------------------------------------------------------

std::string RequestHandler::get_argument(std::string_view name) const {
  const auto* values = lookup(request_->arguments(), name);
  if (!values) throw MissingArgumentError(std::string(name));
  return std::string(strip(values->back()));
}
std::string RequestHandler::get_argument(std::string_view name, std::string_view fallback) const {
  const auto* values = lookup(request_->arguments(), name);
  return std::string(values ? strip(values->back()) : fallback);
}
std::vector<std::string> RequestHandler::get_arguments(std::string_view name) const {
  return stripped(request_->arguments(), name);
}
std::string RequestHandler::get_query_argument(std::string_view name) const {
  const auto* values = lookup(request_->query_arguments(), name);
  if (!values) throw MissingArgumentError(std::string(name));
  return std::string(strip(values->back()));
}
std::string RequestHandler::get_query_argument(std::string_view name,
                                               std::string_view fallback) const {
  const auto* values = lookup(request_->query_arguments(), name);
  return std::string(values ? strip(values->back()) : fallback);
}
std::vector<std::string> RequestHandler::get_query_arguments(std::string_view name) const {
  return stripped(request_->query_arguments(), name);
}
std::string RequestHandler::get_body_argument(std::string_view name) const {
  const auto* values = lookup(request_->body_arguments(), name);
  if (!values) throw MissingArgumentError(std::string(name));
  return std::string(strip(values->back()));
}
std::string RequestHandler::get_body_argument(std::string_view name,
                                              std::string_view fallback) const {
  const auto* values = lookup(request_->body_arguments(), name);
  return std::string(values ? strip(values->back()) : fallback);
}
std::vector<std::string> RequestHandler::get_body_arguments(std::string_view name) const {
  return stripped(request_->body_arguments(), name);
}

// --- Output ---------------------------------------------------------------------------------

void RequestHandler::set_status(int code, std::string_view reason) {
  if (code < 100 || code > 999) throw std::invalid_argument(fmt::format("bad status {}", code));
  status_ = code;
  reason_ = reason.empty() ? std::string(reason_phrase(code)) : std::string(reason);
  check_header_text("Status", reason_);
}

void RequestHandler::set_header(std::string_view name, std::string_view value) {
  check_header_text(name, value);
  headers_.set(name, value);
}

void RequestHandler::set_header(std::string_view name, std::int64_t value) {
  set_header(name, std::string_view(std::to_string(value)));
}

void RequestHandler::add_header(std::string_view name, std::string_view value) {
  check_header_text(name, value);
  headers_.add(name, value);
}

void RequestHandler::clear_header(std::string_view name) {
  headers_.remove(name);
}

void RequestHandler::write(std::string_view chunk) {
  if (finished_) throw std::logic_error("cannot write() after finish()");
  write_buffer_ += chunk;
}

void RequestHandler::write_json(const nlohmann::json& value) {
  if (finished_) throw std::logic_error("cannot write() after finish()");
  set_header("Content-Type", "application/json; charset=UTF-8");
  if (write_buffer_.empty()) {
    write_buffer_ = json_encode(value);  // the usual case: a move, not a copy
  } else {
    write_buffer_ += json_encode(value);
  }
}

asio::awaitable<void> RequestHandler::flush() {
  if (finished_) {
    co_await complete();
    co_return;
  }
  co_await send_chunk(std::exchange(write_buffer_, {}), false);
}

void RequestHandler::finish(std::string_view chunk) {
  write(chunk);
  finish();
}

void RequestHandler::finish() {
  if (finished_) throw std::logic_error("finish() called twice");
  if (!headers_written_) {
    const std::string& method = request_->method;
    if ((status_ == 200 || status_ == 201) && (method == "GET" || method == "HEAD") &&
        !headers_.contains("Etag")) {
      apply_etag();
    }
    if (status_ == 204 || status_ == 304 || status_ < 200) {
      // No body, and (RFC 9110 15.4.5) none of the headers that describe one.
      write_buffer_.clear();
      if (status_ == 304) {
        for (auto h : {"Content-Encoding", "Content-Language", "Content-Type", "Content-Length"}) {
          headers_.remove(h);
        }
      }
    } else if (!headers_.contains("Content-Length")) {
      headers_.add("Content-Length", std::to_string(write_buffer_.size()));  // (none to replace)
    }
  }
  finished_ = true;
}

void RequestHandler::apply_etag() {
  const auto etag = compute_etag();
  if (!etag) return;
  headers_.set("Etag", *etag);
  // If-None-Match: "*", one tag, or a list; weak comparison (RFC 9110 13.1.2).
  const std::string if_none_match = request_->headers.get_joined("If-None-Match");
  if (if_none_match.empty()) return;
  auto weak = [](std::string_view t) { return t.starts_with("W/") ? t.substr(2) : t; };
  bool match = strip(if_none_match) == "*";
  std::string_view rest = if_none_match;
  while (!match && !rest.empty()) {
    const auto comma = rest.find(',');
    match = weak(strip(rest.substr(0, comma))) == weak(*etag);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (match) {
    write_buffer_.clear();
    set_status(304);
  }
}

// Most responses are one small chunk: the connection takes the head and body and finishes the
// response without a coroutine. Where it cannot, `sent_` records how far this got, and
// complete() goes on from there.
bool RequestHandler::complete_now() {
  if (completed_) return true;
  if (headers_written_) return false;  // flushed before: the rest goes chunked, in complete()
  for (auto& t : transforms_) t->transform_first_chunk(status_, headers_, write_buffer_, true);
  headers_written_ = true;
  sent_ = Sent::head_ready;
  if (!connection_->write_headers_now({status_, reason_}, headers_, write_buffer_)) return false;
  sent_ = Sent::last_chunk;
  write_buffer_.clear();
  if (!connection_->finish_now()) return false;
  completed_ = true;
  return true;
}

asio::awaitable<void> RequestHandler::complete() {
  if (complete_now()) co_return;
  completed_ = true;
  std::string chunk = std::exchange(write_buffer_, {});
  if (sent_ == Sent::head_ready) {
    co_await connection_->write_headers({status_, reason_}, headers_, chunk);
  } else if (sent_ == Sent::none) {
    co_await send_chunk(std::move(chunk), true);
  }
  co_await connection_->finish();
}

asio::awaitable<void> RequestHandler::send_chunk(std::string chunk, bool last) {
  if (!headers_written_) {
    for (auto& t : transforms_) t->transform_first_chunk(status_, headers_, chunk, last);
    headers_written_ = true;
    co_await connection_->write_headers({status_, reason_}, headers_, chunk);
  } else {
    for (auto& t : transforms_) t->transform_chunk(chunk, last);
    co_await connection_->write(chunk);
  }
  if (!last) co_await connection_->flush();
}

void RequestHandler::redirect(std::string_view url, bool permanent, int status) {
  if (headers_written_) throw std::logic_error("cannot redirect after the headers were sent");
  set_status(status ? status : permanent ? 301 : 302);
  set_header("Location", url);
  finish();
}

void RequestHandler::clear() {
  headers_.clear();
  headers_.set("Content-Type", "text/html; charset=UTF-8");
  set_default_headers();
  write_buffer_.clear();
  status_ = 200;
  reason_ = "OK";
}

void RequestHandler::send_error(int status, std::exception_ptr error) {
  if (headers_written_) {
    log::general().error("cannot send error response after headers written");
    // The response is already on its way and cannot be completed honestly.
    finished_ = completed_ = true;
    connection_->close();
    return;
  }
  // Set-Cookie headers of a failed request are dropped with the rest of the response.
  clear();
  std::string reason;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const HTTPError& e) {
      reason = e.reason();
    } catch (...) {
    }
  }
  set_status(status, reason);
  if (status == 405 && spec_) {
    std::string allow;
    static constexpr std::pair<unsigned, const char*> kNames[] = {
        {kGet, "GET"},     {kHead, "HEAD"},     {kPost, "POST"},      {kPut, "PUT"},
        {kPatch, "PATCH"}, {kDelete, "DELETE"}, {kOptions, "OPTIONS"}};
    for (auto [bit, method] : kNames) {
      if (spec_->methods & bit) {
        if (!allow.empty()) allow += ", ";
        allow += method;
      }
    }
    set_header("Allow", allow);
  }
  finished_ = false;
  try {
    write_error(status, error);
  } catch (const std::exception& e) {
    log::app().error("uncaught exception in write_error: {}", e.what());
  }
  if (!finished_) finish();
}

void RequestHandler::handle_exception(std::exception_ptr error) {
  if (!connection_->open()) {
    // The client is gone (and its handler was probably cancelled): nothing to answer.
    finished_ = completed_ = true;
    return;
  }
  try {
    std::rethrow_exception(error);
  } catch (const Finish&) {
    if (!finished_) finish();
    return;
  } catch (const HTTPError& e) {
    if (!e.log_message().empty()) {
      log::general().warning("{} {} {} ({}): {}", e.status_code(), request_->method, request_->uri,
                             request_->remote_ip, e.log_message());
    }
    if (finished_ && !completed_) finished_ = false;  // e.g. raised after finish(): answer it
    send_error(e.status_code(), error);
    return;
  } catch (const HTTPInputError& e) {
    log::general().warning("400 {} {} ({}): {}", request_->method, request_->uri,
                           request_->remote_ip, e.what());
    finished_ = false;
    send_error(400, std::make_exception_ptr(HTTPError(400, e.what())));
    return;
  } catch (...) {
  }
  log_exception(error);
  finished_ = false;
  send_error(500, error);
}

void RequestHandler::log_exception(std::exception_ptr error) const {
  log::app().error("Uncaught exception {} {} ({}): {}", request_->method, request_->uri,
                   request_->remote_ip, describe(error));
}

// Not a coroutine: it hands back the method's own awaitable, one frame fewer per request.
asio::awaitable<void> RequestHandler::run_method() {
  const std::string& m = request_->method;
  if (m == "GET") return get();
  if (m == "POST") return post();
  if (m == "HEAD") return head();
  if (m == "PUT") return put();
  if (m == "DELETE") return delete_();
  if (m == "PATCH") return patch();
  if (m == "OPTIONS") return options();
  throw HTTPError(405);
}

// --- Cookies ---------------------------------------------------------------------------------

std::optional<std::string> RequestHandler::get_cookie(std::string_view name) const {
  std::optional<std::string> found;
  for (const auto& c : request_->cookies()) {
    if (c.name == name) found = c.value;  // the last one wins, as in Tornado
  }
  return found;
}

std::string RequestHandler::get_cookie(std::string_view name, std::string_view fallback) const {
  auto value = get_cookie(name);
  return value ? *value : std::string(fallback);
}

void RequestHandler::set_cookie(std::string_view name, std::string_view value,
                                const CookieOptions& options) {
  add_header("Set-Cookie", format_set_cookie(name, value, options));
}

void RequestHandler::clear_cookie(std::string_view name, const CookieOptions& options) {
  CookieOptions expired = options;
  expired.expires = std::chrono::system_clock::now() - std::chrono::hours(24 * 365);
  expired.max_age.reset();
  set_cookie(name, "", expired);
}

void RequestHandler::set_signed_cookie(std::string_view name, std::string_view value,
                                       int expires_days, CookieOptions options) {
  const std::string signed_value =
      create_signed_value(signing_keys(settings()), name, value, unix_now());
  if (expires_days > 0 && !options.expires) {
    options.expires = std::chrono::system_clock::now() + std::chrono::hours(24) * expires_days;
  }
  set_cookie(name, signed_value, options);
}

std::optional<std::string> RequestHandler::get_signed_cookie(std::string_view name,
                                                             double max_age_days) const {
  const auto cookie = get_cookie(name);
  if (!cookie) return std::nullopt;
  return decode_signed_value(signing_keys(settings()), name, *cookie, max_age_days, unix_now());
}

// --- XSRF --------------------------------------------------------------------------------------

const std::string& RequestHandler::xsrf_token() {
  if (!xsrf_token_) {
    std::optional<XsrfToken> existing;
    if (auto cookie = get_cookie("_xsrf")) existing = decode_xsrf_token(*cookie);
    if (existing && !existing->token.empty()) {
      xsrf_token_ = encode_xsrf_token(existing->token, existing->timestamp);
    } else {
      xsrf_token_ = encode_xsrf_token(new_xsrf_raw_token(), unix_now());
      set_cookie("_xsrf", *xsrf_token_, settings().xsrf_cookie_options);
    }
  }
  return *xsrf_token_;
}

void RequestHandler::check_xsrf_cookie() {
  std::string token = get_argument("_xsrf", "");
  if (token.empty()) token = request_->headers.get("X-Xsrftoken");
  if (token.empty()) token = request_->headers.get("X-Csrftoken");
  if (token.empty()) throw HTTPError(403, "'_xsrf' argument missing from POST");
  const auto sent = decode_xsrf_token(token);
  if (!sent || sent->token.empty()) throw HTTPError(403, "'_xsrf' argument has invalid format");
  const auto cookie = get_cookie("_xsrf");
  const auto expected = cookie ? decode_xsrf_token(*cookie) : std::nullopt;
  if (!expected || !tokens_equal(sent->token, expected->token)) {
    throw HTTPError(403, "XSRF cookie does not match POST argument");
  }
}

std::string RequestHandler::xsrf_form_html() {
  return "<input type=\"hidden\" name=\"_xsrf\" value=\"" + xhtml_escape(xsrf_token()) + "\"/>";
}

// --- Users and URLs --------------------------------------------------------------------------

const std::optional<std::string>& RequestHandler::current_user() {
  if (!current_user_loaded_) {
    current_user_ = get_current_user();
    current_user_loaded_ = true;
  }
  return current_user_;
}

std::string RequestHandler::reverse_url(std::string_view name,
                                        const std::vector<std::string>& args) const {
  return application_->reverse_url(name, args);
}

std::string RequestHandler::static_url(std::string_view path) const {
  return application_->static_url(path);
}

}  // namespace cortado::web
