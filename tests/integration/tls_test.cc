// TLS on the listening port when a certificate is configured: a client trusting the certificate
// gets answers, a plain-text client gets none.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <fstream>

#include "gtest/gtest.h"
#include "perks/v1/auth.grpc.pb.h"
#include "services/common/clock.h"
#include "services/perkd/server.h"
#include "storage/test_dir.h"
#include "tools/common/client.h"

namespace perks {
namespace {

struct Pem {
  std::string cert;
  std::string key;
};

std::string ToPem(const std::function<int(BIO*)>& write) {
  BIO* bio = BIO_new(BIO_s_mem());
  write(bio);
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(size));
  BIO_free(bio);
  return out;
}

// A self-signed certificate for localhost and 127.0.0.1, valid for a day: its own CA.
Pem SelfSigned() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());
  Pem pem{ToPem([x](BIO* b) { return PEM_write_bio_X509(b, x); }), ToPem([key](BIO* b) {
            return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
          })};
  X509_free(x);
  EVP_PKEY_free(key);
  return pem;
}

TEST(TlsTest, ServerWithACertificateAnswersOnlyOverTls) {
  storage::TestDir dir;
  Pem pem = SelfSigned();
  ASSERT_NE(pem.cert.find("BEGIN CERTIFICATE"), std::string::npos);
  std::string cert = dir.path() + "/perkd.crt", key = dir.path() + "/perkd.key";
  std::ofstream(cert) << pem.cert;
  std::ofstream(key) << pem.key;

  ManualClock clock(absl::FromUnixSeconds(1'790'000'000));
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = dir.path() + "/data";
  o.clock = &clock;
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  auto server = Server::Start(o);
  ASSERT_TRUE(server.ok()) << server.status();
  std::string address = "127.0.0.1:" + std::to_string((*server)->port());

  perks::v1::AuthenticateRequest req;
  req.set_bearer_token((*server)->bootstrap_token());
  perks::v1::Caller who;
  auto tls = tools::MakeChannel(address, cert);  // the certificate is its own CA
  ASSERT_TRUE(tls.ok()) << tls.status();
  grpc::Status s = perks::v1::AuthService::NewStub(*tls)->Authenticate(
      tools::MakeContext(absl::Seconds(30)).get(), req, &who);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(who.role(), perks::v1::ROLE_INSTALLATION_ADMIN);

  auto plain = tools::MakeChannel(address);
  perks::v1::Caller none;
  s = perks::v1::AuthService::NewStub(plain)->Authenticate(
      tools::MakeContext(absl::Seconds(5)).get(), req, &none);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(none.role(), perks::v1::ROLE_UNSPECIFIED);
}

TEST(TlsTest, CertificateWithoutItsKeyIsRefusedAtStart) {
  storage::TestDir dir;
  std::string cert = dir.path() + "/perkd.crt";
  std::ofstream(cert) << SelfSigned().cert;
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.data_dir = dir.path() + "/data";
  o.tls_cert_file = cert;
  auto server = Server::Start(o);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(server.status().message().find("key"), std::string::npos);
}

}  // namespace
}  // namespace perks
