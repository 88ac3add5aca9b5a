// Starting and stopping the services.
#include <boost/test/unit_test.hpp>

#include "actors/errors.hpp"
#include "tests/actors/actors_fixture.hpp"

using namespace batchcast::actors;
using namespace batchcast::actors::testing;

BOOST_AUTO_TEST_CASE(start_names_the_state_database_it_cannot_open) {
  batchcast::testing::temp_dir dir;
  runtime_settings settings;
  settings.state_db_path = dir.file("missing-folder/state.db");
  settings.directory_path = settings.state_db_path;

  test_config config;
  caf::actor_system system{config};
  auto started = start_services(system, settings);
  BOOST_REQUIRE(!started);
  auto text = system.render(started.error());
  BOOST_TEST(text.find(settings.state_db_path) != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(start_and_stop_leave_no_actor_running) {
  batchcast::testing::temp_dir dir;
  runtime_settings settings;
  settings.state_db_path = dir.file("state.db");
  settings.directory_path = settings.state_db_path;

  test_config config;
  caf::actor_system system{config};
  auto before = system.registry().running();
  auto started = start_services(system, settings);
  BOOST_REQUIRE_MESSAGE(started,
                        (started ? "" : system.render(started.error())));
  stop_services(system, *started);
  BOOST_TEST(system.registry().running() == before);
}
