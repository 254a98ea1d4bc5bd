#include "api/http/response.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "util/json.h"

namespace punt::http {

Response Json(unsigned status, const boost::json::value& body) {
  Response response;
  response.status = status;
  response.body = ToJson(body);
  return response;
}

Response Text(unsigned status, std::string body, std::string_view content_type) {
  Response response;
  response.status = status;
  response.content_type = content_type;
  response.body = std::move(body);
  return response;
}

Response Error(unsigned status, std::string_view code, std::string_view message,
               std::vector<FieldError> fields) {
  boost::json::array field_array;
  field_array.reserve(fields.size());
  for (auto& field : fields) {
    field_array.push_back(boost::json::object{{"path", field.path}, {"message", field.message}});
  }
  boost::json::object error{{"code", code}, {"message", message}, {"fields", field_array}};
  return Json(status, boost::json::object{{"error", std::move(error)}});
}

}  // namespace punt::http
