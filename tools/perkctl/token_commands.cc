// perkctl's token commands: make, list and revoke API tokens, and say who a token is.
#include "absl/strings/ascii.h"
#include "perks/v1/auth.grpc.pb.h"
#include "services/auth/domain/auth_rules.h"
#include "tools/perkctl/ctl.h"

namespace perks::tools {
namespace {

std::string RoleOf(v1::Role r) { return std::string(auth::RoleName(r)); }

void PrintToken(const v1::ApiToken& t) {
  const auto& c = t.caller();
  PrintTable({{"token", t.token_id()},
              {"holder", c.name()},
              {"role", RoleOf(c.role())},
              {"city", c.tenant_id().empty() ? "every city" : c.tenant_id()},
              {"bank", c.bank_id().empty() ? "-" : c.bank_id()},
              {"merchant", c.merchant_id().empty() ? "-" : c.merchant_id()},
              {"made", Time(t.created_at_unix_ms()) + " by " + t.created_by()},
              {"revoked", Time(t.revoked_at_unix_ms())}});
}

}  // namespace

void AddTokenCommands(CLI::App& app, Ctl& ctl) {
  auto* tokens = app.add_subcommand("tokens", "API tokens for people and back offices");
  tokens->require_subcommand(1);

  auto* create = tokens->add_subcommand(
      "create", "make a token; it is printed once: hand it over in a file, never by chat");
  auto caller = std::make_shared<v1::Caller>();
  auto role = std::make_shared<std::string>();
  create
      ->add_option("--role", *role,
                   "union_admin, bank_operator, merchant_manager or installation_admin")
      ->required();
  create
      ->add_option_function<std::string>(
          "--name", [caller](const std::string& v) { caller->set_name(v); }, "who holds it")
      ->required();
  create->add_option_function<std::string>(
      "--city", [caller](const std::string& v) { caller->set_tenant_id(v); },
      "the city federation");
  create->add_option_function<std::string>(
      "--bank", [caller](const std::string& v) { caller->set_bank_id(v); },
      "bank operators: the bank");
  create->add_option_function<std::string>(
      "--merchant", [caller](const std::string& v) { caller->set_merchant_id(v); },
      "merchant managers: the merchant id");
  create->callback([&ctl, caller, role] {
    v1::Role r;
    if (!v1::Role_Parse("ROLE_" + absl::AsciiStrToUpper(*role), &r) || r == v1::ROLE_TERMINAL ||
        r == v1::ROLE_UNSPECIFIED) {
      std::cerr << "perkctl: --role must be union_admin, bank_operator, merchant_manager or "
                   "installation_admin\n";
      throw CLI::RuntimeError(2);
    }
    caller->set_role(r);
    v1::CreateTokenRequest req;
    req.set_request_id(ctl.RequestId("token"));
    *req.mutable_caller() = *caller;
    v1::CreatedToken resp;
    auto stub = v1::AuthService::NewStub(ctl.channel("auth"));
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::CreatedToken>(stub->CreateToken(ctx.get(), req, &resp), resp,
                                     [](const v1::CreatedToken& t) {
                                       PrintToken(t.token());
                                       std::cout << "\n"
                                                 << t.secret_token() << "\n\n"
                                                 << "This is the only time the token is shown. "
                                                    "Save it to a file only its holder can read "
                                                    "(chmod 600) and use --token-file.\n";
                                     }));
  });

  auto* list = tokens->add_subcommand("list", "tokens of a city");
  auto city = std::make_shared<std::string>();
  list->add_option("--city", *city, "the city federation (installation admins: omit for all)");
  list->callback([&ctl, city] {
    v1::ListTokensRequest req;
    req.set_tenant_id(*city);
    v1::ListTokensResponse resp;
    auto stub = v1::AuthService::NewStub(ctl.channel("auth"));
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::ListTokensResponse>(
        stub->ListTokens(ctx.get(), req, &resp), resp, [](const v1::ListTokensResponse& r) {
          std::vector<std::vector<std::string>> rows = {
              {"TOKEN", "HOLDER", "ROLE", "CITY", "SCOPE", "REVOKED"}};
          for (const auto& t : r.tokens()) {
            const auto& c = t.caller();
            rows.push_back({t.token_id(), c.name(), RoleOf(c.role()), c.tenant_id(),
                            c.merchant_id().empty() ? c.bank_id() : c.merchant_id(),
                            Time(t.revoked_at_unix_ms())});
          }
          PrintTable(rows);
        }));
  });

  auto* revoke = tokens->add_subcommand("revoke", "revoke a token for good");
  auto id = std::make_shared<std::string>();
  revoke->add_option("id", *id, "token id (the part after pk.)")->required();
  revoke->callback([&ctl, id] {
    v1::RevokeTokenRequest req;
    req.set_request_id(ctl.RequestId("revoke-token"));
    req.set_token_id(*id);
    v1::ApiToken resp;
    auto stub = v1::AuthService::NewStub(ctl.channel("auth"));
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::ApiToken>(stub->RevokeToken(ctx.get(), req, &resp), resp, PrintToken));
  });

  auto* whoami = app.add_subcommand("whoami", "who your API token says you are");
  whoami->callback([&ctl] {
    v1::AuthenticateRequest req;
    req.set_bearer_token(ctl.token());
    v1::Caller resp;
    auto stub = v1::AuthService::NewStub(ctl.channel("auth"));
    auto ctx = ctl.Context();
    Check(ctl.Done<v1::Caller>(stub->Authenticate(ctx.get(), req, &resp), resp,
                               [](const v1::Caller& c) {
                                 std::cout << c.name() << ", " << RoleOf(c.role())
                                           << (c.tenant_id().empty() ? "" : " of " + c.tenant_id())
                                           << " (token " << c.token_id() << ")\n";
                               }));
  });
}

}  // namespace perks::tools
