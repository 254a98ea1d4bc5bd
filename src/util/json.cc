#include "util/json.h"

#include <boost/container/small_vector.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace punt {
namespace {

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {  // JSON has no NaN or infinity; parsers never produce them.
    out += "null";
    return;
  }
  if (d == 0 && std::signbit(d)) {  // a cast to long long would drop the sign
    out += "-0";
    return;
  }
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    out += std::to_string(static_cast<long long>(d));
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, end);
}

// The index of the first byte at or after `from` that needs escaping (a
// control character, '"' or '\\'), or s.size(). Eight bytes at a time: a
// body is mostly text with nothing to escape.
size_t NextToEscape(std::string_view s, size_t from) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  size_t i = from;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    // A byte below 0x20, or equal to '"' or '\\' (a zero byte after the XOR).
    uint64_t control = (x - kOnes * 0x20) & ~x;
    uint64_t quote = ((x ^ (kOnes * '"')) - kOnes) & ~(x ^ (kOnes * '"'));
    uint64_t backslash = ((x ^ (kOnes * '\\')) - kOnes) & ~(x ^ (kOnes * '\\'));
    if ((control | quote | backslash) & kHigh) break;  // it is in these eight
  }
  for (; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') return i;
  }
  return s.size();
}

// A JSON string literal, escaped as Boost.JSON's serializer escapes it
// (quote, backslash and the control characters; UTF-8 passes as is), written
// straight into `out`: serialize() would make a string of its own for every
// key and value.
void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the characters not yet copied
  for (size_t i = NextToEscape(s, 0); i < s.size(); i = NextToEscape(s, i + 1)) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

class RefusalCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "punt.json"; }
  std::string message(int value) const override {
    switch (static_cast<JsonRefusal>(value)) {
      case JsonRefusal::kDuplicateKey:
        return "an object has the same key twice";
      case JsonRefusal::kIntegerTooLarge:
        return "an integer does not fit in 64 bits (send it as a string)";
    }
    return "refused JSON";
  }
};

// Whether every object of `v` kept as many keys as the parser read for it:
// Boost.JSON keeps one of a key given twice (the last), so an object with a
// key twice comes out smaller. `counts` are the parser's, in the order its
// objects ended (post-order), `next` the first not yet matched. Cheaper than
// comparing keys as they come (which cost ingest ~9% of its HTTP thread's
// instructions): one number an object and a walk of the value.
bool ObjectsKeptEveryKey(const boost::json::value& v, std::span<const size_t> counts,
                         size_t& next) {
  if (const auto* array = v.if_array()) {
    for (const auto& item : *array) {
      if (!ObjectsKeptEveryKey(item, counts, next)) return false;
    }
    return true;
  }
  const auto* object = v.if_object();
  if (object == nullptr) return true;
  for (const auto& member : *object) {
    if (!ObjectsKeptEveryKey(member.value(), counts, next)) return false;
  }
  return next < counts.size() && counts[next++] == object->size();
}

// True for the text of a JSON integer (no fraction, no exponent).
bool IsIntegerText(std::string_view number) {
  return number.find_first_of(".eE") == std::string_view::npos;
}

// Boost.JSON's own value-building handler (detail/handler.hpp), but for
// doubles, which are read again from their text with std::from_chars; it
// refuses an integer past 64 bits, and notes how many keys each object had
// (ObjectsKeptEveryKey).
struct PreciseHandler {
  static constexpr size_t max_object_size = boost::json::object::max_size();
  static constexpr size_t max_array_size = boost::json::array::max_size();
  static constexpr size_t max_key_size = boost::json::string::max_size();
  static constexpr size_t max_string_size = boost::json::string::max_size();
  using error_code = boost::system::error_code;
  using string_view = boost::json::string_view;

  boost::json::value_stack st;
  std::string number;  // the parts of a number split across writes
  // Each object's key count as the parser read it, in the order the objects
  // ended (post-order).
  boost::container::small_vector<size_t, 16> key_counts;

  PreciseHandler(boost::json::storage_ptr sp, unsigned char* temp, size_t size)
      : st(std::move(sp), temp, size) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(size_t n, error_code&) {
    key_counts.push_back(n);
    st.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(size_t n, error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(string_view s, size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_key(string_view s, size_t, error_code&) {
    st.push_key(s);
    return true;
  }
  bool on_string_part(string_view s, size_t, error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(string_view s, size_t, error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t i, string_view s, error_code&) {
    // "-0" is negative zero (JSON.parse gives -0), which no int64 can hold.
    bool negative_zero = i == 0 && (number.empty() ? !s.empty() && s[0] == '-' : number[0] == '-');
    number.clear();
    if (negative_zero) {
      st.push_double(-0.0);
    } else {
      st.push_int64(i);
    }
    return true;
  }
  bool on_uint64(uint64_t u, string_view, error_code&) {
    number.clear();
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, string_view s, error_code& ec) {
    std::string_view text(s.data(), s.size());
    if (!number.empty()) {
      number.append(text);
      text = number;
    }
    // Boost.JSON makes a double of an integer that fits no 64-bit type.
    if (IsIntegerText(text)) return Refuse(JsonRefusal::kIntegerTooLarge, ec);
    double exact;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), exact);
    if (error == std::errc() && end == text.data() + text.size()) d = exact;
    number.clear();
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

  static bool Refuse(JsonRefusal refusal, error_code& ec) {
    ec = MakeErrorCode(refusal);
    return false;
  }
};

}  // namespace

const RefusalCategory& TheRefusalCategory() {
  static const RefusalCategory category;
  return category;
}

boost::system::error_code MakeErrorCode(JsonRefusal refusal) {
  return {static_cast<int>(refusal), TheRefusalCategory()};
}

bool IsJsonRefusal(const boost::system::error_code& ec) {
  return ec.category() == TheRefusalCategory();
}

boost::json::value ParseJson(std::string_view text, boost::system::error_code& ec,
                             boost::json::storage_ptr storage,
                             const boost::json::parse_options& options, unsigned char* temp,
                             size_t temp_size) {
  boost::json::basic_parser<PreciseHandler> parser(options, boost::json::storage_ptr(), temp,
                                                   temp_size);
  parser.handler().st.reset(std::move(storage));
  size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) return nullptr;
  if (n < text.size()) {
    ec = boost::json::error::extra_data;
    return nullptr;
  }
  boost::json::value value = parser.handler().st.release();
  const auto& counts = parser.handler().key_counts;
  size_t matched = 0;
  if (!ObjectsKeptEveryKey(value, counts, matched) || matched != counts.size()) {
    ec = MakeErrorCode(JsonRefusal::kDuplicateKey);
    return nullptr;
  }
  return value;
}

void AppendJson(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out += "null";
      break;
    case boost::json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case boost::json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case boost::json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case boost::json::kind::double_:
      AppendDouble(out, v.get_double());
      break;
    case boost::json::kind::string:
      AppendString(out, v.get_string());
      break;
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, item);
      }
      out += ']';
      break;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        AppendString(out, key);
        out += ':';
        AppendJson(out, item);
      }
      out += '}';
      break;
    }
  }
}

std::string ToJson(const boost::json::value& value) {
  std::string out;
  AppendJson(out, value);
  return out;
}

std::string ValidUtf8(std::string_view s) {
  constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      out += s[i++];
      continue;
    }
    // The continuation bytes a lead byte needs, and the range of the first
    // (which rules out overlong forms, surrogates and code points past
    // U+10FFFF); the others are 80..BF.
    size_t need = 0;
    unsigned char low = 0x80, high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      need = 1;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      need = 2;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      need = 3;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    }
    size_t n = 1;  // the bytes of the sequence well-formed so far
    while (n <= need && i + n < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + n]);
      if (next < (n == 1 ? low : 0x80) || next > (n == 1 ? high : 0xbf)) break;
      ++n;
    }
    if (need > 0 && n == need + 1) {
      out.append(s.substr(i, n));
    } else {
      out += kReplacement;  // one for the longest well-formed start, as Unicode advises
    }
    i += n;
  }
  return out;
}

}  // namespace punt
