// Authentication of tcp stream subscribers (`--stream tcp:ADDRESS:PORT`). A unix socket is
// protected by its file permissions (0600, the owner's alone); a tcp port on loopback can be
// reached by every user of the machine, so a tcp stream serves only subscribers that prove they
// hold the run's token. The protocol (docs/learn.md, "Who can watch"):
//
//   client -> server   AUTH <token>\n        the first line, within kAuthTimeout, at most
//                                            kMaxAuthLine bytes with its newline (a \r before
//                                            the \n is allowed)
//   server -> client   the events, as JSON Lines, exactly as a unix subscriber gets them
//              or      {"type":"refused","reason":"..."}\n and the connection is closed
//
// The token is a secret of kMinToken to kMaxToken printable ASCII characters without spaces;
// tracejail's own are 64 hex digits (256 bits from getrandom). It is compared in constant time.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace report {

inline constexpr std::size_t kMinToken = 32;
inline constexpr std::size_t kMaxToken = 256;
inline constexpr std::size_t kMaxAuthLine = 512;  // "AUTH " + the longest token + "\r\n" fit
inline constexpr std::chrono::milliseconds kAuthTimeout{5000};

// 64 lowercase hex digits from getrandom(2); throws std::runtime_error if the kernel has none.
std::string NewStreamToken();

// What is wrong with `token` as a stream token ("" when nothing is): its length, or a character
// that is a space, a control character or not ASCII.
std::string CheckStreamToken(std::string_view token);

// The token of a subscriber's first line (without its '\n'), or nullopt when the line is not
// "AUTH <token>" (an optional '\r' at the end is dropped). The token is not checked here.
std::optional<std::string_view> ParseAuthLine(std::string_view line);

// "AUTH <token>\n": what a subscriber sends first.
std::string AuthLine(std::string_view token);

// Whether `got` is `want`, in time that depends on neither's contents nor on `want`'s length:
// both are hashed (SHA-256) and the digests compared with CRYPTO_memcmp.
bool TokensEqual(std::string_view got, std::string_view want);

// Whether an IP address literal ("127.0.0.1", "::1", "::ffff:127.0.0.2", with or without
// brackets) is a loopback address: only local processes can reach a listener there. false for
// anything else, the wildcard addresses 0.0.0.0 and :: included.
bool IsLoopbackAddress(std::string_view host);

}  // namespace report
