#include "cli/live.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "base/escape.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "cli/stream_token.h"
#include "report/event_reader.h"
#include "report/stream_auth.h"
#include "report/stream_server.h"

namespace cli {
namespace {

constexpr std::size_t kMaxLine = 1 << 20;  // a stream line longer than this is skipped

int Connect(const report::StreamEndpoint& ep, std::string& error) {
  if (ep.unix_socket) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, ep.path.c_str(), ep.path.size());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      error = fmt::format("cannot connect to unix:{}: {} (is a run with --stream unix:{} going?)",
                          ep.path, std::strerror(errno), ep.path);
      close(fd);
      return -1;
    }
    return fd;
  }
  bool v6 = ep.host.find(':') != std::string::npos;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(static_cast<uint16_t>(ep.port));
    inet_pton(AF_INET6, ep.host.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(static_cast<uint16_t>(ep.port));
    inet_pton(AF_INET, ep.host.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    error = fmt::format("cannot connect to tcp:{}:{}: {}", ep.host, ep.port, std::strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = send(fd, text.data() + done, text.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

bool ParseLiveFilter(const std::string& text, report::LiveFilter& out) {
  if (text == "all" || text.empty()) {
    out = report::LiveFilter::kAll;
    return true;
  }
  if (text == "denied") {
    out = report::LiveFilter::kDenied;
    return true;
  }
  return false;
}

LiveTerminal::LiveTerminal(report::LiveFilter filter, report::TraceSet trace,
                           const std::string& file)
    : filter_(filter),
      trace_(std::move(trace)),
      to_file_(!file.empty()),
      tty_(!to_file_ && isatty(STDERR_FILENO) == 1) {
  style_.color = tty_ && std::getenv("NO_COLOR") == nullptr;
  // The trace carries paths, argv and addresses: the owner's alone, like the events file.
  if (to_file_) {
    if (std::optional<std::string> failed = file_.Open(file, 0600)) {
      throw std::runtime_error(*failed);
    }
  }
}

void LiveTerminal::Put(const std::string& text) {
  if (to_file_) {
    (void)file_.Write(text);  // a failure is kept: Finish reports it
  } else {
    std::fputs(text.c_str(), stderr);
  }
}

void LiveTerminal::operator()(const std::string&, const nlohmann::json& record, bool) {
  std::string why;
  if (std::optional<report::Record> r = report::ToRecord(record, why)) Show(*r);
}

void LiveTerminal::Show(const report::Record& record) {
  if (const report::Event* e = report::AsEvent(record)) {
    if (e->type == policy::EventType::kProcessStart) ++processes_;
    if (e->syscall) {
      ++decisions_;
      if (report::Effective(*e) != policy::Action::kAllow) ++denied_;
    }
  }
  std::string clear = progress_shown_ ? "\r\x1b[K" : "";
  if (report::LiveWants(record, filter_) && trace_.Shows(record)) {
    std::string text = report::FormatLive(record, style_);
    if (!text.empty()) {
      Put(clear + text + "\n");
      progress_shown_ = false;
    }
  }
  auto now = std::chrono::steady_clock::now();
  if (tty_ && filter_ == report::LiveFilter::kDenied &&
      now - last_progress_ > std::chrono::milliseconds(200)) {
    last_progress_ = now;
    std::fputs(("\r\x1b[K" + report::FormatProgress(decisions_, denied_, processes_)).c_str(),
               stderr);
    progress_shown_ = true;
  }
}

std::optional<std::string> LiveTerminal::Finish() {
  if (progress_shown_) std::fputs("\r\x1b[K", stderr);
  progress_shown_ = false;
  if (!to_file_ || closed_) return std::nullopt;
  closed_ = true;
  return file_.Close();
}

int WatchCommand(const std::string& endpoint, bool denied_only, const std::string& token_file) {
  report::StreamEndpoint ep;
  std::string error;
  if (!report::ParseStreamEndpoint(endpoint, ep, error)) {
    Error(error);
    return kExitUsage;
  }
  std::optional<std::string> token;
  if (ep.unix_socket && !token_file.empty()) {
    Error(
        "--token-file is for tcp streams (a unix stream is protected by its socket's "
        "permissions and has no token)");
    return kExitUsage;
  }
  if (!ep.unix_socket) {
    if (token_file.empty()) {
      Error(
          fmt::format("{}: a tcp stream serves only subscribers with its token: --token-file "
                      "FILE (the run printed where its token is)",
                      endpoint));
      return kExitUsage;
    }
    token = ReadStreamToken(token_file, error);
    if (!token) {
      Error("--token-file " + error);
      return kExitUsage;
    }
  }
  int fd = Connect(ep, error);
  if (fd < 0) {
    Error(error);
    return 1;
  }
  if (token && !SendAll(fd, report::AuthLine(*token))) {
    Error(fmt::format("cannot send the token to {}: {}", endpoint, std::strerror(errno)));
    close(fd);
    return 1;
  }
  int status = 0;
  report::LiveStyle style;
  style.color = isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
  report::LiveFilter filter = denied_only ? report::LiveFilter::kDenied : report::LiveFilter::kAll;
  std::string buf;
  bool skipping = false;
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buf.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (skipping) {
        skipping = false;
        continue;
      }
      // The stream's peer may be anyone who could listen on its address: each line is checked
      // like a line of an events file before it is shown.
      std::string why;
      std::optional<report::Record> record =
          report::ParseTypedRecord(std::string_view(buf).substr(start, nl - start), why);
      if (const auto* refused = record ? std::get_if<report::Refused>(&*record) : nullptr) {
        // The server's last word: a wrong token, or too many subscribers.
        Error("the stream refused this subscriber: " +
              base::EscapeBytes(refused->reason.value_or("no reason given")));
        status = 1;
        continue;
      }
      if (!record || !report::LiveWants(*record, filter)) continue;
      std::string text = report::FormatLive(*record, style);
      if (!text.empty()) std::printf("%s\n", text.c_str());
    }
    buf.erase(0, start);
    if (buf.size() > kMaxLine) {  // an absurd line: drop it up to its newline
      buf.clear();
      skipping = true;
    }
    std::fflush(stdout);
  }
  close(fd);
  return status;
}

}  // namespace cli
