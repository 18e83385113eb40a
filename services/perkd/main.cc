// perkd: every Perks service in one process, each with its own RocksDB under --data-dir.
#include "CLI/CLI.hpp"
#include "services/perkd/server.h"

int main(int argc, char** argv) {
  perks::ServerOptions options;
  int grace_s = 10;
  int64_t cache_mib = options.cache_bytes >> 20;
  CLI::App app{"perkd: the Perks server, every service in one process"};
  app.add_option("--listen", options.listen, "host:port to serve on; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--data-dir", options.data_dir, "where each service keeps its database")
      ->capture_default_str();
  app.add_option("--services", options.services, "which services to run")->capture_default_str();
  app.add_option("--max-message-bytes", options.message_bytes_max, "largest request accepted")
      ->capture_default_str();
  app.add_option("--max-concurrent-streams", options.concurrent_streams_max,
                 "concurrent calls per connection")
      ->capture_default_str();
  app.add_option("--shutdown-grace-seconds", grace_s,
                 "how long in-flight calls may take to finish on SIGTERM/SIGINT")
      ->capture_default_str();
  app.add_option("--cache-mib", cache_mib, "block cache of each service's database, MiB")
      ->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert_file,
                 "PEM certificate (chain) for TLS on --listen; with --tls-key");
  app.add_option("--tls-key", options.tls_key_file, "PEM private key of --tls-cert");
  app.add_option("--crash-at", options.crash_at,
                 "test hook: end the process, as a crash, when this step is reached")
      ->group("");  // not for operators: hidden from --help
  app.set_config("--config", "", "read these options from a file (key = value lines, TOML)");
  CLI11_PARSE(app, argc, argv);
  options.cache_bytes = cache_mib << 20;
  return perks::ServeUntilSignalled(options, absl::Seconds(grace_s), "perkd");
}
