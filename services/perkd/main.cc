// perkd: every Perks service in one process, each with its own RocksDB under --data-dir.
#include "services/perkd/cli.h"

int main(int argc, char** argv) {
  return perks::ServerMain(
      {.name = "perkd",
       .description = "perkd: the Perks server, every service in one process",
       .services = {"auth", "card", "merchant", "promotion", "checkout", "settlement"},
       .listen = "127.0.0.1:7400"},
      argc, argv);
}
