#include "tools/common/campaign_file.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"
#include "services/promotion/domain/spec.h"
#include "yaml-cpp/yaml.h"

namespace perks::tools {
namespace {

// YAML scalars are text; the proto's JSON reader wants typed values. A plain (unquoted) scalar
// that reads as a boolean, null or an integer becomes one; everything else stays text, so
// "12.5" reaches an integer field as text and is refused there.
nlohmann::json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const YAML::Node& item : node) out.push_back(ToJson(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = ToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() == "?") {  // plain, not quoted
        std::string lower = absl::AsciiStrToLower(text);
        if (lower == "true") return true;
        if (lower == "false") return false;
        if (lower == "null" || lower == "~") return nullptr;
        int64_t n = 0;
        if (absl::SimpleAtoi(text, &n) && !text.empty() &&
            (absl::ascii_isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-')) {
          return n;
        }
      }
      return text;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<perks::v1::CampaignFile> ParseCampaignText(std::string_view text,
                                                          const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": line ", e.mark.line + 1, ", column ",
                                                   e.mark.column + 1, ": ", e.msg));
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": expected a campaign (campaign_id: …) or a list of them (campaigns: [...])"));
  }
  nlohmann::json json = ToJson(root);
  if (!json.contains("campaigns")) json = nlohmann::json{{"campaigns", {json}}};

  perks::v1::CampaignFile file;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(json.dump(), &file, options);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": ", std::string(parsed.message()),
        " (field names and values are those of perks.v1.CampaignSpec; amounts are whole fen)"));
  }
  if (file.campaigns().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": the file holds no campaigns"));
  }
  for (int i = 0; i < file.campaigns_size(); ++i) {
    const auto& spec = file.campaigns(i);
    if (absl::Status s = promotion::ValidateSpec(spec); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": campaign ", i + 1,
          spec.campaign_id().empty() ? std::string() : absl::StrCat(" (", spec.campaign_id(), ")"),
          ": ", s.message()));
    }
  }
  return file;
}

absl::StatusOr<perks::v1::CampaignFile> ReadCampaignFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kCampaignFileBytesMax) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is larger than ", kCampaignFileBytesMax >> 20, " MiB"));
  }
  return ParseCampaignText(text.str(), path);
}

}  // namespace perks::tools
