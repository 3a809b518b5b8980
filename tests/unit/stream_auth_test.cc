// report/stream_auth.h and the stream server's door: the AUTH line, tokens, loopback addresses,
// and real subscribers on loopback tcp and a unix socket. Synchronised on what each subscriber
// receives (a refusal, then end of file), never on time.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "report/stream_auth.h"
#include "report/stream_server.h"

namespace {

int TcpPort(const report::StreamServer& server) {
  std::string d = server.Describe();  // tcp:127.0.0.1:PORT
  return std::stoi(d.substr(d.rfind(':') + 1));
}

int ConnectTcp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

void Send(int fd, const std::string& text) {
  REQUIRE(send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()));
}

// Every line until the server closes the connection; closes `fd`.
std::vector<std::string> LinesUntilEof(int fd) {
  std::string all;
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    all.append(chunk, static_cast<std::size_t>(n));
  }
  close(fd);
  std::vector<std::string> lines;
  for (std::size_t start = 0, nl; (nl = all.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    lines.push_back(all.substr(start, nl - start));
  }
  return lines;
}

std::string Refused(const std::string& reason) {
  return "{\"type\":\"refused\",\"reason\":\"" + reason + "\"}";
}

report::StreamEndpoint Loopback() {
  report::StreamEndpoint ep;
  ep.host = "127.0.0.1";
  return ep;
}

const std::string kToken(64, 'a');

// A server with the token, whose subscribers have all the time they need to authenticate: the
// tests below decide when each one is done, not a clock.
report::StreamOptions WithToken() {
  report::StreamOptions options;
  options.token = kToken;
  options.auth_timeout = std::chrono::minutes(10);
  return options;
}

}  // namespace

TEST_CASE("stream auth: the first line is AUTH and a token") {
  CHECK(report::ParseAuthLine("AUTH abc") == std::optional<std::string_view>("abc"));
  CHECK(report::ParseAuthLine("AUTH abc\r") == std::optional<std::string_view>("abc"));
  CHECK(report::ParseAuthLine("AUTH a b") == std::optional<std::string_view>("a b"));
  CHECK_FALSE(report::ParseAuthLine("AUTH "));
  CHECK_FALSE(report::ParseAuthLine("AUTH"));
  CHECK_FALSE(report::ParseAuthLine("auth abc"));
  CHECK_FALSE(report::ParseAuthLine("AUTHabc"));
  CHECK_FALSE(report::ParseAuthLine(" AUTH abc"));
  CHECK_FALSE(report::ParseAuthLine(""));
  CHECK_FALSE(report::ParseAuthLine("GET / HTTP/1.0\r"));
  CHECK(report::AuthLine("xyz") == "AUTH xyz\n");
  CHECK(report::ParseAuthLine("AUTH " + kToken) == std::optional<std::string_view>(kToken));
}

TEST_CASE("stream auth: a token is 32 to 256 printable characters without spaces") {
  CHECK(report::CheckStreamToken(std::string(32, 'x')).empty());
  CHECK(report::CheckStreamToken(std::string(256, '~')).empty());
  CHECK(report::CheckStreamToken("0123456789abcdefABCDEF-_.+/=!#$%&*0123").empty());
  CHECK_THAT(report::CheckStreamToken(std::string(31, 'x')), Catch::Contains("32 to 256"));
  CHECK_THAT(report::CheckStreamToken(std::string(257, 'x')), Catch::Contains("not 257"));
  CHECK_THAT(report::CheckStreamToken(""), Catch::Contains("not 0"));
  for (char bad : {' ', '\t', '\n', '\r', '\x7f', '\x01', '\xc3'}) {
    std::string t(40, 'x');
    t[20] = bad;
    CHECK_THAT(report::CheckStreamToken(t), Catch::Contains("printable ASCII"));
  }
}

TEST_CASE("stream auth: a new token is 64 hex digits and never the same twice") {
  std::string a = report::NewStreamToken(), b = report::NewStreamToken();
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(report::CheckStreamToken(a).empty());
  CHECK(a != b);
}

TEST_CASE("stream auth: tokens are equal only when every byte is") {
  std::string t = report::NewStreamToken();
  CHECK(report::TokensEqual(t, t));
  std::string last = t;
  last.back() = last.back() == '0' ? '1' : '0';
  std::string first = t;
  first.front() = first.front() == '0' ? '1' : '0';
  CHECK_FALSE(report::TokensEqual(last, t));
  CHECK_FALSE(report::TokensEqual(first, t));
  CHECK_FALSE(report::TokensEqual(t.substr(0, 63), t));
  CHECK_FALSE(report::TokensEqual(t + "0", t));
  CHECK_FALSE(report::TokensEqual("", t));
}

TEST_CASE("stream auth: only loopback addresses count as loopback") {
  for (const char* yes : {"127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "[::1]",
                          "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"}) {
    INFO(yes);
    CHECK(report::IsLoopbackAddress(yes));
  }
  for (const char* no :
       {"0.0.0.0", "::", "[::]", "10.0.0.1", "192.168.1.1", "128.0.0.1", "126.255.255.255",
        "::ffff:10.0.0.1", "::2", "fe80::1", "localhost", "", "127.0.0.1.5"}) {
    INFO(no);
    CHECK_FALSE(report::IsLoopbackAddress(no));
  }
}

TEST_CASE("stream server: a tcp stream cannot be made without a token") {
  CHECK_THROWS_AS(report::StreamServer(Loopback()), std::invalid_argument);
}

TEST_CASE("stream server: a tcp subscriber is served only after AUTH with the token") {
  report::StreamServer server(Loopback(), WithToken());
  int port = TcpPort(server);

  // Held open without a word through everything below: it never gets an event.
  int silent = ConnectTcp(port);

  int none = ConnectTcp(port);  // says nothing and hangs up its side
  shutdown(none, SHUT_WR);
  CHECK(LinesUntilEof(none) ==
        std::vector<std::string>{Refused("no AUTH line before the connection closed")});

  int http = ConnectTcp(port);
  Send(http, "GET / HTTP/1.0\r\n\r\n");
  CHECK(LinesUntilEof(http) ==
        std::vector<std::string>{Refused("the first line must be AUTH <token>")});

  int wrong = ConnectTcp(port);
  std::string other = kToken;
  other.back() = 'b';
  Send(wrong, report::AuthLine(other));
  CHECK(LinesUntilEof(wrong) == std::vector<std::string>{Refused("wrong token")});

  int prefix = ConnectTcp(port);
  Send(prefix, report::AuthLine(kToken.substr(0, 63)));
  CHECK(LinesUntilEof(prefix) == std::vector<std::string>{Refused("wrong token")});

  int endless = ConnectTcp(port);  // a first line longer than any AUTH line
  Send(endless, "AUTH " + std::string(report::kMaxAuthLine, 'a'));
  CHECK(LinesUntilEof(endless) ==
        std::vector<std::string>{Refused("the first line is too long for an AUTH line")});

  int good = ConnectTcp(port);
  Send(good, report::AuthLine(kToken).insert(5 + kToken.size(), "\r"));  // \r\n is fine too
  server.WaitForSubscribers(1);
  server.Publish("{\"type\":\"one\"}");
  server.Publish("{\"type\":\"two\"}");
  server.Close();
  CHECK(LinesUntilEof(good) ==
        std::vector<std::string>{"{\"type\":\"one\"}", "{\"type\":\"two\"}"});
  CHECK(LinesUntilEof(silent).empty());  // closed at the end, unserved

  report::StreamStats stats = server.Stats();
  CHECK(stats.subscribers == 1);
  CHECK(stats.unauthenticated == 6);
  CHECK(stats.refused_full == 0);
}

TEST_CASE("stream server: a tcp subscriber that does not authenticate in time is closed") {
  report::StreamOptions options;
  options.token = kToken;
  options.auth_timeout = std::chrono::milliseconds(50);
  report::StreamServer server(Loopback(), options);
  int late = ConnectTcp(TcpPort(server));
  // The server closes it; the test only waits for that.
  CHECK(LinesUntilEof(late) == std::vector<std::string>{Refused("no AUTH line within 50 ms")});
  CHECK(server.Stats().unauthenticated == 1);
  CHECK(server.Stats().subscribers == 0);
}

TEST_CASE("stream server: connections waiting to authenticate are bounded and the oldest goes") {
  report::StreamServer server(Loopback(), WithToken());
  int port = TcpPort(server);
  std::vector<int> waiting;
  for (int i = 0; i < 17; ++i) waiting.push_back(ConnectTcp(port));
  // The 17th pushed the first out.
  CHECK(LinesUntilEof(waiting[0]) ==
        std::vector<std::string>{Refused("too many connections waiting to authenticate")});
  int good = ConnectTcp(port);  // the 18th: pushes the second out, then authenticates
  Send(good, report::AuthLine(kToken));
  server.WaitForSubscribers(1);
  server.Publish("{\"type\":\"x\"}");
  server.Close();
  CHECK(LinesUntilEof(good) == std::vector<std::string>{"{\"type\":\"x\"}"});
  for (std::size_t i = 1; i < waiting.size(); ++i) {
    for (const auto& line : LinesUntilEof(waiting[i])) CHECK_THAT(line, Catch::Contains("refused"));
  }
  CHECK(server.Stats().unauthenticated == 17);
  CHECK(server.Stats().subscribers == 1);
}

TEST_CASE("stream server: a unix stream needs no token and its socket is the owner's alone") {
  char dir[] = "/tmp/tj-stream-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  report::StreamEndpoint ep;
  ep.unix_socket = true;
  ep.path = std::string(dir) + "/s.sock";
  mode_t old = umask(0);  // the least protective umask: the mode must not come from it
  auto server = std::make_unique<report::StreamServer>(ep);
  umask(old);
  struct stat st {};
  REQUIRE(lstat(ep.path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", ep.path.c_str());
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  server->WaitForSubscribers(1);
  server->Publish("{\"type\":\"x\"}");
  server->Close();
  CHECK(LinesUntilEof(fd) == std::vector<std::string>{"{\"type\":\"x\"}"});
  CHECK(server->Stats().subscribers == 1);
  CHECK(server->Stats().unauthenticated == 0);
  server.reset();
  rmdir(dir);
}
