// A fresh temporary directory for one test, removed afterwards.
#ifndef PERKS_STORAGE_TEST_DIR_H_
#define PERKS_STORAGE_TEST_DIR_H_

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>

namespace perks::storage {

class TestDir {
 public:
  TestDir() {
    static std::atomic<int> counter{0};
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("perks-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
              std::to_string(rd())))
                .string();
    std::filesystem::create_directories(path_);
  }
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace perks::storage

#endif  // PERKS_STORAGE_TEST_DIR_H_
