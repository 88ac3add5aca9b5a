#include "app/command_line.hpp"

#include <iostream>

#include <CLI/CLI.hpp>

#include "app/admin_command.hpp"
#include "app/publish_command.hpp"
#include "app/serve_command.hpp"
#include "app/serve_failure.hpp"
#include "app/watch_command.hpp"

namespace batchcast::app {

int run_command_line(int argc, char** argv) {
  CLI::App cli{
      "batchcast: pushes the terminal status of OpenWISP RADIUS batch "
      "user-creation jobs to the staff users watching them, over WebSocket.",
      "batchcast"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", "batchcast 0.1.0");

  int exit_code = 2;
  add_serve_command(cli, exit_code);
  add_watch_command(cli, exit_code);
  add_publish_command(cli, exit_code);
  add_admin_command(cli, exit_code);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A serve run for a log collector must not start its log with a line
    // of plain text, even when its command line is wrong.
    if (auto serve_args = serve_arguments(argc, argv);
        e.get_exit_code() != 0 && serve_args && json_logs_asked(*serve_args)) {
      report_serve_failure(true, e.what());
      return 2;
    }
    auto printed = cli.exit(e);  // prints help, version or the error
    return printed == 0 ? 0 : 2;
  }
  return exit_code;
}

}  // namespace batchcast::app
