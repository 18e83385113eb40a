// The command line every Perks server process shares: perkd (every service in one process) and
// the one-service processes of a deployment (perks-card, perks-merchant, ...) take the same
// options, so that the two shapes are the same code chosen by configuration.
#ifndef PERKS_SERVICES_PERKD_CLI_H_
#define PERKS_SERVICES_PERKD_CLI_H_

#include <string>
#include <vector>

namespace perks {

struct ServerProgram {
  std::string name;                   // "perks-card"
  std::string description;            // the first line of --help
  std::vector<std::string> services;  // what it runs unless --services says otherwise
  std::string listen;                 // its default --listen
};

// Parses the command line (and --config file), starts the server and serves until SIGINT or
// SIGTERM. Returns the process's exit code.
int ServerMain(const ServerProgram& program, int argc, char** argv);

}  // namespace perks

#endif  // PERKS_SERVICES_PERKD_CLI_H_
