// How records look in API answers. Secrets never appear whole here.
#pragma once

#include <boost/json/object.hpp>

#include <map>

#include "store/model.h"

namespace punt::api {

std::string TimeText(Millis ms);  // RFC 3339 UTC with milliseconds

boost::json::object OrgView(const store::Org& org);
boost::json::object SubscriptionView(const store::Subscription& sub);
boost::json::object DeliveryView(const store::Delivery& delivery, bool with_attempts);
// {"pending": n, "in_flight": n, ...}: every state, 0 when absent from `counts`.
boost::json::object DeliveryCountsView(const std::map<store::DeliveryState, int64_t>& counts);

}  // namespace punt::api
