// policy_eval [ITERATIONS]: cost of Policy::Evaluate on a policy of 1,000 path rules and 1,000
// network rules (generated, a mix of literal prefixes and globs, /8 to /32 CIDRs with ports),
// over a fixed mix of file and network requests. Prints nanoseconds per evaluated request.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "policy/loader.h"

int main(int argc, char** argv) {
  long iterations = argc > 1 ? std::atol(argv[1]) : 200000;
  nlohmann::json files = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) {
    std::string path;
    switch (i % 4) {
      case 0:
        path = fmt::format("/srv/project{}/data", i);
        break;
      case 1:
        path = fmt::format("/home/user{}/*/secret-*", i);
        break;
      case 2:
        path = fmt::format("/opt/app{}/**/*.key", i);
        break;
      default:
        path = fmt::format("/var/lib/svc{}/cache/[a-f]?*", i);
        break;
    }
    files.push_back(
        {{"path", path}, {"access", {"read", "write"}}, {"action", i % 3 == 0 ? "allow" : "deny"}});
  }
  nlohmann::json net = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) {
    int len = 8 + (i % 25);
    std::string cidr = fmt::format("{}.{}.{}.0/{}", 10 + i % 200, i % 256, (i * 7) % 256, len);
    nlohmann::json rule = {{"cidr", cidr}, {"action", i % 2 ? "allow" : "deny"}};
    if (i % 5 == 0) rule["ports"] = fmt::format("{}-{}", 1000 + i, 2000 + i);
    net.push_back(rule);
  }
  nlohmann::json doc = {{"version", 1},
                        {"extends", "standard"},
                        {"files", {{"rules", files}}},
                        {"network", {{"rules", net}}}};
  policy::Policy p = policy::LoadPolicyText(doc.dump(), "generated", policy::DefaultVariables());

  std::vector<policy::Request> requests;
  const char* paths[] = {"/usr/lib/x86_64-linux-gnu/libc.so.6",
                         "/etc/shadow",
                         "/srv/project400/data/file.txt",
                         "/home/user1/x/secret-key",
                         "/opt/app2/a/b/c/server.key",
                         "/var/lib/svc3/cache/b1",
                         "/tmp/build/obj/module.o",
                         "/proc/1234/status"};
  for (const char* path : paths) {
    policy::Request r;
    r.syscall = "openat";
    r.paths[0] = {path, policy::Access::kRead, true};
    r.path_count = 1;
    requests.push_back(r);
  }
  for (const char* ip : {"10.0.0.1", "93.184.216.34", "127.0.0.1", "150.3.21.9"}) {
    policy::Request r;
    r.syscall = "connect";
    policy::SocketAddress a;
    a.family = AF_INET;
    inet_pton(AF_INET, ip, a.ip.data());
    a.port = 1443;
    r.net = policy::NetAccess{policy::NetVerb::kConnect, AF_INET, SOCK_STREAM, 0, a};
    requests.push_back(r);
  }
  int denied = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    const auto& r = requests[static_cast<std::size_t>(i) % requests.size()];
    denied += p.Evaluate(r).action != policy::Action::kAllow;
  }
  auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start);
  std::printf("rules: %zu path, %zu network; requests: %zu kinds; denied: %d\n",
              p.path_rules.size(), p.net_rules.size(), requests.size(), denied);
  std::printf("ns_per_evaluation %.1f\n", ns.count() / static_cast<double>(iterations));
  return 0;
}
