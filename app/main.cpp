#include <sys/stat.h>

#include "app/command_line.hpp"

int main(int argc, char** argv) {
  // Files this process creates (the state database, which in standalone
  // mode holds session keys and password hashes, and SQLite's WAL and
  // index beside it) are for the service's own user only, whatever umask
  // the shell or the service manager passed on.
  ::umask(0077);
  return batchcast::app::run_command_line(argc, argv);
}
