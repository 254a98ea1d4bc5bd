#include "api/statement_builder.h"

#include <boost/json/parse.hpp>
#include <string>

#include "api/request_helpers.h"
#include "catalog/validate.h"
#include "util/json.h"
#include "util/log.h"
#include "xapi/statement.h"

namespace punt::api {

namespace {

// A learning event whose statement cannot be built from its stored body: it
// gets no xAPI delivery, so say which and why instead of passing over it.
std::string Skip(const store::Org& org, std::string_view type, const boost::json::value* event,
                 const std::string& reason) {
  boost::json::object fields{{"org_id", org.id}, {"type", type}, {"reason", reason}};
  if (event != nullptr && event->is_object()) {
    if (const auto* id = event->get_object().if_contains("id"); id && id->is_string()) {
      fields["event_id"] = id->get_string();
    }
  }
  LogWarn("a stored event's xAPI statement cannot be built: the event is not sent to the LRS",
          std::move(fields));
  return {};
}

}  // namespace

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
    if (ec || !envelope.is_object()) {
      return Skip(org, type, nullptr, ec ? ec.message() : "the body is not a JSON object");
    }
    const boost::json::value* event = envelope.get_object().if_contains("data");
    if (event == nullptr) return Skip(org, type, nullptr, "the body has no \"data\"");
    // Checked as ingest checks it now: StatementJson requires a valid event.
    // An event stored before a rule it breaks came cannot be built.
    if (auto problems = catalog::Validate(*event); !problems.empty()) {
      const catalog::Problem& first = problems.front();
      return Skip(org, type, event, (first.path.empty() ? "/" : first.path) + " " + first.message);
    }
    return xapi::StatementJson({org.id, org.platform_url, org.mbox_opt_in}, *event,
                               xapi::Version::k1_0_3);
  };
}

}  // namespace punt::api
