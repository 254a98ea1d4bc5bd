// The store's StatementBuilder (store/store.h): the xAPI statement of a
// stored event, rebuilt from its webhook body for the organisation's current
// settings, for a statement ingest left out because no xAPI subscription
// wanted it then. The same bytes ingest builds from the event itself, given
// the same settings. Thread-safe.
#pragma once

#include "store/store.h"

namespace punt::api {

store::StatementBuilder MakeStatementBuilder();

}  // namespace punt::api
