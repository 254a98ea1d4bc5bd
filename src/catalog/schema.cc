#include "catalog/schema.h"
namespace punt::catalog {
boost::json::object JsonSchema(const EventType&) { return {}; }
}  // namespace punt::catalog
