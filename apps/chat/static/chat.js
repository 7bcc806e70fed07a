// cortado chat: posts messages with fetch() and long-polls for everyone else's.
"use strict";

(() => {
  const inbox = document.getElementById("inbox");
  const form = document.getElementById("messageform");
  const input = document.getElementById("message");

  // The server set the _xsrf cookie along with this page. Sending it back as a form field
  // proves the request comes from a page of this site, which a forged cross-site post cannot.
  function xsrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
    return match ? match[1] : "";
  }

  async function post(url, fields) {
    const body = new URLSearchParams(fields);
    body.set("_xsrf", xsrfToken());
    const response = await fetch(url, { method: "POST", body });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.json();
  }

  // The id of the newest message shown: the cursor for the next poll.
  function cursor() {
    const last = inbox.lastElementChild;
    return last ? last.id.slice(1) : "";
  }

  function show(message) {
    // Our own messages come back from the post and from the poll: show them once.
    if (document.getElementById("m" + message.id)) return;
    // message.html was escaped by the server; it is the same markup the page starts with.
    const template = document.createElement("template");
    template.innerHTML = message.html;
    inbox.append(template.content);
    inbox.scrollTop = inbox.scrollHeight;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    form.classList.remove("failed");
    form.querySelector("button").disabled = true;
    try {
      show(await post("/a/message/new", { body: text }));
      input.value = "";
    } catch (error) {
      console.error(error);
      form.classList.add("failed");
    } finally {
      form.querySelector("button").disabled = false;
      input.focus();
    }
  });

  // One request at a time, each waiting on the server until there is something new. After an
  // error (the server restarting, the network gone) wait a little longer each time.
  async function poll() {
    let delay = 500;
    for (;;) {
      try {
        const { messages } = await post("/a/message/updates", { cursor: cursor() });
        messages.forEach(show);
        delay = 500;
      } catch (error) {
        console.warn("update failed, retrying in", delay, "ms:", error);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 30000);
      }
    }
  }

  inbox.scrollTop = inbox.scrollHeight;
  poll();
})();
