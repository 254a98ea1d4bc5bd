// Turns a subscription's JSON (POST or PATCH body) into a store::Subscription.
// Pure apart from the policy's resolver; no storage, no HTTP.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "api/destination_policy.h"
#include "catalog/validate.h"
#include "store/model.h"

namespace punt::api {

// Plaintext credentials found in the body, for the caller to seal.
struct SubscriptionSecrets {
  std::optional<std::string> token;  // xAPI: normalised Basic token; webhook: verbatim
  bool remove_token = false;         // a webhook's PATCH with "token": null: send none from now
};

// Applies `body` to `sub`. Creating: kind, url and events are required and
// `sub` starts from defaults; patching: every field is optional and kind
// cannot change. Returns every problem (paths are JSON Pointers into the
// body); `sub` is only meaningful when none is returned.
std::vector<catalog::Problem> ApplySubscriptionJson(const boost::json::object& body, bool creating,
                                                    const DestinationPolicy& policy,
                                                    store::Subscription& sub,
                                                    SubscriptionSecrets& secrets);

// "https://lrs.example/xapi" → "https://lrs.example/xapi/statements".
std::string NormaliseXapiUrl(std::string url);

}  // namespace punt::api
