// perkctl settlement: who owes whom for the discounts given. Close a city's business days, fetch
// their statements, match the bank's answer file against ours, read balances and payables, and
// record what a funder paid a merchant.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/wrappers.pb.h"
#include "perks/v1/settlement.grpc.pb.h"
#include "services/common/calendar.h"
#include "services/common/money.h"
#include "services/common/personal.h"
#include "tools/perkctl/ctl.h"

namespace perks::tools {
namespace {

using Rows = std::vector<std::vector<std::string>>;
using Stub = v1::SettlementService::Stub;

constexpr int32_t kPageLines = 5000;
const std::vector<v1::Funder> kFunders = {v1::FUNDER_BANK, v1::FUNDER_UNION, v1::FUNDER_MERCHANT};
// A merchant's own discount is never owed to it: only these pay merchants out.
const std::vector<v1::Funder> kPayingFunders = {v1::FUNDER_BANK, v1::FUNDER_UNION};

// A bad command line: says what was wrong, exits 2.
[[noreturn]] void Refuse(const std::string& what) {
  std::cerr << "perkctl: " << what << "\n";
  throw CLI::RuntimeError(2);
}

std::string Yuan(int64_t fen) { return FormatYuan(fen); }

// An enum value as people read it: "BUSINESS_DAY_CLOSED" less its prefix is "closed".
std::string Word(const std::string& name, std::string_view prefix) {
  std::string out = Lower(name.substr(std::min(prefix.size(), name.size())));
  std::replace(out.begin(), out.end(), '_', ' ');
  return out.empty() ? "-" : out;
}

// "BANK", as statements and accounts name a funder.
std::string FunderName(v1::Funder f) {
  const std::string& name = v1::Funder_Name(f);
  return name.size() > 7 ? name.substr(7) : "-";
}

v1::Funder ParseFunder(const std::string& text, const std::vector<v1::Funder>& valid) {
  v1::Funder f;
  if (v1::Funder_Parse("FUNDER_" + absl::AsciiStrToUpper(text), &f) &&
      std::find(valid.begin(), valid.end(), f) != valid.end()) {
    return f;
  }
  std::vector<std::string> names;
  for (v1::Funder v : valid) names.push_back(FunderName(v));
  Refuse("--funder '" + text + "' is not a funder here; name one of " + absl::StrJoin(names, ", "));
}

// A date flag's value, checked: YYYYMMDD.
const std::string& Date(const std::string& flag, const std::string& text) {
  if (auto day = ParseCompactDate(text, flag); !day.ok())
    Refuse(std::string(day.status().message()));
  return text;
}

v1::Resolution ParseResolution(const std::string& text) {
  static constexpr std::pair<const char*, v1::Resolution> kNames[] = {
      {"ours", v1::RESOLUTION_OURS_STANDS},
      {"banks", v1::RESOLUTION_BANKS_STANDS},
      {"written-off", v1::RESOLUTION_WRITTEN_OFF}};
  for (const auto& [name, r] : kNames) {
    if (Lower(text) == name) return r;
  }
  Refuse("--resolution '" + text +
         "' is not one of: ours (our figure stands, the bank corrects its side), banks (the "
         "bank's stands, ours is corrected by a later posting), written-off (accepted as it is)");
}

int64_t PayoutFen(const std::string& yuan) {
  auto fen = ParseYuan(yuan);
  if (!fen || *fen <= 0) {
    Refuse("--amount '" + yuan +
           "' is not an amount in yuan like 1200 or 1200.50 (above 0, at most " +
           Yuan(kAmountFenMax) + ")");
  }
  return *fen;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path)) {
    Refuse("cannot read " + path + ": " + (in ? "it is a directory" : std::strerror(errno)) +
           "; give the path of the bank's answer file for the day");
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string JsonString(const std::string& s) {
  google::protobuf::StringValue v;
  v.set_value(s);
  return ToJson(v);
}

// What to tell people when a call is refused with `code`.
struct Hint {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string text;
};

// One call of the settlement service: the answer printed and returned, or the refusal printed
// (with the hint for its code) and the exit code thrown.
template <typename Req, typename Resp, typename Print>
Resp Call(Ctl& ctl, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
          const Req& req, Print print, const Hint& hint = {}) {
  auto stub = v1::SettlementService::NewStub(ctl.channel("settlement"));
  Resp resp;
  grpc::Status s = (stub.get()->*method)(ctl.Context().get(), req, &resp);
  int code = ctl.Done<Resp>(s, resp, print);
  if (code != 0 && s.error_code() == hint.code) std::cerr << "  " << hint.text << "\n";
  Check(code);
  return resp;
}

// Every option of the settlement commands; each command adds those it takes.
struct Flags {
  std::string city, date, funder, merchant, from, to, out, file, resolution, reason, amount,
      reference;
  int32_t difference = 0;
};

// --- printing ---

void PrintDay(const v1::BusinessDay& d) {
  Rows head = {
      {"day", d.date() + " of " + d.tenant_id()},
      {"state", Word(v1::BusinessDayState_Name(d.state()), "BUSINESS_DAY_")},
      {"runs", Time(d.starts_at_unix_ms()) + " to " + Time(d.ends_at_unix_ms()) + " (UTC+8)"},
      {"entries", d.state() == v1::BUSINESS_DAY_CLOSED ? std::to_string(d.entries())
                                                       : "counted at the close"}};
  if (d.closed_at_unix_ms() != 0) {
    head.push_back({"closed", Time(d.closed_at_unix_ms()) + " by " + d.closed_by()});
  }
  if (d.merchant_statements_size() > 0) {
    head.push_back({"merchants", absl::StrCat(d.merchant_statements_size(),
                                              " statements (settlement statement --merchant ID)")});
  }
  PrintTable(head);
  if (d.funder_statements().empty()) {
    std::cout << "\nits statements exist once it is closed: perkctl settlement close --date "
              << d.date() << "\n";
    return;
  }
  Rows rows = {{"FUNDER", "LINES", "TOTAL YUAN", "SHA256", "FILE"}};
  for (const auto& s : d.funder_statements()) {
    rows.push_back({FunderName(s.funder()), std::to_string(s.lines()), Yuan(s.total_fen()),
                    s.sha256(), s.file_name()});
  }
  std::cout << "\n";
  PrintTable(rows);
}

std::vector<std::string> DifferenceRow(const v1::Difference& d, bool resolutions) {
  const bool ours = d.kind() != v1::DIFFERENCE_ONLY_BANKS;
  const bool theirs = d.kind() != v1::DIFFERENCE_ONLY_OURS;
  std::vector<std::string> row = {
      std::to_string(d.difference_id()),
      Word(v1::DifferenceKind_Name(d.kind()), "DIFFERENCE_"),
      d.reference(),
      ours ? Yuan(d.our_fen()) : "-",
      theirs ? Yuan(d.bank_fen()) : "-",
      d.bank_lines().empty() ? "-" : absl::StrJoin(d.bank_lines(), ",")};
  if (resolutions) {
    row.push_back(d.resolution() == v1::RESOLUTION_UNSPECIFIED
                      ? "unresolved"
                      : Word(v1::Resolution_Name(d.resolution()), "RESOLUTION_"));
    row.push_back(d.reason().empty() ? "-" : d.reason());
    row.push_back(d.resolved_by().empty() ? "-" : d.resolved_by());
  }
  return row;
}

void PrintReconciliation(const v1::Reconciliation& r, bool resolutions) {
  std::cout << FunderName(r.funder()) << " file of " << r.tenant_id() << " " << r.date()
            << ", imported " << Time(r.imported_at_unix_ms()) << " by " << r.imported_by()
            << "\nfile sha256 " << r.file_sha256() << "\n\n";
  PrintTable({{"our lines", std::to_string(r.our_lines()), Yuan(r.our_total_fen()) + " yuan"},
              {"bank lines", std::to_string(r.bank_lines()), Yuan(r.bank_total_fen()) + " yuan"},
              {"matched", std::to_string(r.matched_lines())}});
  if (r.differences().empty()) {
    std::cout << "\nno differences: the file matches our statement line for line\n";
    return;
  }
  Rows rows = {{"ID", "KIND", "REFERENCE", "OURS YUAN", "BANK'S YUAN", "BANK LINES"}};
  if (resolutions) rows[0].insert(rows[0].end(), {"RESOLUTION", "REASON", "RESOLVED BY"});
  for (const auto& d : r.differences()) rows.push_back(DifferenceRow(d, resolutions));
  std::cout << "\n";
  PrintTable(rows);
  std::cout << "\n" << r.differences_size() << " differences, " << r.unresolved() << " unresolved";
  if (r.unresolved() > 0) {
    std::cout << "; resolve each with\n  perkctl settlement resolve --date " << r.date()
              << " --funder " << FunderName(r.funder())
              << " --difference N --resolution ours|banks|written-off --reason \"...\"";
  }
  std::cout << "\n";
}

// As imported: the differences found. Later: each with how it was resolved.
void PrintImported(const v1::Reconciliation& r) { PrintReconciliation(r, false); }
void PrintResolved(const v1::Reconciliation& r) { PrintReconciliation(r, true); }

void PrintBalances(const v1::GetBalancesResponse& r) {
  Rows rows = {{"ACCOUNT", "DEBIT YUAN", "CREDIT YUAN", "BALANCE YUAN"}};
  for (const auto& b : r.balances()) {
    rows.push_back({b.account(), Yuan(b.debit_fen()), Yuan(b.credit_fen()), Yuan(b.balance_fen())});
  }
  rows.push_back({"sum", "", "", Yuan(r.sum_fen())});
  PrintTable(rows);
}

void PrintCheck(const v1::LedgerCheck& c) {
  PrintTable({{"balanced", c.balanced() ? "yes" : "NO"},
              {"entries", std::to_string(c.entries())},
              {"postings", std::to_string(c.postings())},
              {"sum", Yuan(c.sum_fen()) + " yuan"},
              {"mismatches", std::to_string(c.mismatches_size())}});
  for (const auto& m : c.mismatches()) std::cout << "  " << m << "\n";
  if (!c.balanced()) {
    std::cout << "the ledger does not balance: close no day and pay nothing out until it is "
                 "explained (perkctl backup, then report it)\n";
  }
}

void PrintPayables(const v1::GetPayablesResponse& r) {
  Rows rows = {{"MERCHANT", "FUNDER", "OWED YUAN", "PAID YUAN", "OUTSTANDING NOW"}};
  for (const auto& p : r.lines()) {
    rows.push_back({p.merchant_id(), FunderName(p.funder()), Yuan(p.owed_fen()), Yuan(p.paid_fen()),
                    Yuan(p.outstanding_fen())});
  }
  rows.push_back({"total", "", Yuan(r.owed_fen()), Yuan(r.paid_fen()), ""});
  PrintTable(rows);
}

std::vector<std::string> PayoutRow(const v1::Payout& p) {
  return {p.payout_id(),
          p.date(),
          FunderName(p.funder()),
          p.merchant_id(),
          Yuan(p.amount_fen()),
          p.bank_reference(),
          Time(p.recorded_at_unix_ms()) + " by " + p.recorded_by()};
}

const std::vector<std::string> kPayoutHead = {"PAYOUT", "DAY",       "FUNDER",  "MERCHANT",
                                              "YUAN",   "REFERENCE", "RECORDED"};

void PrintPayouts(const v1::ListPayoutsResponse& r) {
  Rows rows = {kPayoutHead};
  for (const auto& p : r.payouts()) rows.push_back(PayoutRow(p));
  PrintTable(rows);
  std::cout << r.payouts_size() << " payouts\n";
}

// --- statements ---

// Adds up a statement's detail lines as its pages go by, to check them against its trailer.
class StatementCheck {
 public:
  void Add(std::string_view csv) {
    rest_.append(csv);
    size_t start = 0;
    for (size_t end; (end = rest_.find('\n', start)) != std::string::npos; start = end + 1) {
      Line(std::string_view(rest_).substr(start, end - start));
    }
    rest_.erase(0, start);
  }
  int64_t lines() const { return lines_; }
  int64_t total_fen() const { return total_fen_; }

  // Empty when the lines match the trailer; else how they differ.
  std::string Mismatch() const {
    std::vector<std::string> t = absl::StrSplit(trailer_, ',');
    int64_t lines = -1, total = 0;
    if (t.size() != 4 || !absl::SimpleAtoi(t[1], &lines) || !absl::SimpleAtoi(t[2], &total)) {
      return "the last page ends without the trailer line T,<lines>,<total_fen>,<sha256>";
    }
    if (lines != lines_) return absl::StrCat("the trailer counts ", lines, " lines; got ", lines_);
    if (total != total_fen_) {
      return absl::StrCat("the trailer's total is ", Yuan(total), " yuan; the lines sum to ",
                          Yuan(total_fen_), " yuan");
    }
    if (t[3] != sha_.HexDigest()) {
      return "the SHA-256 of the lines is " + sha_.HexDigest() + "; the trailer says " + t[3];
    }
    return "";
  }

 private:
  void Line(std::string_view line) {
    if (line.starts_with("T,")) trailer_ = std::string(line);
    if (!line.starts_with("D,")) return;
    std::string_view share = line.substr(line.rfind(',') + 1);  // share_fen, the last column
    int64_t share_fen = 0;
    (void)absl::SimpleAtoi(absl::string_view(share.data(), share.size()), &share_fen);
    ++lines_;
    total_fen_ += share_fen;
    sha_.Update(line);
    sha_.Update("\n");
  }

  std::string rest_, trailer_;
  int64_t lines_ = 0, total_fen_ = 0;
  Sha256Stream sha_;
};

// Where a statement goes: stdout for "-"; else FILE, written as FILE.part and renamed once whole
// and checked, so a FILE there is always a statement that matched its trailer.
class Output {
 public:
  explicit Output(std::string path) : path_(std::move(path)) {
    if (path_ == "-") return;
    file_.open(part(), std::ios::binary | std::ios::trunc);
    if (!file_) {
      Refuse("cannot write " + path_ + " (as " + part() +
             " until it is whole): " + std::strerror(errno));
    }
  }
  ~Output() {
    if (path_ != "-") std::remove(part().c_str());  // left only when the statement failed
  }
  void Write(const std::string& s) { stream() << s; }
  void Keep() {
    stream().flush();
    if (path_ == "-") return;
    file_.close();
    if (!file_ || std::rename(part().c_str(), path_.c_str()) != 0) {
      std::cerr << "perkctl: writing " << path_ << " failed: " << std::strerror(errno) << "\n";
      throw CLI::RuntimeError(1);
    }
  }
  const std::string& path() const { return path_; }
  std::string part() const { return path_ + ".part"; }
  // What people read goes to stderr when the statement itself goes to stdout.
  std::ostream& report() const { return path_ == "-" ? std::cerr : std::cout; }

 private:
  std::ostream& stream() { return path_ == "-" ? std::cout : file_; }

  std::string path_;
  std::ofstream file_;
};

v1::StatementPage Page(Ctl& ctl, Stub& stub, const v1::GetStatementRequest& req) {
  v1::StatementPage page;
  grpc::Status s = stub.GetStatement(ctl.Context().get(), req, &page);
  if (!s.ok()) Check(ctl.Done<v1::StatementPage>(s, page, {}));
  return page;
}

// `page` and every page after it, written to `out` and added to `check`.
void FetchRest(Ctl& ctl, Stub& stub, v1::GetStatementRequest req, v1::StatementPage page,
               Output& out, StatementCheck& check) {
  for (int pages = 1;; ++pages) {
    out.Write(page.csv());
    check.Add(page.csv());
    if (page.next_page_token().empty()) return;
    std::cerr << "  page " << pages << ": " << check.lines() << " lines so far\n";
    req.set_page_token(page.next_page_token());
    page = Page(ctl, stub, req);
  }
}

void PrintFetched(const Output& out, const v1::StatementSummary& s, bool json) {
  if (json) {
    out.report() << "{\"path\":" << JsonString(out.path()) << ",\"summary\":" << ToJson(s) << "}\n";
    return;
  }
  out.report() << "wrote " << (out.path() == "-" ? "the statement to stdout" : out.path()) << ": "
               << s.lines() << " lines, " << Yuan(s.total_fen()) << " yuan (sha256 " << s.sha256()
               << ", checked)\n";
}

// --- the commands ---

using Run = void (*)(Ctl&, const Flags&);

// A settlement subcommand, with --city; the other options added as the command takes them.
struct Command {
  CLI::App* app;
  std::shared_ptr<Flags> f = std::make_shared<Flags>();

  Command(CLI::App* parent, const char* name, const char* help)
      : app(parent->add_subcommand(name, help)) {
    app->add_option("--city", f->city, kCityHelp);
  }
  Command& Option(const char* name, std::string& to, const char* help, bool required = true) {
    auto* o = app->add_option(name, to, help);
    if (required) o->required();
    return *this;
  }
  Command& Date(const char* help = "the business day, YYYYMMDD (Asia/Shanghai), e.g. 20261205",
                bool required = true) {
    return Option("--date", f->date, help, required);
  }
  void Runs(Ctl& ctl, Run run) {
    app->callback([&ctl, run, f = f] { run(ctl, *f); });
  }
};

// A request about one city: --city (empty: the token's).
template <typename Req>
Req CityRequest(const Flags& f) {
  Req req;
  req.set_tenant_id(f.city);
  return req;
}

// A request about one city's business day: --city and --date.
template <typename Req>
Req DayRequest(const Flags& f) {
  auto req = CityRequest<Req>(f);
  req.set_date(Date("--date", f.date));
  return req;
}

// A request about one funder's side of a day: --city, --date and --funder.
template <typename Req>
Req FunderDayRequest(const Flags& f) {
  Req req = DayRequest<Req>(f);
  req.set_funder(ParseFunder(f.funder, kFunders));
  return req;
}

void CloseDay(Ctl& ctl, const Flags& f) {
  Call(ctl, &Stub::CloseDay, DayRequest<v1::CloseDayRequest>(f), PrintDay);
}

void GetDay(Ctl& ctl, const Flags& f) {
  Call(ctl, &Stub::GetDay, DayRequest<v1::GetDayRequest>(f), PrintDay);
}

v1::GetStatementRequest StatementRequest(const Flags& f) {
  if (f.funder.empty() == f.merchant.empty()) {
    Refuse("name whose statement: --funder BANK|UNION|MERCHANT or --merchant ID (one of them)");
  }
  auto req = DayRequest<v1::GetStatementRequest>(f);
  if (!f.funder.empty()) req.set_funder(ParseFunder(f.funder, kFunders));
  req.set_merchant_id(f.merchant);
  req.set_page_lines(kPageLines);
  return req;
}

void Statement(Ctl& ctl, const Flags& f) {
  v1::GetStatementRequest req = StatementRequest(f);
  auto stub = v1::SettlementService::NewStub(ctl.channel("settlement"));
  v1::StatementPage first = Page(ctl, *stub, req);
  const v1::StatementSummary summary = first.summary();
  // The server's name for the file, here: never a path elsewhere.
  Output out(f.out.empty() ? std::filesystem::path(summary.file_name()).filename().string()
                           : f.out);
  StatementCheck check;
  FetchRest(ctl, *stub, req, std::move(first), out, check);
  if (std::string bad = check.Mismatch(); !bad.empty()) {
    std::cerr << "perkctl: the statement as received does not match its trailer: " << bad
              << (out.path() == "-" ? "\n  what went to stdout is not it" : "\n  nothing was kept")
              << "; do not send it: fetch it again, and report it if it differs again\n";
    throw CLI::RuntimeError(1);
  }
  out.Keep();
  PrintFetched(out, summary, ctl.g_->json);
}

void Import(Ctl& ctl, const Flags& f) {
  auto req = FunderDayRequest<v1::ImportBankFileRequest>(f);
  req.set_csv(ReadFile(f.file));
  req.set_request_id(ctl.RequestId("import"));
  Call(ctl, &Stub::ImportBankFile, req, PrintImported,
       Hint{grpc::StatusCode::RESOURCE_EXHAUSTED,
            absl::StrCat("the file is ", req.csv().size() >> 10,
                         " KiB: more than perkd takes in one request (its --max-message-bytes, 4 "
                         "MiB unless set)")});
}

void Differences(Ctl& ctl, const Flags& f) {
  Call(ctl, &Stub::GetReconciliation, FunderDayRequest<v1::GetReconciliationRequest>(f),
       PrintResolved);
}

void Resolve(Ctl& ctl, const Flags& f) {
  auto req = FunderDayRequest<v1::ResolveDifferenceRequest>(f);
  req.set_difference_id(f.difference);
  req.set_resolution(ParseResolution(f.resolution));
  req.set_reason(f.reason);
  req.set_request_id(ctl.RequestId("resolve"));
  Call(ctl, &Stub::ResolveDifference, req, PrintResolved);
}

void Balances(Ctl& ctl, const Flags& f) {
  auto req = CityRequest<v1::GetBalancesRequest>(f);
  req.set_date(f.date.empty() ? f.date : Date("--date", f.date));
  Call(ctl, &Stub::GetBalances, req, PrintBalances);
}

void CheckLedger(Ctl& ctl, const Flags& f) {
  auto req = CityRequest<v1::CheckLedgerRequest>(f);
  if (!Call(ctl, &Stub::CheckLedger, req, PrintCheck).balanced()) throw CLI::RuntimeError(1);
}

void Payables(Ctl& ctl, const Flags& f) {
  auto req = CityRequest<v1::GetPayablesRequest>(f);
  req.set_from_date(Date("--from", f.from));
  req.set_to_date(Date("--to", f.to));
  if (!f.funder.empty()) req.set_funder(ParseFunder(f.funder, kPayingFunders));
  req.set_merchant_id(f.merchant);
  Call(ctl, &Stub::GetPayables, req, PrintPayables);
}

void Payout(Ctl& ctl, const Flags& f) {
  auto req = CityRequest<v1::RecordPayoutRequest>(f);
  req.set_funder(ParseFunder(f.funder, kPayingFunders));
  req.set_merchant_id(f.merchant);
  req.set_amount_fen(PayoutFen(f.amount));
  req.set_bank_reference(f.reference);
  req.set_request_id(ctl.RequestId("payout"));
  Call(ctl, &Stub::RecordPayout, req, [](const v1::Payout& p) {
    PrintTable({kPayoutHead, PayoutRow(p)});
  });
}

void Payouts(Ctl& ctl, const Flags& f) {
  auto req = CityRequest<v1::ListPayoutsRequest>(f);
  req.set_merchant_id(f.merchant);
  Call(ctl, &Stub::ListPayouts, req, PrintPayouts);
}

constexpr char kFunderHelp[] = "BANK, UNION or MERCHANT";

void AddReconcileCommands(CLI::App* s, Ctl& ctl) {
  Command import(s, "import",
                 "match the bank's answer file for a closed day against our statement (differences "
                 "do not make it fail; resolve them one by one)");
  import.Date().Option("--funder", import.f->funder, kFunderHelp);
  import.Option("FILE", import.f->file, "the bank's file, in the statement's format")
      .Runs(ctl, Import);

  Command diffs(s, "differences", "an imported file's differences and how each was resolved");
  diffs.Date().Option("--funder", diffs.f->funder, kFunderHelp).Runs(ctl, Differences);

  Command resolve(s, "resolve", "resolve one difference, with the reason agreed");
  resolve.Date().Option("--funder", resolve.f->funder, kFunderHelp);
  resolve.app->add_option("--difference", resolve.f->difference, "its id (settlement differences)")
      ->required();
  resolve.Option("--resolution", resolve.f->resolution, "ours, banks or written-off");
  resolve.Option("--reason", resolve.f->reason, "what was found and agreed (for the record)")
      .Runs(ctl, Resolve);
}

void AddMoneyCommands(CLI::App* s, Ctl& ctl) {
  Command balances(s, "balances", "every account's balance: now, or at the close of a day");
  balances.Date("a closed day, YYYYMMDD: its closing balances (default: now)", false)
      .Runs(ctl, Balances);

  Command check(s, "check",
                "recompute every balance and check the ledger sums to zero (exit 1 if not)");
  check.Runs(ctl, CheckLedger);

  Command payables(s, "payables", "what each funder owes each merchant over closed days");
  payables.Option("--from", payables.f->from, "first day, YYYYMMDD")
      .Option("--to", payables.f->to, "last day, YYYYMMDD (at most 366 days)")
      .Option("--funder", payables.f->funder, "only BANK or UNION", false)
      .Option("--merchant", payables.f->merchant, "only this merchant", false)
      .Runs(ctl, Payables);

  Command payout(s, "payout",
                 "record that a funder paid a merchant (to retry, give the same --request-id)");
  payout.Option("--funder", payout.f->funder, "BANK or UNION")
      .Option("--merchant", payout.f->merchant, "the merchant paid")
      .Option("--amount", payout.f->amount, "yuan, e.g. 1200 or 1200.50")
      .Option("--reference", payout.f->reference, "the transfer's reference at the bank")
      .Runs(ctl, Payout);

  Command payouts(s, "payouts", "the payouts recorded");
  payouts.Option("--merchant", payouts.f->merchant, "only this merchant's", false)
      .Runs(ctl, Payouts);
}

}  // namespace

void AddSettlementCommands(CLI::App& app, Ctl& ctl) {
  auto* s = app.add_subcommand(
      "settlement", "who owes whom: close business days, statements, bank files, payouts");
  s->require_subcommand(1);
  Command(s, "close",
          "close a business day that has ended, and any earlier day still open; its statements "
          "are then fixed")
      .Date()
      .Runs(ctl, CloseDay);
  Command(s, "day", "a business day: its state and its funders' statements")
      .Date()
      .Runs(ctl, GetDay);
  Command statement(s, "statement", "write a closed day's statement (CSV) to a file, checked");
  statement.Date()
      .Option("--funder", statement.f->funder, "a funder's statement: BANK, UNION or MERCHANT",
              false)
      .Option("--merchant", statement.f->merchant, "or a merchant's", false)
      .Option("--out", statement.f->out, "the file (default: its own name, here; - for stdout)",
              false)
      .Runs(ctl, Statement);
  AddReconcileCommands(s, ctl);
  AddMoneyCommands(s, ctl);
}

}  // namespace perks::tools
