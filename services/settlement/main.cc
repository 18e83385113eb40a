// perks-settlement: the settlement service, for deployments that run one process per service.
#include "services/perkd/cli.h"

int main(int argc, char** argv) {
  return perks::ServerMain(
      {.name = "perks-settlement",
       .description = "perks-settlement: the settlement service in its own process",
       .services = {"settlement"},
       .listen = "127.0.0.1:7405"},
      argc, argv);
}
