// tracer/sockaddr.h: ParseSockaddr on raw bytes and the text/JSON renderings of addresses.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <span>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fakes.h"
#include "tracer/sockaddr.h"

namespace {

using nlohmann::json;
using tjtest::BytesOf;
using tracer::ParseSockaddr;

std::optional<policy::SocketAddress> Parse(const std::string& bytes) {
  return ParseSockaddr(
      std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

std::string In4(const char* ip, std::uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, ip, &sin.sin_addr) == 1);
  return BytesOf(sin);
}

std::string In6(const char* ip, std::uint16_t port) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  REQUIRE(inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1);
  return BytesOf(sin6);
}

// sa_family followed by `path` bytes (no terminator added).
std::string Un(const std::string& path) {
  sa_family_t family = AF_UNIX;
  return BytesOf(family) + path;
}

}  // namespace

TEST_CASE("ParseSockaddr: AF_INET", "[sockaddr]") {
  auto a = Parse(In4("127.0.0.1", 8080));
  REQUIRE(a);
  CHECK(a->family == AF_INET);
  CHECK(a->port == 8080);
  CHECK(a->ip[0] == 127);
  CHECK(a->ip[1] == 0);
  CHECK(a->ip[2] == 0);
  CHECK(a->ip[3] == 1);
  CHECK(tracer::AddressText(*a) == "127.0.0.1:8080");
  CHECK(tracer::AddressJson(*a) ==
        json{{"family", "AF_INET"}, {"address", "127.0.0.1"}, {"port", 8080}});

  auto b = Parse(In4("255.255.255.255", 65535));
  REQUIRE(b);
  CHECK(tracer::AddressText(*b) == "255.255.255.255:65535");
  auto c = Parse(In4("0.0.0.0", 0));
  REQUIRE(c);
  CHECK(tracer::AddressText(*c) == "0.0.0.0:0");

  SECTION("bytes beyond sockaddr_in are ignored") {
    auto d = Parse(In4("10.1.2.3", 53) + std::string(20, '\xee'));
    REQUIRE(d);
    CHECK(tracer::AddressText(*d) == "10.1.2.3:53");
  }
  SECTION("too short for sockaddr_in") {
    std::string bytes = In4("10.1.2.3", 53);
    CHECK_FALSE(Parse(bytes.substr(0, sizeof(sockaddr_in) - 1)));
    CHECK_FALSE(Parse(bytes.substr(0, 4)));
  }
}

TEST_CASE("ParseSockaddr: AF_INET6", "[sockaddr]") {
  auto a = Parse(In6("::1", 22));
  REQUIRE(a);
  CHECK(a->family == AF_INET6);
  CHECK(a->port == 22);
  CHECK(a->ip[15] == 1);
  CHECK(tracer::AddressText(*a) == "[::1]:22");
  CHECK(tracer::AddressJson(*a) == json{{"family", "AF_INET6"}, {"address", "::1"}, {"port", 22}});

  auto m = Parse(In6("::ffff:127.0.0.1", 80));
  REQUIRE(m);
  CHECK(m->family == AF_INET6);  // mapped addresses stay IPv6; the policy matches them as IPv4
  CHECK(m->ip[10] == 0xff);
  CHECK(m->ip[11] == 0xff);
  CHECK(m->ip[12] == 127);
  CHECK(tracer::AddressText(*m) == "[::ffff:127.0.0.1]:80");

  auto g = Parse(In6("2001:db8::abcd", 443));
  REQUIRE(g);
  CHECK(tracer::AddressText(*g) == "[2001:db8::abcd]:443");

  SECTION("too short") {
    CHECK_FALSE(Parse(In6("::1", 22).substr(0, 8)));
    CHECK_FALSE(Parse(In6("::1", 22).substr(0, 20)));
  }
}

TEST_CASE("ParseSockaddr: AF_UNIX paths, abstract names and unnamed", "[sockaddr]") {
  SECTION("NUL-terminated path") {
    auto a = Parse(Un(std::string("/tmp/sock\0garbage", 17)));
    REQUIRE(a);
    CHECK(a->family == AF_UNIX);
    CHECK(a->unix_path == "/tmp/sock");
    CHECK_FALSE(a->abstract);
    CHECK_FALSE(a->unnamed);
    CHECK(tracer::AddressText(*a) == "unix:/tmp/sock");
    CHECK(tracer::AddressJson(*a) == json{{"family", "AF_UNIX"}, {"path", "/tmp/sock"}});
  }
  SECTION("path without terminator (addrlen ends it)") {
    auto a = Parse(Un("/run/x.sock"));
    REQUIRE(a);
    CHECK(a->unix_path == "/run/x.sock");
  }
  SECTION("full-size sockaddr_un") {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, "/var/run/docker.sock");
    auto a = Parse(BytesOf(addr));
    REQUIRE(a);
    CHECK(a->unix_path == "/var/run/docker.sock");
  }
  SECTION("abstract name keeps embedded NULs") {
    std::string name("name\0with\0nuls", 14);
    auto a = Parse(Un(std::string(1, '\0') + name));
    REQUIRE(a);
    CHECK(a->abstract);
    CHECK_FALSE(a->unnamed);
    CHECK(a->unix_path == name);
    CHECK(a->unix_path.size() == 14);
    CHECK(tracer::AddressText(*a) == "unix:@name\\x00with\\x00nuls");
    CHECK(tracer::AddressJson(*a) ==
          json{{"family", "AF_UNIX"}, {"abstract", "name\\x00with\\x00nuls"}});
  }
  SECTION("abstract name with trailing NULs is kept whole") {
    auto a = Parse(Un(std::string("\0x\0\0", 4)));
    REQUIRE(a);
    CHECK(a->abstract);
    CHECK(a->unix_path == std::string("x\0\0", 3));
  }
  SECTION("empty abstract name") {
    auto a = Parse(Un(std::string(1, '\0')));
    REQUIRE(a);
    CHECK(a->abstract);
    CHECK(a->unix_path.empty());
    CHECK(tracer::AddressText(*a) == "unix:@");
  }
  SECTION("unnamed: only the family") {
    auto a = Parse(Un(""));
    REQUIRE(a);
    CHECK(a->unnamed);
    CHECK_FALSE(a->abstract);
    CHECK(a->unix_path.empty());
    CHECK(tracer::AddressText(*a) == "unix:(unnamed)");
    CHECK(tracer::AddressJson(*a) == json{{"family", "AF_UNIX"}, {"unnamed", true}});
  }
  SECTION("control characters in a path are escaped when rendered") {
    auto a = Parse(Un("/tmp/\x1b[2J\n.sock"));
    REQUIRE(a);
    CHECK(a->unix_path == "/tmp/\x1b[2J\n.sock");  // raw bytes are kept for matching
    CHECK(tracer::AddressText(*a) == "unix:/tmp/\\x1b[2J\\x0a.sock");
    CHECK(tracer::AddressJson(*a)["path"] == "/tmp/\\x1b[2J\\x0a.sock");
  }
}

TEST_CASE("ParseSockaddr: too short for a family", "[sockaddr]") {
  CHECK_FALSE(Parse(""));
  CHECK_FALSE(Parse(std::string(1, '\x01')));
}

TEST_CASE("ParseSockaddr: other families are kept by number", "[sockaddr]") {
  struct Case {
    int family;
    const char* text;
  };
  for (const Case& c : {Case{AF_NETLINK, "AF_NETLINK"}, Case{AF_PACKET, "AF_PACKET"},
                        Case{AF_UNSPEC, "AF_UNSPEC"}, Case{200, "200"}}) {
    CAPTURE(c.family);
    auto family = static_cast<sa_family_t>(c.family);
    auto a = Parse(BytesOf(family) + std::string(10, '\x5a'));
    REQUIRE(a);
    CHECK(a->family == c.family);
    CHECK(a->port == 0);
    CHECK(a->unix_path.empty());
    CHECK(tracer::AddressText(*a) == c.text);
    CHECK(tracer::AddressJson(*a) == json{{"family", c.text}});
    // Just the family is enough.
    auto b = Parse(BytesOf(family));
    REQUIRE(b);
    CHECK(b->family == c.family);
  }
}

// Fixed regression (tracer/sockaddr.cc, ParseSockaddr): AF_INET6 requires sizeof(sockaddr_in6) (28)
// bytes, but the kernel accepts SIN6_LEN_RFC2133 (24: no sin6_scope_id) for connect/bind/sendto on
// inet6 sockets. A program passing addrlen 24 gets nullopt here, which decode.cc turns into
// early_errno EINVAL, so tracejail fails a call the kernel would have performed.
TEST_CASE("regression: sockaddr: a 24-byte (RFC 2133) sockaddr_in6 is accepted", "[sockaddr]") {
  auto a = Parse(In6("::1", 22).substr(0, 24));
  REQUIRE(a);
  CHECK(a->family == AF_INET6);
  CHECK(a->port == 22);
  CHECK(tracer::AddressText(*a) == "[::1]:22");
}
