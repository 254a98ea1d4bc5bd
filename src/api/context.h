// What the API handlers share, wired once at startup (src/server/app.cc).
#pragma once

#include <string>

#include "api/destination_policy.h"
#include "delivery/destination_guard.h"
#include "security/sealer.h"
#include "store/store.h"
#include "util/clock.h"

namespace punt::api {

struct Context {
  store::Store& store;
  const security::Sealer& sealer;
  const Clock& clock;
  std::string admin_key;  // compared in constant time
  DestinationPolicy destinations;
  // Checks the test button's requests (POST /v1/subscriptions/{id}/test) as
  // deliveries are checked; null refuses every non-public address.
  const delivery::DestinationGuard* guard = nullptr;
  std::string ca_file = {};  // --ca-file: also trusted by the test button
};

}  // namespace punt::api
