// Decoding of struct sockaddr bytes copied from a tracee (AF_INET, AF_INET6, AF_UNIX paths and
// abstract names, anything else by family only) and their rendering for events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "policy/operation.h"

namespace tracer {

inline constexpr std::size_t kMaxSockaddr = 128;  // sizeof(struct sockaddr_storage)

// `bytes` is what the tracee passed, already cut to min(addrlen, kMaxSockaddr). Returns nullopt
// when it is too short to hold a family, or too short for the family it names.
std::optional<policy::SocketAddress> ParseSockaddr(std::span<const std::uint8_t> bytes);

std::string AddressText(const policy::SocketAddress& addr);  // "127.0.0.1:80", "[::1]:22"
nlohmann::json AddressJson(const policy::SocketAddress& addr);

}  // namespace tracer
