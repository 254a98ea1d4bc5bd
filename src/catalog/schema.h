// JSON Schemas (draft 2020-12) generated from the catalog.
#pragma once

#include <boost/json/object.hpp>

#include "catalog/catalog.h"

namespace punt::catalog {

// The schema one event of `type` must satisfy.
boost::json::object JsonSchema(const EventType& type);

}  // namespace punt::catalog
