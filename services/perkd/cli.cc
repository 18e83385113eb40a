#include "services/perkd/cli.h"

#include <iostream>

#include "CLI/CLI.hpp"
#include "services/perkd/server.h"

namespace perks {

int ServerMain(const ServerProgram& program, int argc, char** argv) {
  ServerOptions options;
  options.listen = program.listen;
  options.services = program.services;
  int grace_s = 10;
  int64_t cache_mib = options.cache_bytes >> 20;
  std::vector<std::string> peers;
  CLI::App app{program.description, program.name};
  app.add_option("--listen", options.listen, "host:port to serve on; port 0 picks a free one")
      ->capture_default_str();
  app.add_option("--data-dir", options.data_dir,
                 "where each service keeps its database (<data-dir>/<service>/)")
      ->capture_default_str();
  app.add_option("--services", options.services, "which services to run")->capture_default_str();
  app.add_option("--peer", peers,
                 "where a service this process does not run answers, as SERVICE=HOST:PORT "
                 "(e.g. --peer card=10.0.0.5:7401); once per service it needs");
  app.add_option("--peer-tls-ca", options.peer_tls_ca_file,
                 "PEM certificate of the CA that signed the peers' certificates: TLS to them");
  app.add_option("--secrets-dir", options.secrets_dir,
                 "the installation's keys, the same for all its processes (default: "
                 "<data-dir>/secrets)");
  app.add_option("--max-message-bytes", options.message_bytes_max, "largest request accepted")
      ->capture_default_str();
  app.add_option("--max-concurrent-streams", options.concurrent_streams_max,
                 "concurrent calls per connection")
      ->capture_default_str();
  app.add_option("--max-in-flight", options.in_flight_max,
                 "calls from outside each service works on at once; more are refused with "
                 "RESOURCE_EXHAUSTED at once (0: no bound)")
      ->capture_default_str();
  app.add_option("--shutdown-grace-seconds", grace_s,
                 "how long in-flight calls may take to finish on SIGTERM/SIGINT")
      ->capture_default_str();
  app.add_option("--cache-mib", cache_mib, "block cache of each service's database, MiB")
      ->capture_default_str();
  app.add_option("--metrics-listen", options.metrics_listen,
                 "host:port where Prometheus scrapes /metrics (port 0 picks one); default: none");
  app.add_option("--tls-cert", options.tls_cert_file,
                 "PEM certificate (chain) for TLS on --listen; with --tls-key");
  app.add_option("--tls-key", options.tls_key_file, "PEM private key of --tls-cert");
  app.add_option("--crash-at", options.crash_at,
                 "test hook: end the process, as a crash, when this step is reached")
      ->group("");  // not for operators: hidden from --help
  app.set_config("--config", "", "read these options from a file (key = value lines, TOML)");
  CLI11_PARSE(app, argc, argv);
  for (const std::string& peer : peers) {
    const size_t eq = peer.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == peer.size()) {
      std::cerr << program.name << ": --peer " << peer
                << " is not SERVICE=HOST:PORT (e.g. --peer card=10.0.0.5:7401)\n";
      return 2;
    }
    options.peers[peer.substr(0, eq)] = peer.substr(eq + 1);
  }
  options.cache_bytes = cache_mib << 20;
  return ServeUntilSignalled(options, absl::Seconds(grace_s), program.name);
}

}  // namespace perks
