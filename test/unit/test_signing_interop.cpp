// Interoperability with real Tornado: values and XSRF tokens made by each side must be read by
// the other. Runs Debian's /usr/bin/python3 with python3-tornado, which the project's test
// command installs: these tests fail (they do not skip) when either is missing.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cortado/detail/encoding.hpp"
#include "cortado/web/signing.hpp"

using cortado::detail::hex_decode;
using cortado::detail::hex_encode;
using namespace cortado::web;

namespace {

const std::string kPython = "/usr/bin/python3";

// Every argument and every result crosses the process boundary as hex or decimal digits, so no
// shell quoting is needed and binary values survive.
constexpr std::string_view kHelperScript = R"PY(
import binascii, sys
import tornado.httputil, tornado.web

def unhex(s):
    return binascii.unhexlify(s)

def secrets(spec):
    # "<hex>" for one secret, "<version>=<hex>,..." for versioned ones.
    if "=" not in spec:
        return unhex(spec)
    return {int(k): unhex(v) for k, v in (item.split("=") for item in spec.split(","))}

class Connection:
    def set_close_callback(self, callback):
        pass

def xsrf_token_for_cookie(cookie):
    # Tornado's own RequestHandler.xsrf_token, for a request that carries this _xsrf cookie.
    app = tornado.web.Application(xsrf_cookies=True)
    headers = tornado.httputil.HTTPHeaders({"Cookie": "_xsrf=" + cookie})
    request = tornado.httputil.HTTPServerRequest(
        method="GET", uri="/", headers=headers, connection=Connection())
    return tornado.web.RequestHandler(app, request).xsrf_token.decode()

def run(command, *args):
    if command == "sign":
        spec, key_version, name, value, now = args
        signed = tornado.web.create_signed_value(
            secrets(spec), unhex(name).decode(), unhex(value), version=2,
            clock=lambda: int(now), key_version=None if key_version == "-" else int(key_version))
        return signed.decode()
    if command == "decode":
        spec, name, signed, now = args
        value = tornado.web.decode_signed_value(
            secrets(spec), unhex(name).decode(), unhex(signed), max_age_days=31,
            clock=lambda: int(now))
        return "None" if value is None else binascii.hexlify(value).decode()
    if command == "xsrf_decode":
        version, token, timestamp = tornado.web.RequestHandler._decode_xsrf_token(
            None, unhex(args[0]).decode("latin-1"))
        if token is None:
            return "None"
        return "%d %s %d" % (version, binascii.hexlify(token).decode(), timestamp)
    if command == "xsrf_encode":
        return xsrf_token_for_cookie(unhex(args[0]).decode("latin-1"))
    raise ValueError("unknown command " + command)

# One command per argument, its fields separated by ':'; one line of output per command.
for command in sys.argv[1:]:
    print(run(*command.split(":")))
)PY";

struct Result {
  int exit_code = -1;
  std::string output;  // stdout, without the trailing newline
};

Result run_shell(const std::string& command) {
  Result result;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE_MESSAGE(pipe != nullptr, "popen failed for: ", command);
  char buffer[4096];
  while (const std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) {
    result.output.append(buffer, got);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!result.output.empty() && result.output.back() == '\n') result.output.pop_back();
  return result;
}

using Command = std::vector<std::string>;

// The helper script in a temporary file, written once per process after checking that Tornado
// is there. Each call is one Python process (they are slow to start: batch the commands).
class Tornado {
 public:
  Tornado() {
    const bool have_python = ::access(kPython.c_str(), X_OK) == 0;
    REQUIRE_MESSAGE(have_python, kPython, " is missing: apt-get install -y python3-tornado");
    const Result probe = run_shell(std::string(kPython).append(" -I -c 'import tornado.web' 2>&1"));
    REQUIRE_MESSAGE(
        probe.exit_code == 0,
        "python3-tornado is missing (apt-get install -y python3-tornado): ", probe.output);
    script_ =
        std::filesystem::temp_directory_path() /
        std::string("cortado_signing_interop_").append(std::to_string(::getpid())).append(".py");
    std::ofstream(script_) << kHelperScript;
  }
  ~Tornado() { std::filesystem::remove(script_); }
  Tornado(const Tornado&) = delete;
  Tornado& operator=(const Tornado&) = delete;

  // Runs the commands in one process; one output line each. Fields are hex, decimal, or the
  // secrets spec ("1=<hex>,2=<hex>"): nothing the shell would interpret, so no quoting.
  std::vector<std::string> run(const std::vector<Command>& commands) const {
    // -I: ignore the environment and the current directory, so only Debian's packages load.
    std::string shell(kPython);
    shell.append(" -I '").append(script_.string()).append("'");
    for (const auto& command : commands) {
      shell.append(" ");
      for (std::size_t i = 0; i < command.size(); ++i)
        shell.append(i ? ":" : "").append(command[i]);
    }
    shell.append(" 2>&1");
    const Result result = run_shell(shell);
    REQUIRE_MESSAGE(result.exit_code == 0, "Tornado helper failed: ", shell, "\n", result.output);
    std::vector<std::string> lines;
    std::istringstream stream(result.output);
    for (std::string line; std::getline(stream, line);) lines.push_back(line);
    REQUIRE_MESSAGE(lines.size() == commands.size(), "unexpected output: ", result.output);
    return lines;
  }

 private:
  std::filesystem::path script_;
};

const Tornado& tornado() {
  static const Tornado instance;
  return instance;
}

constexpr std::int64_t kNow = 1700000000;
const std::string kNowText = std::to_string(kNow);
const std::string kSecret = "a Tornado cookie_secret";
const SigningKeys kKeys{.secret = kSecret};
const std::string kName = "session";
const std::string kValue("user \x00\xff\n|:= 2|1:0|", 18);

std::string hex(std::string_view bytes) {
  return hex_encode(bytes);
}

}  // namespace

TEST_CASE("a value Tornado signs decodes here") {
  const auto out = tornado().run({{"sign", hex(kSecret), "-", hex(kName), hex(kValue), kNowText}});
  const std::string& from_tornado = out[0];
  CHECK(from_tornado == create_signed_value(kKeys, kName, kValue, kNow));
  CHECK(decode_signed_value(kKeys, kName, from_tornado, 31, kNow + 86400) == kValue);
  CHECK_FALSE(decode_signed_value({.secret = "other"}, kName, from_tornado, 31, kNow));
}

TEST_CASE("a value signed here decodes in Tornado") {
  const std::vector<std::string> values = {kValue, "", std::string(3000, 'v')};
  std::vector<Command> commands;
  for (const auto& value : values) {
    const std::string signed_value = create_signed_value(kKeys, kName, value, kNow);
    commands.push_back({"decode", hex(kSecret), hex(kName), hex(signed_value), kNowText});
  }
  // Tornado refuses it under another name or once it has expired, as this side does.
  const std::string signed_value = create_signed_value(kKeys, kName, kValue, kNow);
  commands.push_back({"decode", hex(kSecret), hex("other"), hex(signed_value), kNowText});
  commands.push_back(
      {"decode", hex(kSecret), hex(kName), hex(signed_value), std::to_string(kNow + 32 * 86400)});

  const auto out = tornado().run(commands);
  for (std::size_t i = 0; i < values.size(); ++i) CHECK(out[i] == hex(values[i]));
  CHECK(out[3] == "None");
  CHECK(out[4] == "None");
}

TEST_CASE("versioned secrets and key_version agree with Tornado both ways") {
  const SigningKeys keys{.versions = {{1, "first secret"}, {2, "second"}}, .key_version = 2};
  const std::string both =
      std::string("1=").append(hex("first secret")).append(",2=").append(hex("second"));
  const std::string only_first = std::string("1=").append(hex("first secret"));
  const std::string from_here = create_signed_value(keys, kName, kValue, kNow);
  CHECK(from_here.starts_with("2|1:2|"));

  const auto out = tornado().run({
      {"sign", both, "1", hex(kName), hex(kValue), kNowText},  // an old cookie
      {"sign", both, "2", hex(kName), hex(kValue), kNowText},
      {"decode", both, hex(kName), hex(from_here), kNowText},
      {"decode", only_first, hex(kName), hex(from_here), kNowText},
  });
  // Both of Tornado's decode here.
  for (const int version : {1, 2}) {
    const std::string& from_tornado = out[static_cast<std::size_t>(version - 1)];
    CHECK(signed_value_key_version(from_tornado) == version);
    CHECK(decode_signed_value(keys, kName, from_tornado, 31, kNow) == kValue);
  }
  CHECK(out[1] == from_here);
  // Tornado decodes this side's with the same dict, and not with a dict that lacks version 2.
  CHECK(out[2] == hex(kValue));
  CHECK(out[3] == "None");
}

TEST_CASE("XSRF tokens encoded by either side decode to the same raw token on the other") {
  const std::string raw = new_xsrf_raw_token();
  const std::string encoded_here = encode_xsrf_token(raw, kNow);
  const auto out = tornado().run({
      {"xsrf_decode", hex(encoded_here)},
      {"xsrf_decode", hex(hex(raw))},  // a version 1 cookie
      {"xsrf_encode", hex(hex(raw))},
      {"xsrf_encode", hex(encoded_here)},
  });
  // Tornado's _decode_xsrf_token reads this side's version 2 token and a version 1 token.
  CHECK(out[0] == std::string("2 ").append(hex(raw)).append(" ").append(kNowText));
  CHECK(out[1].starts_with(std::string("1 ").append(hex(raw)).append(" ")));
  CHECK(decode_xsrf_token(hex(raw))->token == raw);

  // Tornado's own xsrf_token property (its mask), for a version 1 cookie and for this side's.
  for (const std::string& from_tornado : {out[2], out[3]}) {
    CAPTURE(from_tornado);
    const auto decoded = decode_xsrf_token(from_tornado);
    REQUIRE(decoded.has_value());
    CHECK(decoded->version == 2);
    CHECK(decoded->token == raw);
  }
  CHECK(decode_xsrf_token(out[3])->timestamp == kNow);  // kept from the cookie
  CHECK(out[3] != encoded_here);                        // re-masked
}
