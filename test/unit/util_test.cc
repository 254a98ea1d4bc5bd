#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>

#include "util/base64.h"
#include "util/digest.h"
#include "util/json.h"
#include "util/text.h"
#include "util/time.h"
#include "util/uuid.h"

namespace punt {
namespace {

TEST(Base64, EncodesStandardPadded) {
  EXPECT_EQ(EncodeBase64("lrs_key:p@ss>w?rd~~"), "bHJzX2tleTpwQHNzPnc/cmR+fg==");
  EXPECT_EQ(EncodeBase64(""), "");
  EXPECT_EQ(EncodeBase64("f"), "Zg==");
  EXPECT_EQ(EncodeBase64("fo"), "Zm8=");
  EXPECT_EQ(EncodeBase64("foo"), "Zm9v");
}

TEST(Base64, AppendsAfterWhatIsThere) {
  std::string out = "v1,";
  AppendBase64(out, "fo");
  AppendBase64(out, "foo");
  EXPECT_EQ(out, "v1,Zm8=Zm9v");
}

TEST(Base64, DecodesEitherAlphabetWithOrWithoutPadding) {
  EXPECT_EQ(DecodeBase64("bHJzX2tleTpwQHNzPnc/cmR+fg=="), "lrs_key:p@ss>w?rd~~");
  EXPECT_EQ(DecodeBase64("bHJzX2tleTpwQHNzPnc_cmR-fg"), "lrs_key:p@ss>w?rd~~");
  EXPECT_EQ(DecodeBase64("bHJzX2tleTpwQHNzPnc_cmR-fg=="), "lrs_key:p@ss>w?rd~~");
  EXPECT_EQ(DecodeBase64("Zm8"), "fo");
}

TEST(Base64, RejectsWhatNoEncoderMakes) {
  EXPECT_FALSE(DecodeBase64("Zm9v!"));
  EXPECT_FALSE(DecodeBase64("Z"));
  EXPECT_FALSE(DecodeBase64("Zm=9"));
  EXPECT_FALSE(DecodeBase64("Zh=="));  // non-zero trailing bits
  EXPECT_FALSE(DecodeBase64("Zm9v==="));
}

TEST(Text, FindsALineBreakAnywhere) {
  EXPECT_FALSE(HasLineBreak(""));
  EXPECT_FALSE(HasLineBreak("v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="));
  EXPECT_TRUE(HasLineBreak("\r"));
  EXPECT_TRUE(HasLineBreak("Bearer x\nEvil: 1"));
  EXPECT_TRUE(HasLineBreak("x\r\n"));
  EXPECT_TRUE(HasLineBreak(std::string_view("a\0b\r", 4)));  // past a NUL too
  EXPECT_FALSE(HasLineBreak(std::string_view("a\nb", 1)));   // only within the view
}

std::string Hex(const uint8_t* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

TEST(Digest, MatchesKnownVectorsWholeOrInPieces) {
  uint8_t out[kMaxDigestBytes];
  ASSERT_EQ(DigestOf(DigestKind::kSha256, {"abc"}, out), 32u);
  EXPECT_EQ(Hex(out, 32), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ASSERT_EQ(DigestOf(DigestKind::kSha1, {"abc"}, out), 20u);
  EXPECT_EQ(Hex(out, 20), "a9993e364706816aba3e25717850c26c9cd0d89d");
  ASSERT_EQ(DigestOf(DigestKind::kSha1, {"a", "", "bc"}, out), 20u);  // one context, reused
  EXPECT_EQ(Hex(out, 20), "a9993e364706816aba3e25717850c26c9cd0d89d");
  ASSERT_EQ(DigestOf(DigestKind::kSha256, {}, out), 32u);
  EXPECT_EQ(Hex(out, 32), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Uuid5, MatchesKnownVectors) {
  // Python: uuid.uuid5(uuid.NAMESPACE_URL, "http://python.org/")
  EXPECT_EQ(Uuid5(kUrlNamespace, "http://python.org/"), "4c565f0d-3f5a-5890-b41b-20cf47701c5e");
  std::string out = "msg_";  // the name in pieces, appended
  AppendUuid5(out, kUrlNamespace, {"http://", "", "python.org/"});
  EXPECT_EQ(out, "msg_4c565f0d-3f5a-5890-b41b-20cf47701c5e");
}

TEST(Time, ParsesRfc3339WithOffsetsAndFractions) {
  auto t = ParseRfc3339("2026-11-28T12:00:00.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatTimestamp(*t), "2026-11-28T12:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("2026-11-28T13:30:00+01:30")),
            "2026-11-28T12:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("2026-11-28t12:00:00.1234567z")),
            "2026-11-28T12:00:00.123Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("2026-12-31T23:30:00-01:00")),
            "2027-01-01T00:30:00.000Z");
}

TEST(Time, AppendTimestampWritesAfterWhatIsThere) {
  std::string text = "at ";
  AppendTimestamp(text, *ParseRfc3339("2026-11-28T12:00:00.123Z"));
  EXPECT_EQ(text, "at 2026-11-28T12:00:00.123Z");
  AppendTimestamp(text, *ParseRfc3339("1999-01-02T03:04:05.006Z"));
  EXPECT_EQ(text, "at 2026-11-28T12:00:00.123Z1999-01-02T03:04:05.006Z");
}

// Regression: an offset could move the instant out of the four-digit years,
// and the xAPI statement then carried "10000-01-01T00:30:00.000Z", which an
// LRS refuses (the statement died).
TEST(Time, RefusesAnInstantOutsideTheFourDigitYears) {
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:30:00-01:00"));
  EXPECT_FALSE(ParseRfc3339("0000-01-01T00:30:00+01:00"));
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("9999-12-31T23:30:00+01:00")),
            "9999-12-31T22:30:00.000Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("0000-01-01T00:30:00-01:00")),
            "0000-01-01T01:30:00.000Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("9999-12-31T23:59:59.999Z")), "9999-12-31T23:59:59.999Z");
}

// The digits are written by hand; they must be what the printf format
// "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ" gives, over years, days and times.
TEST(Time, FormatsEveryMillisecondFieldLikePrintf) {
  using namespace std::chrono;
  auto expected = [](TimePoint t) {
    auto day = floor<days>(t);
    year_month_day date{day};
    long long ms = (t - day).count();
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                  int(date.year()), unsigned(date.month()), unsigned(date.day()), ms / 3600000,
                  ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
    return std::string(buf);
  };
  // From 0001-01-01 to 9999-12-31 in steps that hit every field's range,
  // and the far sides of the four-digit years.
  const TimePoint first = sys_days{year{1} / 1 / 1};
  const TimePoint last = sys_days{year{9999} / 12 / 31} + hours{23} + minutes{59} + seconds{59} +
                         milliseconds{999};
  for (TimePoint t = first; t <= last; t += milliseconds(7'777'777'777)) {
    ASSERT_EQ(FormatTimestamp(t), expected(t));
  }
  for (TimePoint t : {first, last, TimePoint(milliseconds(0)), TimePoint(milliseconds(-1)),
                      last + milliseconds(1), first - milliseconds(1),
                      TimePoint(sys_days{year{-5} / 3 / 1})}) {
    EXPECT_EQ(FormatTimestamp(t), expected(t));
  }
  for (long long ms = 0; ms < 86'400'000; ms += 999) {
    TimePoint t = sys_days{year{2026} / 11 / 29} + milliseconds(ms);
    ASSERT_EQ(FormatTimestamp(t), expected(t));
  }
}

TEST(Time, RejectsWhatIsNotRfc3339) {
  for (const char* bad : {"", "2026-11-28", "2026-11-28T12:00:00", "2026-02-30T12:00:00Z",
                          "2026-11-28T24:00:00Z", "2026-11-28T12:00:00.Z", "2026-11-28 12:00:00Z",
                          "2026-11-28T12:00:00+0100", "2026-11-28T12:00:00Zjunk", "20261128T120000Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

// Regression: a :60 second was taken at any minute ("2026-11-28T12:00:60Z"
// was 12:00:59), though a leap second exists only as 23:59:60 UTC, and the
// date-time format of the catalog's JSON Schemas refuses the others.
TEST(Time, TakesALeapSecondOnlyAtTheEndOfAUtcDay) {
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("2016-12-31T23:59:60Z")), "2016-12-31T23:59:59.000Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("2016-12-31T23:59:60.5z")), "2016-12-31T23:59:59.500Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("2016-12-31T15:59:60.123-08:00")),
            "2016-12-31T23:59:59.123Z");
  EXPECT_EQ(FormatTimestamp(*ParseRfc3339("2017-01-01T01:29:60+01:30")),
            "2016-12-31T23:59:59.000Z");
  for (const char* bad : {"2026-11-28T12:00:60Z", "2016-12-31T23:58:60Z", "2016-12-31T22:59:60Z",
                          "2016-12-31T23:59:60+01:00", "2016-12-31T23:59:61Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

TEST(Time, FormatsIsoDurations) {
  using std::chrono::milliseconds;
  EXPECT_EQ(FormatIsoDuration(milliseconds(0)), "PT0S");
  EXPECT_EQ(FormatIsoDuration(milliseconds(1200000)), "PT20M");
  EXPECT_EQ(FormatIsoDuration(milliseconds(1200123)), "PT20M0.12S");
  EXPECT_EQ(FormatIsoDuration(milliseconds(3723500)), "PT1H2M3.5S");
}

TEST(Json, WritesNumbersAsPeopleDo) {
  auto v = boost::json::parse(R"({"a":0.92,"b":100,"c":92.0,"d":-3,"e":"x\"y","f":[true,null]})");
  EXPECT_EQ(ToJson(v), R"({"a":0.92,"b":100,"c":92,"d":-3,"e":"x\"y","f":[true,null]})");
}

TEST(Json, EscapesStringsAndKeysAsBoostJsonDoes) {
  std::string every_byte;  // each byte once, control characters and UTF-8 bytes included
  for (int c = 1; c < 256; ++c) every_byte += static_cast<char>(c);
  every_byte += std::string("\0tail", 5);
  boost::json::value every{{every_byte, every_byte}};
  EXPECT_EQ(ToJson(every), boost::json::serialize(every));

  boost::json::value valid{{"caf\xc3\xa9 \"quoted\" back\\slash\n\x01", "\x7f\t"}, {"", ""}};
  EXPECT_EQ(ToJson(valid), boost::json::serialize(valid));
  EXPECT_EQ(boost::json::parse(ToJson(valid)), valid);
}

// Strings are scanned eight bytes at a time: an escape at every position of
// a chunk, and at the ends, comes out as Boost.JSON writes it.
TEST(Json, EscapesAtEveryOffsetOfALongString) {
  const std::string specials = std::string("\"\\\n\x01\x1f", 5) + std::string(1, '\0');
  for (char special : specials) {
    for (size_t length : {1, 7, 8, 9, 16, 17, 40}) {
      for (size_t at = 0; at < length; ++at) {
        std::string text(length, 'a');
        text[at] = special;
        text += "\xc3\xa9";  // UTF-8 after it passes as is
        boost::json::value v(text);
        ASSERT_EQ(ToJson(v), boost::json::serialize(v)) << "length " << length << " at " << at;
      }
    }
  }
  boost::json::value plain(std::string(1000, 'x'));
  EXPECT_EQ(ToJson(plain), boost::json::serialize(plain));
}

TEST(Json, ValidUtf8ReplacesOnlyIllFormedSequences) {
  const std::string fffd = "\xef\xbf\xbd";
  for (const char* good : {"", "plain", "Zo\xc3\xab", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                           "\xed\x9f\xbf", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_EQ(ValidUtf8(good), good);
  }
  EXPECT_EQ(ValidUtf8("caf\xe9"), "caf" + fffd);  // Latin-1
  EXPECT_EQ(ValidUtf8("ab\xc3"), "ab" + fffd);    // cut after the lead byte
  EXPECT_EQ(ValidUtf8("\xf0\x9f\x98"), fffd);     // cut before the last byte
  EXPECT_EQ(ValidUtf8("\xf0\x9f\x98x"), fffd + "x");
  EXPECT_EQ(ValidUtf8("\x80\xbf"), fffd + fffd);                        // stray continuations
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), fffd + fffd);                        // overlong
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), fffd + fffd + fffd);             // a surrogate
  EXPECT_EQ(ValidUtf8("\xf4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // past U+10FFFF
  EXPECT_EQ(ValidUtf8(std::string("a\0b", 3)), std::string("a\0b", 3));
}

}  // namespace
}  // namespace punt
