#include "services/common/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "services/common/personal.h"

namespace perks {
namespace {

void StderrSink(std::string_view line) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fputc('\n', stderr);
}

std::atomic<LogSink> g_sink{&StderrSink};
std::atomic<LogLevel> g_min_level{LogLevel::kInfo};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) {
  if (level < g_min_level.load()) return;
  nlohmann::ordered_json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = LevelName(level);
  line["event"] = std::string(event);
  for (const auto& [key, value] : fields) {
    line[std::string(key)] = ScrubPersonalNumbers(value);
  }
  g_sink.load()(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void SetLogSink(LogSink sink) { g_sink.store(sink ? sink : &StderrSink); }
void SetMinLogLevel(LogLevel level) { g_min_level.store(level); }

}  // namespace perks
