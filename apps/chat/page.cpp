#include "page.hpp"

#include <fmt/format.h>

#include "cortado/escape.hpp"

namespace chat::page {

namespace {

// The page around the messages. {0}-{3} are escaped by render_index; {4} is HTML from
// render_message, escaped there.
constexpr std::string_view kIndexTemplate = R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cortado chat</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{2}">
</head>
<body>
<header>
  <h1>cortado chat</h1>
  <form id="nameform" action="/a/user" method="post">
    <label for="name">Your name</label>
    <input id="name" name="name" value="{0}" placeholder="anonymous" maxlength="40" autocomplete="nickname">
    {1}
    <button type="submit">Save</button>
  </form>
</header>
<main id="inbox" aria-live="polite">
{4}</main>
<footer>
  <form id="messageform" action="/a/message/new" method="post">
    <input id="message" name="body" placeholder="Write a message" autocomplete="off" required autofocus>
    <input type="hidden" name="next" value="/">
    {1}
    <button type="submit">Post</button>
  </form>
</footer>
<script src="{3}"></script>
</body>
</html>
)";

}  // namespace

std::string render_index(const IndexPage& page, const std::deque<Message>& messages) {
  std::string inbox;
  for (const Message& message : messages) {
    inbox.append(message.html);
    inbox.push_back('\n');
  }
  // The _xsrf field is the framework's own HTML (its token is escaped there).
  return fmt::format(kIndexTemplate, cortado::xhtml_escape(page.user_name), page.xsrf_form_html,
                     cortado::xhtml_escape(page.stylesheet_url),
                     cortado::xhtml_escape(page.script_url), inbox);
}

std::string render_message(const Message& message) {
  return fmt::format(R"(<div class="message" id="m{}"><span class="user">{}</span> )"
                     R"(<span class="body">{}</span></div>)",
                     cortado::xhtml_escape(message.id), cortado::xhtml_escape(message.user),
                     cortado::xhtml_escape(message.body));
}

}  // namespace chat::page
