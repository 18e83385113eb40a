// perks-card: the card service alone, for deployments that run one process per service.
#include "CLI/CLI.hpp"
#include "services/perkd/server.h"

int main(int argc, char** argv) {
  perks::ServerOptions options;
  options.listen = "127.0.0.1:7401";
  options.services = {"card"};
  CLI::App app{"perks-card: the card service in its own process"};
  app.add_option("--listen", options.listen, "host:port to serve on")->capture_default_str();
  app.add_option("--data-dir", options.data_dir, "where the service keeps its database")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return perks::ServeUntilSignalled(options, absl::Seconds(10), "perks-card");
}
