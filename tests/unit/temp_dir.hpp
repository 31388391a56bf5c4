// A fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it.
#pragma once
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace secagg::test {

struct TempDir {
  std::string path;
  explicit TempDir(const char* tag) {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t ? t : "/tmp") + "/secagg-unit-" + tag + "-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace secagg::test
