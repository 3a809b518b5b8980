// Which image the kernel runs for an exec: the file itself, or the interpreter a "#!" script
// names. The supervisor compares it with /proc/PID/exe at the exec event (tracer/exec_image.h).
#include "tracer/exec_image.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

using tracer::ShebangInterpreter;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/tj_exec_image_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string Script(const std::string& name, const std::string& text) const {
    std::string p = path + "/" + name;
    std::ofstream(p) << text;
    REQUIRE(chmod(p.c_str(), 0755) == 0);
    return p;
  }
};

tracer::ExpectedImage ImageOf(const std::string& path, const std::string& root,
                              const std::string& cwd) {
  int fd = tracer::OpenChecked(root, path);
  auto image = tracer::ImageOf(fd, root, cwd);
  if (fd >= 0) close(fd);
  return image;
}

tracer::FileId IdOf(const std::string& path) {
  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  return {st.st_dev, st.st_ino};
}

}  // namespace

TEST_CASE("ShebangInterpreter reads the interpreter of a #! line", "[exec]") {
  CHECK(ShebangInterpreter("#!/bin/sh\necho hi\n") == "/bin/sh");
  CHECK(ShebangInterpreter("#! /usr/bin/env python3\n") == "/usr/bin/env");
  CHECK(ShebangInterpreter("#!\t/bin/bash -e") == "/bin/bash");  // no newline within the head
  CHECK(ShebangInterpreter("#!relative\n") == "relative");
  CHECK(ShebangInterpreter("#!   \n/bin/sh").empty());
  CHECK(ShebangInterpreter("\x7f"
                           "ELF\x02\x01")
            .empty());
  CHECK(ShebangInterpreter("").empty());
}

TEST_CASE("ImageOf: an ELF is its own image, a script's image is its interpreter", "[exec]") {
  TempDir dir;
  auto elf = ImageOf("/usr/bin/true", "", dir.path);
  REQUIRE(elf.id);
  CHECK(*elf.id == IdOf("/usr/bin/true"));
  CHECK_FALSE(ImageOf("/bin/true", "", dir.path).id);  // /bin is a symlink: not walked
  std::string script = dir.Script("s.sh", "#!/bin/sh\nexit 0\n");
  auto img = ImageOf(script, "", dir.path);
  REQUIRE(img.id);
  CHECK(*img.id == IdOf("/bin/sh"));
  CHECK(img.path == "/bin/sh");
  SECTION("a script run by a script: the last interpreter") {
    std::string outer = dir.Script("outer", "#!" + script + "\n");
    auto chained = ImageOf(outer, "", dir.path);
    REQUIRE(chained.id);
    CHECK(*chained.id == IdOf("/bin/sh"));
  }
  SECTION("a relative interpreter is found from the given directory") {
    std::string rel = dir.Script("rel", "#!s.sh\n");
    auto r = ImageOf(rel, "", dir.path);
    REQUIRE(r.id);
    CHECK(*r.id == IdOf("/bin/sh"));
  }
  SECTION("deeper than the kernel goes, or missing: no image (the exec cannot succeed)") {
    std::string loop = dir.Script("loop", "#!" + dir.path + "/loop\n");
    CHECK_FALSE(ImageOf(loop, "", dir.path).id);
    CHECK_FALSE(ImageOf(dir.path + "/missing", "", dir.path).id);
    std::string dangling = dir.Script("dangling", "#!" + dir.path + "/missing\n");
    CHECK_FALSE(ImageOf(dangling, "", dir.path).id);
  }
}

TEST_CASE("RunningImage is /proc/PID/exe", "[exec]") {
  auto self = tracer::RunningImage(getpid());
  REQUIRE(self);
  CHECK(*self == IdOf("/proc/self/exe"));
  CHECK_FALSE(tracer::RunningImage(0));
}
