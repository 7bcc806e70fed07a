// The chat's HTML. Every piece of text that came from a user goes through
// cortado::xhtml_escape here, and only here: what leaves these functions is safe to insert
// into the page as it is.
#pragma once

#include <deque>
#include <string>
#include <string_view>

#include "message_buffer.hpp"

namespace chat::page {

// What the main page needs besides the messages, worked out by its handler.
struct IndexPage {
  std::string user_name{};       // the signed-in name; empty for anonymous
  std::string xsrf_form_html{};  // the hidden _xsrf field (getting it sets the _xsrf cookie)
  std::string stylesheet_url{};  // static_url("chat.css"): versioned, cached for a year
  std::string script_url{};      // static_url("chat.js")
};

// The whole page: the name form, the messages (oldest first) and the form to post one.
std::string render_index(const IndexPage& page, const std::deque<Message>& messages);

// One message, as the page lists it and as the JSON API sends it in "html".
std::string render_message(const Message& message);

}  // namespace chat::page
