#include "report/stream_auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "report/hash_chain.h"

namespace report {

std::string NewStreamToken() {
  std::array<unsigned char, 32> bytes{};
  std::size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw std::runtime_error(
          fmt::format("cannot make a stream token: getrandom: {}", std::strerror(errno)));
    }
    got += static_cast<std::size_t>(n);
  }
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

std::string CheckStreamToken(std::string_view token) {
  if (token.size() < kMinToken || token.size() > kMaxToken) {
    return fmt::format("a stream token must have {} to {} characters, not {}", kMinToken, kMaxToken,
                       token.size());
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') {
      return "a stream token may hold only printable ASCII characters, without spaces";
    }
  }
  return {};
}

std::optional<std::string_view> ParseAuthLine(std::string_view line) {
  constexpr std::string_view kVerb = "AUTH ";
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (!line.starts_with(kVerb)) return std::nullopt;
  line.remove_prefix(kVerb.size());
  if (line.empty()) return std::nullopt;
  return line;
}

std::string AuthLine(std::string_view token) { return fmt::format("AUTH {}\n", token); }

bool TokensEqual(std::string_view got, std::string_view want) {
  std::string a = Sha256Hex(got), b = Sha256Hex(want);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool IsLoopbackAddress(std::string_view host) {
  std::string h(host);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace report
