// perks-merchant: the merchant service, with the auth service (who may call), for deployments that
// run one process per service.
#include "services/perkd/cli.h"

int main(int argc, char** argv) {
  return perks::ServerMain({.name = "perks-merchant",
                            .description = "perks-merchant: the merchant service, with the auth "
                                           "service (who may call) in its own process",
                            .services = {"merchant", "auth"},
                            .listen = "127.0.0.1:7402"},
                           argc, argv);
}
