// perks-promotion: the promotion service, for deployments that run one process per service.
#include "services/perkd/cli.h"

int main(int argc, char** argv) {
  return perks::ServerMain(
      {.name = "perks-promotion",
       .description = "perks-promotion: the promotion service in its own process",
       .services = {"promotion"},
       .listen = "127.0.0.1:7403"},
      argc, argv);
}
