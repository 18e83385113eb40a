// Reads campaign files: what `perkctl campaign apply FILE` sends. One schema, the proto
// (perks.v1.CampaignFile, or a single perks.v1.CampaignSpec), written as YAML or JSON with the
// proto's field names. Amounts are integer fen; a decimal number is refused, never rounded.
#ifndef PERKS_TOOLS_COMMON_CAMPAIGN_FILE_H_
#define PERKS_TOOLS_COMMON_CAMPAIGN_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "perks/v1/promotion.pb.h"

namespace perks::tools {

inline constexpr size_t kCampaignFileBytesMax = 64 << 20;

// Parses `text` (YAML or JSON). `source` names it in error messages. Every campaign is checked
// with the engine's own rules; the first mistake is reported with the campaign it is in.
absl::StatusOr<perks::v1::CampaignFile> ParseCampaignText(std::string_view text,
                                                          const std::string& source);

// The same for a file on disk.
absl::StatusOr<perks::v1::CampaignFile> ReadCampaignFile(const std::string& path);

}  // namespace perks::tools

#endif  // PERKS_TOOLS_COMMON_CAMPAIGN_FILE_H_
