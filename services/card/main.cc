// perks-card: the card service, for deployments that run one process per service.
#include "services/perkd/cli.h"

int main(int argc, char** argv) {
  return perks::ServerMain({.name = "perks-card",
                            .description = "perks-card: the card service in its own process",
                            .services = {"card"},
                            .listen = "127.0.0.1:7401"},
                           argc, argv);
}
