#include "xapi/token.h"

#include <gtest/gtest.h>

#include <string>

namespace punt::xapi {
namespace {

constexpr std::string_view kStandard = "bHJzX2tleTpwQHNzPnc/cmR+fg==";

std::string Normalised(std::string_view pasted) {
  auto result = NormaliseToken(pasted);
  if (auto* error = std::get_if<TokenError>(&result)) return "error: " + error->message;
  return std::get<NormalisedToken>(result).header_value;
}

TEST(Token, EncodesKeyAndSecretInStandardPaddedBase64) {
  auto result = TokenFromKeySecret("lrs_key", "p@ss>w?rd~~");
  ASSERT_TRUE(std::holds_alternative<NormalisedToken>(result));
  EXPECT_EQ(std::get<NormalisedToken>(result).header_value, kStandard);
  EXPECT_EQ(std::get<NormalisedToken>(result).key, "lrs_key");
}

TEST(Token, RefusesBadKeyOrSecret) {
  for (auto [key, secret] :
       {std::pair{"a:b", "s"}, {"", "s"}, {"k", ""}, {"k\n", "s"}, {"k", "s\x7f"}}) {
    EXPECT_TRUE(std::holds_alternative<TokenError>(TokenFromKeySecret(key, secret))) << key;
  }
}

TEST(Token, NormalisesUrlSafeUnpaddedToStandard) {
  EXPECT_EQ(Normalised("bHJzX2tleTpwQHNzPnc_cmR-fg"), kStandard);
  EXPECT_EQ(Normalised("bHJzX2tleTpwQHNzPnc_cmR-fg=="), kStandard);
  EXPECT_EQ(Normalised(kStandard), kStandard);
  EXPECT_EQ(std::get<NormalisedToken>(NormaliseToken(kStandard)).key, "lrs_key");
}

TEST(Token, DropsWhitespaceAndBasicScheme) {
  EXPECT_EQ(Normalised("  Basic bHJzX2tleTpwQHNzPnc_cmR-fg\n"), kStandard);
  EXPECT_EQ(Normalised("basic\tbHJzX2tleTpwQHNzPnc/cmR+fg=="), kStandard);
  EXPECT_EQ(Normalised("BASIC   bHJzX2tleTpwQHNzPnc/cmR+fg=="), kStandard);
}

// Only the first ':' separates (RFC 7617): the secret keeps the others, both
// when punt encodes it and when an admin pastes it in either alphabet.
TEST(Token, KeepsColonsInTheSecret) {
  constexpr std::string_view kWithColons = "azphOmI6Yw==";  // base64("k:a:b:c")
  auto token = std::get<NormalisedToken>(TokenFromKeySecret("k", "a:b:c"));
  EXPECT_EQ(token.header_value, kWithColons);
  EXPECT_EQ(token.key, "k");
  EXPECT_EQ(Normalised(kWithColons), kWithColons);
  EXPECT_EQ(Normalised("azphOmI6Yw"), kWithColons);
  EXPECT_EQ(std::get<NormalisedToken>(NormaliseToken(kWithColons)).key, "k");
}

TEST(Token, RefusesWhatIsNotKeyColonSecret) {
  for (const char* bad : {"", "   ", "Basic ", "not base64!", "Zm9v" /* foo: no colon */,
                          "OnNlY3JldA==" /* :secret */, "a2V5Og==" /* key: */,
                          "a2V5OnMKcw==" /* key:s\ns */, "Bearer bHJzX2tleTpwQHNzPnc/cmR+fg=="}) {
    EXPECT_TRUE(Normalised(bad).starts_with("error: ")) << bad;
  }
}

TEST(Token, MasksAllButAFewCharacters) {
  EXPECT_EQ(MaskToken(kStandard), "bHJz****==");
  EXPECT_EQ(MaskToken("12345678"), "****");
  EXPECT_EQ(MaskToken(""), "****");
}

// Regression: a webhook's token (any text) was cut by bytes, so its hint
// could end or start inside a UTF-8 character: the API showed invalid
// UTF-8. The hint keeps the first 4 and the last 2 characters.
TEST(Token, MasksByCharactersNotBytes) {
  EXPECT_EQ(MaskToken("a\u00e9\u00e9\u00e9\u00e9"), "****");  // 5 characters, 9 bytes
  EXPECT_EQ(MaskToken("Bearer \u00e9t\u00e9"), "Bear****t\u00e9");
  EXPECT_EQ(MaskToken("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"),
            "\u00e9\u00e9\u00e9\u00e9****\u00e9\u00e9");
}

}  // namespace
}  // namespace punt::xapi
