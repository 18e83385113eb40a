#include "services/settlement/domain/reconcile.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/money.h"
#include "services/common/personal.h"

namespace perks::settlement {
namespace {

constexpr size_t kDetailFields = 14;  // "D" and the 13 columns

absl::Status LineError(size_t n, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("line ", n, ": ", what));
}

}  // namespace

absl::StatusOr<std::vector<BankLine>> ParseBankFile(std::string_view csv,
                                                    const std::string& tenant_id,
                                                    const std::string& date,
                                                    const std::string& funder) {
  std::vector<BankLine> out;
  Sha256Stream sha;
  int64_t total_fen = 0;
  bool header = false, trailer = false;
  size_t n = 0;
  for (absl::string_view line : absl::StrSplit(absl::string_view(csv.data(), csv.size()), '\n')) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (n == 1) return LineError(n, "the file is empty; send the bank's answer file for the day");
      continue;  // the newline after the last line, or blank lines
    }
    if (trailer) return LineError(n, "there is more after the trailer line (T,...)");
    if (n > kBankFileLinesMax) {
      return LineError(n, absl::StrCat("the file has more than ", kBankFileLinesMax,
                                       " lines; split it per funder and day"));
    }
    if (line.find('"') != absl::string_view::npos) {
      return LineError(n, "a quoted field; this file's fields are never quoted");
    }
    std::vector<absl::string_view> f = absl::StrSplit(line, ',');
    if (!header) {
      if (f.size() != 6 || f[0] != "H" || f[1] != "PERKS-STATEMENT" || f[2] != "1") {
        return LineError(n,
                         "the file must start with its header, H,PERKS-STATEMENT,1,<city>,"
                         "<YYYYMMDD>,<funder>");
      }
      if (f[3] != tenant_id || f[4] != date || f[5] != funder) {
        return LineError(
            n, absl::StrCat("the file is for ", f[3], " ", f[4], " ", f[5], ", not for ", tenant_id,
                            " ", date, " ", funder, "; import it for its own day and funder"));
      }
      header = true;
      continue;
    }
    if (f[0] == "C") continue;  // the column names
    if (f[0] == "T") {
      int64_t lines = 0, sum_fen = 0;
      if (f.size() != 4 || !absl::SimpleAtoi(f[1], &lines) || !absl::SimpleAtoi(f[2], &sum_fen)) {
        return LineError(n, "the trailer is T,<lines>,<total_fen>,<sha256>");
      }
      if (lines != static_cast<int64_t>(out.size())) {
        return LineError(n, absl::StrCat("the trailer counts ", lines, " lines but the file has ",
                                         out.size(), "; was the file cut short or edited?"));
      }
      if (sum_fen != total_fen) {
        return LineError(n, absl::StrCat("the trailer's total is ", sum_fen,
                                         " fen but the lines sum to ", total_fen));
      }
      if (f[3] != sha.HexDigest()) {
        return LineError(n,
                         "the trailer's SHA-256 does not match the lines; was the file edited "
                         "after it was written?");
      }
      trailer = true;
      continue;
    }
    if (f[0] != "D") {
      return LineError(n, absl::StrCat("a line starts with H, C, D or T, not \"", f[0], "\""));
    }
    if (f.size() != kDetailFields) {
      return LineError(
          n, absl::StrCat("a detail line has ", kDetailFields, " fields; this one has ", f.size()));
    }
    BankLine b;
    b.line_number = static_cast<int32_t>(n);
    b.reference = std::string(f[1]);
    if (b.reference.empty()) return LineError(n, "the reference (column 2) is empty");
    if (!absl::SimpleAtoi(f[13], &b.share_fen) || b.share_fen > kAmountFenMax ||
        b.share_fen < -kAmountFenMax) {
      return LineError(
          n, absl::StrCat("share_fen (column 14) is a whole number of fen; got \"", f[13], "\""));
    }
    if (f[11] != funder) {
      return LineError(n,
                       absl::StrCat("the line is for funder ", f[11], " in a file for ", funder));
    }
    total_fen += b.share_fen;
    sha.Update(std::string_view(line.data(), line.size()));
    sha.Update("\n");
    out.push_back(std::move(b));
  }
  if (!header) return LineError(1, "the file is empty; send the bank's answer file for the day");
  if (!trailer) {
    return LineError(n,
                     "the file ends without its trailer line (T,<lines>,<total_fen>,<sha256>); "
                     "was it cut short?");
  }
  return out;
}

void Reconcile(const std::vector<OurLine>& ours, const std::vector<BankLine>& bank,
               perks::v1::Reconciliation* out) {
  absl::flat_hash_map<std::string, std::vector<const BankLine*>> theirs;
  for (const BankLine& b : bank) theirs[b.reference].push_back(&b);
  absl::flat_hash_map<std::string, int64_t> our_fen;
  for (const OurLine& o : ours) our_fen[o.reference] = o.share_fen;

  int32_t next_id = 1;
  auto add = [&](perks::v1::DifferenceKind kind, const std::string& reference, int64_t our,
                 int64_t their, const std::vector<const BankLine*>& lines) {
    perks::v1::Difference* d = out->add_differences();
    d->set_difference_id(next_id++);
    d->set_kind(kind);
    d->set_reference(reference);
    d->set_our_fen(our);
    d->set_bank_fen(their);
    for (const BankLine* b : lines) d->add_bank_lines(b->line_number);
  };
  // A reference twice or more in the bank's file: the extra lines are one difference.
  auto duplicates = [&](const std::string& reference, int64_t our,
                        const std::vector<const BankLine*>& lines) {
    if (lines.size() < 2) return;
    int64_t extra_fen = 0;
    for (size_t i = 1; i < lines.size(); ++i) extra_fen += lines[i]->share_fen;
    add(perks::v1::DIFFERENCE_DUPLICATED, reference, our, extra_fen, lines);
  };

  int64_t matched = 0, our_total = 0, bank_total = 0;
  for (const OurLine& o : ours) {
    our_total += o.share_fen;
    auto it = theirs.find(o.reference);
    if (it == theirs.end()) {
      add(perks::v1::DIFFERENCE_ONLY_OURS, o.reference, o.share_fen, 0, {});
      continue;
    }
    const BankLine& first = *it->second.front();
    if (first.share_fen != o.share_fen) {
      add(perks::v1::DIFFERENCE_AMOUNT_DIFFERS, o.reference, o.share_fen, first.share_fen,
          {&first});
    } else if (it->second.size() == 1) {
      ++matched;
    }
    duplicates(o.reference, o.share_fen, it->second);
  }
  for (const BankLine& b : bank) {
    bank_total += b.share_fen;
    if (our_fen.contains(b.reference)) continue;
    const auto& lines = theirs[b.reference];
    if (lines.front() != &b) continue;  // reported at its first line
    add(perks::v1::DIFFERENCE_ONLY_BANKS, b.reference, 0, b.share_fen, {&b});
    duplicates(b.reference, 0, lines);
  }
  out->set_our_lines(static_cast<int64_t>(ours.size()));
  out->set_bank_lines(static_cast<int64_t>(bank.size()));
  out->set_matched_lines(matched);
  out->set_our_total_fen(our_total);
  out->set_bank_total_fen(bank_total);
  out->set_unresolved(out->differences_size());
}

}  // namespace perks::settlement
