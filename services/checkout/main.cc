// perks-checkout: the checkout service, for deployments that run one process per service.
#include "services/perkd/cli.h"

int main(int argc, char** argv) {
  return perks::ServerMain(
      {.name = "perks-checkout",
       .description = "perks-checkout: the checkout service in its own process",
       .services = {"checkout"},
       .listen = "127.0.0.1:7404"},
      argc, argv);
}
