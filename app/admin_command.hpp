// `batchcast admin ...`: fills the embedded directory (organizations,
// users, memberships, batches, sessions) in the state database, for
// standalone operation, demos and tests. Each `add` prints the new id.
// It also takes rights away again (`session end`, `user deactivate`,
// `user unstaff`, `member remove`), as the Django admin would, so that
// revocation can be exercised without Django.
#pragma once

#include <CLI/CLI.hpp>

namespace batchcast::app {

void add_admin_command(CLI::App& parent, int& exit_code);

}  // namespace batchcast::app
