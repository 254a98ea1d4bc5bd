#include "api/statement_builder.h"

#include <boost/json/parse.hpp>
#include <string>

#include "api/request_helpers.h"
#include "catalog/validate.h"
#include "util/json.h"
#include "xapi/statement.h"

namespace punt::api {

store::StatementBuilder MakeStatementBuilder() {
  return [](const store::Org& org, std::string_view type,
            std::string_view webhook_body) -> std::string {
    if (!xapi::HasStatement(type)) return {};
    boost::system::error_code ec;
    // The envelope wraps the event one level deeper than ingest parsed it:
    // an event ingest accepted at its deepest must parse here too.
    boost::json::parse_options options;
    options.max_depth = kMaxJsonDepth + 1;
    boost::json::value envelope = ParseJson(webhook_body, ec, {}, options);
    if (ec || !envelope.is_object()) return {};
    const boost::json::value* event = envelope.get_object().if_contains("data");
    // Checked as ingest checked it: a body punt did not write is nothing to
    // build from (StatementJson requires a valid event).
    if (event == nullptr || !catalog::Validate(*event).empty()) return {};
    return xapi::StatementJson({org.id, org.platform_url, org.mbox_opt_in}, *event,
                               xapi::Version::k1_0_3);
  };
}

}  // namespace punt::api
