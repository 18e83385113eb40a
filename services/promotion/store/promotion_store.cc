#include "services/promotion/store/promotion_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/audit.h"
#include "services/common/records.h"
#include "services/promotion/domain/spec.h"
#include "services/promotion/store/promotion_keys.h"

namespace perks::promotion {
namespace {

using perks::storage::v1::CampaignRecord;
using perks::storage::v1::CampaignVersionRecord;

absl::Status NotFound(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("no campaign ", id, " in your city; perkctl campaign list shows them"));
}

perks::v1::Campaign ToApi(const CampaignRecord& rec, int64_t now_ms) {
  perks::v1::Campaign c;
  c.set_campaign_id(rec.campaign_id());
  c.set_tenant_id(rec.tenant_id());
  c.set_state(StateOf(rec, now_ms));
  *c.mutable_draft() = rec.draft();
  c.set_published_version(rec.published_version());
  c.set_published_sha256(rec.published_sha256());
  c.set_draft_differs(rec.published_version() == 0 ||
                      SpecSha256(rec.draft()) != rec.published_sha256());
  c.set_created_at_unix_ms(rec.created_at_unix_ms());
  c.set_updated_at_unix_ms(rec.updated_at_unix_ms());
  return c;
}

}  // namespace

perks::v1::CampaignState StateOf(const CampaignRecord& rec, int64_t now_ms) {
  if (rec.ended()) return perks::v1::CAMPAIGN_STATE_ENDED;
  if (rec.published_version() == 0) return perks::v1::CAMPAIGN_STATE_DRAFT;
  if (rec.paused()) return perks::v1::CAMPAIGN_STATE_PAUSED;
  if (now_ms >= EndsAtMs(rec.published())) return perks::v1::CAMPAIGN_STATE_ENDED;
  if (now_ms < StartsAtMs(rec.published())) return perks::v1::CAMPAIGN_STATE_SCHEDULED;
  return perks::v1::CAMPAIGN_STATE_ACTIVE;
}

std::vector<std::string> PromotionStore::ColumnFamilies() {
  return {"campaigns", "versions", "idempotency", kAuditFamily, "reservations", "usage"};
}

PromotionStore::PromotionStore(storage::Db* db)
    : db_(db),
      campaigns_(db->Family("campaigns")),
      versions_(db->Family("versions")),
      idempotency_(db->Family("idempotency")) {}

template <typename Reader>
absl::StatusOr<CampaignRecord> PromotionStore::Load(Reader& r, const std::string& id,
                                                    const std::string& tenant_id) const {
  auto rec = GetRecord<CampaignRecord>(r, campaigns_, keys::Campaign(id));
  if (!rec.ok()) return rec.status();
  if (!rec->has_value() || (!tenant_id.empty() && (*rec)->tenant_id() != tenant_id)) {
    return NotFound(id);
  }
  return std::move(**rec);
}

absl::Status PromotionStore::Apply(storage::Txn& txn, const perks::v1::CampaignSpec& spec,
                                   const Mutation& m, perks::v1::Campaign* out) {
  auto existing = GetRecord<CampaignRecord>(txn, campaigns_, keys::Campaign(spec.campaign_id()));
  if (!existing.ok()) return existing.status();
  CampaignRecord rec;
  if (existing->has_value()) {
    rec = std::move(**existing);
    if (rec.tenant_id() != spec.tenant_id()) {
      // Another city's campaign of that id: to this caller it does not exist, and ids are global.
      return m.tenant_id.empty()
                 ? absl::FailedPreconditionError(absl::StrCat(
                       "campaign ", spec.campaign_id(), " belongs to ", rec.tenant_id(),
                       "; a campaign cannot move to another city, choose another campaign_id"))
                 : absl::AlreadyExistsError(absl::StrCat("the campaign_id ", spec.campaign_id(),
                                                         " is taken; choose another"));
    }
    if (rec.ended()) {
      return absl::FailedPreconditionError(
          absl::StrCat("campaign ", spec.campaign_id(),
                       " has ended and cannot change; give a new campaign another campaign_id"));
    }
  } else {
    rec.set_campaign_id(spec.campaign_id());
    rec.set_tenant_id(spec.tenant_id());
    rec.set_created_at_unix_ms(m.now_unix_ms);
    txn.Put(campaigns_, keys::ByTenant(spec.tenant_id(), spec.campaign_id()).bytes(), "");
  }
  *rec.mutable_draft() = spec;
  rec.set_updated_at_unix_ms(m.now_unix_ms);
  txn.Put(campaigns_, keys::Campaign(spec.campaign_id()).bytes(), rec.SerializeAsString());
  *out = ToApi(rec, m.now_unix_ms);
  return absl::OkStatus();
}

absl::Status PromotionStore::Publish(storage::Txn& txn,
                                     const perks::v1::PublishCampaignRequest& req,
                                     const Mutation& m, perks::v1::Campaign* out) {
  auto rec = Load(txn, req.campaign_id(), m.tenant_id);
  if (!rec.ok()) return rec.status();
  if (rec->ended()) {
    return absl::FailedPreconditionError(
        absl::StrCat("campaign ", req.campaign_id(), " has ended; it cannot be published again"));
  }
  std::string sha = SpecSha256(rec->draft());
  if (!req.expect_sha256().empty() && req.expect_sha256() != sha) {
    return absl::FailedPreconditionError(
        absl::StrCat("the draft changed since it was reviewed (its hash is now ", sha.substr(0, 12),
                     "…); preview it again before publishing"));
  }
  if (rec->published_version() > 0 && sha == rec->published_sha256()) {
    return absl::FailedPreconditionError(absl::StrCat("nothing to publish: the draft is version ",
                                                      rec->published_version(),
                                                      "; apply a changed file first"));
  }
  perks::v1::CampaignVersion version;
  version.set_campaign_id(rec->campaign_id());
  version.set_version(rec->published_version() + 1);
  *version.mutable_spec() = rec->draft();
  version.set_content_sha256(sha);
  version.set_published_at_unix_ms(m.now_unix_ms);
  version.set_published_by(m.actor);
  CampaignVersionRecord vrec;
  *vrec.mutable_version() = version;
  txn.Put(versions_, keys::Version(rec->campaign_id(), version.version()).bytes(),
          vrec.SerializeAsString());
  rec->set_published_version(version.version());
  rec->set_published_sha256(sha);
  *rec->mutable_published() = rec->draft();
  rec->set_updated_at_unix_ms(m.now_unix_ms);
  txn.Put(campaigns_, keys::Campaign(rec->campaign_id()).bytes(), rec->SerializeAsString());
  *out = ToApi(*rec, m.now_unix_ms);
  return absl::OkStatus();
}

absl::Status PromotionStore::SetState(storage::Txn& txn,
                                      const perks::v1::SetCampaignStateRequest& req,
                                      const Mutation& m, perks::v1::Campaign* out) {
  auto rec = Load(txn, req.campaign_id(), m.tenant_id);
  if (!rec.ok()) return rec.status();
  perks::v1::CampaignState state = StateOf(*rec, m.now_unix_ms);
  auto refuse = [&](const char* what) {
    return absl::FailedPreconditionError(absl::StrCat(
        "campaign ", req.campaign_id(), " is ", perks::v1::CampaignState_Name(state), ": ", what));
  };
  switch (req.action()) {
    case perks::v1::CAMPAIGN_ACTION_PAUSE:
      if (state == perks::v1::CAMPAIGN_STATE_DRAFT) return refuse("publish it first");
      if (state == perks::v1::CAMPAIGN_STATE_ENDED) return refuse("an ended campaign stays ended");
      if (rec->paused()) return refuse("it is already paused");
      rec->set_paused(true);
      break;
    case perks::v1::CAMPAIGN_ACTION_RESUME:
      if (!rec->paused() || rec->ended()) return refuse("only a paused campaign resumes");
      rec->set_paused(false);
      break;
    case perks::v1::CAMPAIGN_ACTION_END:
      if (rec->ended()) return refuse("it has already ended");
      rec->set_ended(true);
      break;
    default:
      return absl::InvalidArgumentError("action: CAMPAIGN_ACTION_PAUSE, _RESUME or _END");
  }
  rec->set_state_reason(req.reason());
  rec->set_updated_at_unix_ms(m.now_unix_ms);
  txn.Put(campaigns_, keys::Campaign(rec->campaign_id()).bytes(), rec->SerializeAsString());
  *out = ToApi(*rec, m.now_unix_ms);
  return absl::OkStatus();
}

absl::StatusOr<perks::v1::Campaign> PromotionStore::Get(const std::string& id,
                                                        const std::string& tenant_id,
                                                        int64_t now_ms) const {
  auto rec = Load(*db_, id, tenant_id);
  if (!rec.ok()) return rec.status();
  return ToApi(*rec, now_ms);
}

absl::Status PromotionStore::List(const std::string& tenant_id, int64_t now_ms,
                                  perks::v1::ListCampaignsResponse* out) const {
  storage::Key prefix = keys::ByTenantPrefix(tenant_id);
  std::vector<std::string> ids;
  auto n = db_->Scan(campaigns_, prefix.bytes(), prefix.PrefixEnd(), kCampaignsListedMax,
                     [&](std::string_view key, std::string_view) {
                       storage::KeyReader r(key);
                       std::string kind, tenant, id;
                       if (r.Str(&kind) && r.Str(&tenant) && r.Str(&id)) ids.push_back(id);
                       return true;
                     });
  if (!n.ok()) return n.status();
  for (const std::string& id : ids) {
    auto c = Get(id, tenant_id, now_ms);
    if (!c.ok()) return c.status();
    *out->add_campaigns() = std::move(*c);
  }
  return absl::OkStatus();
}

absl::StatusOr<perks::v1::CampaignVersion> PromotionStore::GetVersion(
    const std::string& id, int32_t version, const std::string& tenant_id) const {
  auto rec = Load(*db_, id, tenant_id);
  if (!rec.ok()) return rec.status();
  int32_t v = version == 0 ? rec->published_version() : version;
  if (v <= 0 || v > rec->published_version()) {
    return absl::NotFoundError(absl::StrCat(
        "campaign ", id, " has versions 1 to ", rec->published_version(), "; there is no version ",
        version == 0 ? std::string("published") : std::to_string(v)));
  }
  auto vrec = GetRecord<CampaignVersionRecord>(*db_, versions_, keys::Version(id, v));
  if (!vrec.ok()) return vrec.status();
  if (!vrec->has_value()) {
    return absl::DataLossError(absl::StrCat("version ", v, " of ", id, " is missing"));
  }
  return std::move(*(*vrec)->mutable_version());
}

absl::StatusOr<std::vector<RuleSet::Input>> PromotionStore::Published() const {
  std::vector<RuleSet::Input> out;
  absl::Status s = ScanEach(
      *db_, campaigns_, keys::CampaignPrefix().bytes(), keys::CampaignPrefix().PrefixEnd(),
      [&](std::string_view, std::string_view value) {
        CampaignRecord rec;
        if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return absl::DataLossError("a stored campaign is unreadable; restore from a backup");
        }
        if (rec.published_version() == 0) return absl::OkStatus();
        RuleSet::Input in;
        in.version.set_campaign_id(rec.campaign_id());
        in.version.set_version(rec.published_version());
        in.version.set_content_sha256(rec.published_sha256());
        *in.version.mutable_spec() = rec.published();
        in.paused = rec.paused();
        in.ended = rec.ended();
        out.push_back(std::move(in));
        return absl::OkStatus();
      });
  if (!s.ok()) return s;
  return out;
}

}  // namespace perks::promotion
