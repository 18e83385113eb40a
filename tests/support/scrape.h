// Fetching a server's /metrics as Prometheus does, and reading one series from it.
#ifndef PERKS_TESTS_SUPPORT_SCRAPE_H_
#define PERKS_TESTS_SUPPORT_SCRAPE_H_

#include <curl/curl.h>

#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace perks::testing {

// GET http://127.0.0.1:<port>/metrics; a failure fails the test.
inline std::string Scrape(int port) {
  std::string body;
  CURL* curl = curl_easy_init();
  EXPECT_NE(curl, nullptr);
  const std::string url = absl::StrCat("http://127.0.0.1:", port, "/metrics");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(
      curl, CURLOPT_WRITEFUNCTION, +[](char* data, size_t size, size_t n, void* out) {
        static_cast<std::string*>(out)->append(data, size * n);
        return size * n;
      });
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc);
  EXPECT_EQ(status, 200);
  return body;
}

// The value of the sample written exactly `series` (name{labels in name order}), if any.
inline std::optional<double> SeriesValue(const std::string& scrape, const std::string& series) {
  std::istringstream in(scrape);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

}  // namespace perks::testing

#endif  // PERKS_TESTS_SUPPORT_SCRAPE_H_
