// What the API handlers share, wired once at startup (src/server/app.cc).
#pragma once

#include <string>

#include "api/destination_policy.h"
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
};

}  // namespace punt::api
