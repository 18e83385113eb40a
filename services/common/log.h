// Structured logs: one JSON object per line on stderr, {"ts":..,"level":..,"event":..,...fields}.
// Every value passes through ScrubPersonalNumbers, so a full card or ID number never reaches a log
// even if a caller forgets to mask it.
#ifndef PERKS_SERVICES_COMMON_LOG_H_
#define PERKS_SERVICES_COMMON_LOG_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace perks {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

using LogField = std::pair<std::string_view, std::string>;

void Log(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// Where log lines go (default stderr). For tests that scan what was logged.
using LogSink = void (*)(std::string_view line);
void SetLogSink(LogSink sink);
void SetMinLogLevel(LogLevel level);

}  // namespace perks

#endif  // PERKS_SERVICES_COMMON_LOG_H_
