#include "catalog/validate.h"
namespace punt::catalog {
std::vector<Problem> Validate(const boost::json::value&) { return {}; }
}  // namespace punt::catalog
