// What every perkctl command shares: global flags, clients, answers as tables or JSON.
#ifndef PERKS_TOOLS_PERKCTL_CTL_H_
#define PERKS_TOOLS_PERKCTL_CTL_H_

#include <unistd.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "perks/v1/card.grpc.pb.h"
#include "perks/v1/merchant.grpc.pb.h"
#include "tools/common/client.h"

namespace perks::tools {

using google::protobuf::Message;
namespace v1 = perks::v1;

struct Globals {
  std::string server = "127.0.0.1:7400";
  bool json = false;
  int timeout_s = 30;
  std::string token_file;   // the API token's file; else PERKS_TOKEN
  std::string tls_ca_file;  // TLS to perkd, trusting this CA; else PERKS_TLS_CA; else plain
  std::string request_id;   // empty: a fresh one per command
};

// For commands that act in one city: a city admin's token names it already.
inline constexpr char kCityHelp[] =
    "the city federation, e.g. bozhou (default: your token's city; an installation admin names it)";

inline std::string ToJson(const Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

inline std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::string Time(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", absl::FromUnixMillis(unix_ms),
                          absl::FixedTimeZone(8 * 3600));
}

// Expiries are stored as the first moment they no longer hold; people read the last day they do.
inline std::string ExpiryDate(int64_t unix_ms) {
  if (unix_ms == 0) return "never";
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(unix_ms - 1),
                          absl::FixedTimeZone(8 * 3600));
}

// Rows of cells, printed with columns padded to the widest cell (counting UTF-8 characters).
inline void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xc0) != 0x80 ? ((c >= 0xe0) ? 2 : 1) : 0;
    return n;
  };
  std::vector<size_t> widths;
  for (const auto& r : rows) {
    if (widths.size() < r.size()) widths.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], width(r[i]));
  }
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(widths[i] - width(r[i]) + 2, ' ');
    }
    std::cout << line << "\n";
  }
}

class Ctl {
 public:
  explicit Ctl(Globals* g) : g_(g) {}

  v1::CardService::Stub& stub() {
    if (!stub_) stub_ = v1::CardService::NewStub(channel("card"));
    return *stub_;
  }
  v1::MerchantService::Stub& merchants() {
    if (!merchants_) merchants_ = v1::MerchantService::NewStub(channel("merchant"));
    return *merchants_;
  }
  // The channel to the process that runs `service` (--server says where).
  std::shared_ptr<grpc::Channel> channel(std::string_view service) {
    auto address = endpoints().Of(service);
    if (!address.ok()) Fail(address.status());
    return ChannelTo(*address);
  }
  // A channel to `address`, one of endpoints().Addresses().
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
    auto& c = channels_[address];
    if (!c) {
      auto channel = MakeChannel(address, g_->tls_ca_file);
      if (!channel.ok()) Fail(channel.status());
      c = *channel;
    }
    return c;
  }
  const Endpoints& endpoints() {
    if (!endpoints_) {
      auto e = Endpoints::Parse(g_->server);
      if (!e.ok()) Fail(e.status());
      endpoints_ = std::make_unique<Endpoints>(*std::move(e));
    }
    return *endpoints_;
  }
  std::unique_ptr<grpc::ClientContext> Context() const {
    return MakeContext(absl::Seconds(g_->timeout_s), token());
  }
  // The API token, read once from --token-file or PERKS_TOKEN (never from the command line).
  const std::string& token() const {
    if (!token_loaded_) {
      auto t = LoadToken(g_->token_file);
      if (!t.ok()) {
        std::cerr << "perkctl: " << t.status().message() << "\n";
        throw CLI::RuntimeError(2);
      }
      token_ = *t;
      token_loaded_ = true;
    }
    return token_;
  }
  std::string RequestId(const std::string& what) const {
    return g_->request_id.empty() ? NewRequestId(what) : g_->request_id;
  }

  // Prints the answer (JSON or the table `print` makes) or the refusal. Returns the exit code.
  template <typename Resp>
  int Done(const grpc::Status& s, const Resp& resp, const std::function<void(const Resp&)>& print) {
    if (!s.ok()) {
      std::cerr << "perkctl: " << CodeName(s.error_code()) << ": " << s.error_message() << "\n";
      if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
        std::cerr << "  is Perks running and reachable at " << g_->server
                  << "? (set --server or PERKS_SERVER)"
                  << (g_->tls_ca_file.empty() ? "; if it serves TLS, give --tls-ca CA.crt" : "")
                  << "\n";
      }
      return 1;
    }
    if (g_->json) {
      std::cout << ToJson(resp) << "\n";
    } else {
      print(resp);
    }
    return 0;
  }

  static std::string CodeName(grpc::StatusCode code) { return StatusCodeName(code); }

  Globals* g_;

 private:
  mutable std::string token_;
  mutable bool token_loaded_ = false;
  [[noreturn]] static void Fail(const absl::Status& s) {
    std::cerr << "perkctl: " << s.message() << "\n";
    throw CLI::RuntimeError(2);
  }

  std::unique_ptr<Endpoints> endpoints_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::unique_ptr<v1::CardService::Stub> stub_;
  std::unique_ptr<v1::MerchantService::Stub> merchants_;
};

class ProgressBar {
 public:
  void Update(int64_t done, int64_t total) {
    if (total <= 0) return;
    int pct = static_cast<int>(done * 100 / total);
    if (isatty(STDERR_FILENO)) {
      int filled = pct * 40 / 100;
      std::cerr << "\r[" << std::string(filled, '#') << std::string(40 - filled, ' ') << "] " << pct
                << "% " << done << "/" << total << " rows" << std::flush;
      if (done == total) std::cerr << "\n";
    } else if (pct / 10 != last_decile_) {
      last_decile_ = pct / 10;
      std::cerr << "imported " << done << "/" << total << " rows (" << pct << "%)\n";
    }
  }

 private:
  int last_decile_ = -1;
};

inline int Check(int code) {
  if (code != 0) throw CLI::RuntimeError(code);
  return 0;
}

// Registers the merchant onboarding commands.
void AddMerchantCommands(CLI::App& app, Ctl& ctl);
// Registers the API token commands and whoami.
void AddTokenCommands(CLI::App& app, Ctl& ctl);
// Registers `audit`.
void AddAuditCommand(CLI::App& app, Ctl& ctl);
// Registers the campaign (promotion) commands.
void AddCampaignCommands(CLI::App& app, Ctl& ctl);
void AddGrantCommands(CLI::App& app, Ctl& ctl);
// settlement: close, day, statement, import, differences, resolve, balances, check, payables,
// payout, payouts (settlement_commands.cc).
void AddSettlementCommands(CLI::App& app, Ctl& ctl);

// A card named on the command line: digits are its number, anything else its id.
inline v1::CardRef RefOf(const std::string& card) {
  v1::CardRef ref;
  bool digits = !card.empty() && std::all_of(card.begin(), card.end(), ::isdigit);
  if (digits) {
    ref.set_card_number(card);
  } else {
    ref.set_card_id(card);
  }
  return ref;
}

}  // namespace perks::tools

#endif  // PERKS_TOOLS_PERKCTL_CTL_H_
