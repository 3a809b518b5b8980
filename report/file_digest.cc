#include "report/file_digest.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace report {

FileDigest DigestFd(int fd, std::uint64_t max_bytes, int copy_to) {
  FileDigest out;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    out.error = "OpenSSL could not start a SHA-256";
    return out;
  }
  std::array<char, 1 << 16> buf{};
  for (;;) {
    if (out.read >= max_bytes) {
      // The bound is reached: complete only if nothing follows.
      char probe = 0;
      ssize_t more = pread(fd, &probe, 1, static_cast<off_t>(out.read));
      if (more > 0)
        out.error = fmt::format("larger than {} bytes: only those were hashed", max_bytes);
      break;
    }
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), max_bytes - out.read));
    ssize_t n = pread(fd, buf.data(), want, static_cast<off_t>(out.read));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      out.error = fmt::format("read failed after {} bytes: {}", out.read, std::strerror(errno));
      break;
    }
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    if (copy_to >= 0) {
      for (ssize_t done = 0; done < n;) {
        ssize_t w = write(copy_to, buf.data() + done, static_cast<std::size_t>(n - done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
          out.error = fmt::format("copy failed after {} bytes: {}",
                                  out.read + static_cast<std::uint64_t>(done),
                                  w < 0 ? std::strerror(errno) : "no progress");
          return out;  // neither hash nor copy is whole
        }
        done += w;
      }
    }
    out.read += static_cast<std::uint64_t>(n);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest.data(), &len);
  out.sha256.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) out.sha256 += fmt::format("{:02x}", digest[i]);
  out.complete = out.error.empty();
  return out;
}

std::string ModeText(mode_t mode) { return fmt::format("{:04o}", mode & 07777); }

}  // namespace report
