#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "security/api_keys.h"
#include "security/random.h"
#include "security/sealer.h"
#include "util/base64.h"

namespace punt::security {
namespace {

namespace fs = std::filesystem;

// A fresh directory under the system temp dir, removed afterwards. The data
// dir itself is a not-yet-existing child, so creation is exercised.
class TempDir {
 public:
  TempDir() {
    root_ = fs::temp_directory_path() / ("punt_security_test_" + NewId("t"));
    fs::create_directories(root_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  fs::path data() const { return root_ / "data"; }

 private:
  fs::path root_;
};

// Unsets PUNT_MASTER_KEY for the test's duration and on exit.
class MasterKeyEnv {
 public:
  MasterKeyEnv() { ::unsetenv("PUNT_MASTER_KEY"); }
  ~MasterKeyEnv() { ::unsetenv("PUNT_MASTER_KEY"); }
  void Set(const std::string& value) { ::setenv("PUNT_MASTER_KEY", value.c_str(), 1); }
};

mode_t ModeOf(const fs::path& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Sealer NewSealer() { return *Sealer::FromKey(RandomBytes(Sealer::kKeySize)); }

TEST(Random, BytesHaveRequestedLengthAndDiffer) {
  EXPECT_EQ(RandomBytes(0), "");
  EXPECT_EQ(RandomBytes(33).size(), 33u);
  EXPECT_NE(RandomBytes(16), RandomBytes(16));
}

TEST(Random, IdsAreWellFormedAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewId("sub");
    ASSERT_EQ(id.size(), 4u + 20u) << id;
    ASSERT_EQ(id.substr(0, 4), "sub_") << id;
    for (char c : id.substr(4)) {
      ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << id;
    }
    ASSERT_TRUE(seen.insert(id).second) << "duplicate " << id;
  }
}

TEST(Random, IdsUseTheWholeAlphabet) {
  std::set<char> chars;
  for (int i = 0; i < 200; ++i) {
    for (char c : NewId("x").substr(2)) chars.insert(c);
  }
  EXPECT_EQ(chars.size(), 32u);
}

TEST(Random, Base64UrlIsUnpaddedUrlSafe) {
  EXPECT_EQ(Base64Url(""), "");
  EXPECT_EQ(Base64Url("f"), "Zg");
  EXPECT_EQ(Base64Url("fo"), "Zm8");
  EXPECT_EQ(Base64Url("\xfb\xff\xbf"), "-_-_");
  std::string bytes = RandomBytes(100);
  EXPECT_EQ(DecodeBase64(Base64Url(bytes)), bytes);
}

TEST(Sealer, RoundTrips) {
  Sealer sealer = NewSealer();
  for (std::string plaintext : {std::string(), std::string("lrs-token"), RandomBytes(5000)}) {
    std::string sealed = sealer.Seal(plaintext, "org_1");
    EXPECT_EQ(sealed.size(), plaintext.size() + Sealer::kOverhead);
    EXPECT_EQ(static_cast<unsigned char>(sealed[0]), 1);
    EXPECT_EQ(sealer.Open(sealed, "org_1"), plaintext);
  }
  EXPECT_EQ(sealer.Open(sealer.Seal("no ad")), "no ad");
}

TEST(Sealer, RejectsTamperingAtEveryPosition) {
  Sealer sealer = NewSealer();
  std::string sealed = sealer.Seal("secret token", "ad");
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string bad = sealed;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      EXPECT_EQ(sealer.Open(bad, "ad"), std::nullopt) << "byte " << i << " flip " << int(flip);
    }
  }
  for (size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_EQ(sealer.Open(sealed.substr(0, n), "ad"), std::nullopt) << "truncated to " << n;
  }
  EXPECT_EQ(sealer.Open(sealed + "x", "ad"), std::nullopt);
  EXPECT_EQ(sealer.Open(sealed, "ad"), "secret token");
}

TEST(Sealer, RejectsWrongKeyAndWrongAssociatedData) {
  Sealer sealer = NewSealer();
  std::string sealed = sealer.Seal("secret", "org_1");
  EXPECT_EQ(NewSealer().Open(sealed, "org_1"), std::nullopt);
  EXPECT_EQ(sealer.Open(sealed, "org_2"), std::nullopt);
  EXPECT_EQ(sealer.Open(sealed), std::nullopt);
  EXPECT_EQ(sealer.Open(sealer.Seal("secret"), "org_1"), std::nullopt);
}

TEST(Sealer, UsesAFreshNonceEachTime) {
  Sealer sealer = NewSealer();
  std::string a = sealer.Seal("same plaintext");
  std::string b = sealer.Seal("same plaintext");
  EXPECT_NE(a, b);
  EXPECT_NE(a.substr(1, Sealer::kNonceSize), b.substr(1, Sealer::kNonceSize));
}

TEST(Sealer, SealedBytesNeverContainThePlaintext) {
  Sealer sealer = NewSealer();
  std::string plaintext = "correct-horse-battery-staple-lrs-token";
  for (int i = 0; i < 50; ++i) {
    std::string sealed = sealer.Seal(plaintext);
    EXPECT_EQ(sealed.find(plaintext), std::string::npos);
    EXPECT_EQ(sealed.find("correct"), std::string::npos);
  }
}

TEST(Sealer, IsSafeToShareAcrossThreads) {
  Sealer sealer = NewSealer();
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::string plaintext = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (sealer.Open(sealer.Seal(plaintext, "ad"), "ad") != plaintext) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(Sealer, FromKeyRequires32Bytes) {
  EXPECT_FALSE(Sealer::FromKey(RandomBytes(31)));
  EXPECT_FALSE(Sealer::FromKey(RandomBytes(33)));
  EXPECT_FALSE(Sealer::FromKey(""));
  EXPECT_TRUE(Sealer::FromKey(RandomBytes(32)));
}

TEST(Sealer, CreatesKeyFileWith0600AndReusesIt) {
  MasterKeyEnv env;
  TempDir dir;
  std::string error;
  std::optional<Sealer> first = Sealer::FromEnvironmentOrKeyFile(dir.data(), &error);
  ASSERT_TRUE(first) << error;
  fs::path file = dir.data() / "master.key";
  ASSERT_TRUE(fs::exists(file));
  EXPECT_EQ(ModeOf(file), 0600u);
  EXPECT_EQ(ModeOf(dir.data()) & 077, 0u);
  std::ifstream in(file);
  std::string text;
  in >> text;
  ASSERT_TRUE(DecodeBase64(text));
  EXPECT_EQ(DecodeBase64(text)->size(), 32u);

  std::string sealed = first->Seal("persisted", "ad");
  std::optional<Sealer> second = Sealer::FromEnvironmentOrKeyFile(dir.data(), &error);
  ASSERT_TRUE(second) << error;
  EXPECT_EQ(second->Open(sealed, "ad"), "persisted");
  // No temporary files are left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.data()), fs::directory_iterator()), 1);
}

TEST(Sealer, RefusesKeyFileReadableByOthers) {
  MasterKeyEnv env;
  TempDir dir;
  std::string error;
  ASSERT_TRUE(Sealer::FromEnvironmentOrKeyFile(dir.data(), &error)) << error;
  fs::path file = dir.data() / "master.key";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
  EXPECT_FALSE(Sealer::FromEnvironmentOrKeyFile(dir.data(), &error));
  EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
}

TEST(Sealer, RefusesCorruptKeyFile) {
  MasterKeyEnv env;
  TempDir dir;
  fs::create_directories(dir.data());
  fs::path file = dir.data() / "master.key";
  {
    std::ofstream out(file);
    out << EncodeBase64(RandomBytes(16)) << "\n";
  }
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  std::string error;
  EXPECT_FALSE(Sealer::FromEnvironmentOrKeyFile(dir.data(), &error));
  EXPECT_NE(error.find("master.key"), std::string::npos) << error;
}

TEST(Sealer, MasterKeyFromEnvironmentInBase64AndHex) {
  MasterKeyEnv env;
  TempDir dir;
  std::string key = RandomBytes(32);
  Sealer reference = *Sealer::FromKey(key);
  std::string sealed = reference.Seal("from env");
  std::string error;
  for (const std::string& encoded :
       {EncodeBase64(key), Base64Url(key), Hex(key), " " + Hex(key) + "\n"}) {
    env.Set(encoded);
    std::optional<Sealer> sealer = Sealer::FromEnvironmentOrKeyFile(dir.data(), &error);
    ASSERT_TRUE(sealer) << error;
    EXPECT_EQ(sealer->Open(sealed), "from env");
  }
  EXPECT_FALSE(fs::exists(dir.data() / "master.key"));  // the environment wins
}

TEST(Sealer, MasterKeyFromEnvironmentOfWrongLengthIsAnError) {
  MasterKeyEnv env;
  TempDir dir;
  for (const std::string& bad : {EncodeBase64(RandomBytes(16)), Hex(RandomBytes(31)),
                                 std::string("not base64!"), std::string()}) {
    env.Set(bad);
    std::string error;
    EXPECT_FALSE(Sealer::FromEnvironmentOrKeyFile(dir.data(), &error)) << bad;
    EXPECT_NE(error.find("PUNT_MASTER_KEY"), std::string::npos) << error;
    if (!bad.empty()) {
      EXPECT_EQ(error.find(bad), std::string::npos) << "error leaks the key";
    }
  }
}

TEST(ApiKey, GeneratedKeysAreWellFormedAndUnique) {
  std::string a = GenerateApiKey();
  std::string b = GenerateApiKey();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.substr(0, 5), "punt_");
  EXPECT_EQ(a.size(), 5u + 43u);
  EXPECT_EQ(DecodeBase64(a.substr(5))->size(), 32u);
  EXPECT_EQ(a.find_first_of("+/="), std::string::npos);
}

TEST(ApiKey, HashIsHexSha256) {
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HashApiKey(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_NE(HashApiKey("punt_a"), HashApiKey("punt_b"));
}

TEST(ApiKey, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0b", 3)));
  EXPECT_FALSE(ConstantTimeEquals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(ApiKey, BearerToken) {
  EXPECT_EQ(BearerToken("Bearer punt_abc"), "punt_abc");
  EXPECT_EQ(BearerToken("bearer punt_abc"), "punt_abc");
  EXPECT_EQ(BearerToken("BEARER   punt_abc  "), "punt_abc");
  EXPECT_EQ(BearerToken("  Bearer\tpunt_abc\r\n"), "punt_abc");
  EXPECT_EQ(BearerToken("Bearer a.b-c_d~e+f/g=="), "a.b-c_d~e+f/g==");
  EXPECT_EQ(BearerToken(""), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
  EXPECT_EQ(BearerToken("Bearer    "), "");
  EXPECT_EQ(BearerToken("Bearerpunt_abc"), "");
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(BearerToken("Bear punt_abc"), "");
  EXPECT_EQ(BearerToken("punt_abc"), "");
  EXPECT_EQ(BearerToken("Bearer two tokens"), "");
  EXPECT_EQ(BearerToken(std::string_view("Bearer a\0b", 10)), "");
}

TEST(Admin, KeyIsGeneratedWith0600AndReused) {
  TempDir dir;
  std::string error;
  std::optional<AdminKey> first = LoadOrCreateAdminKey(dir.data(), "", &error);
  ASSERT_TRUE(first) << error;
  EXPECT_TRUE(first->generated);
  EXPECT_EQ(first->file, dir.data() / "admin.key");
  EXPECT_EQ(first->key.substr(0, 11), "punt_admin_");
  EXPECT_EQ(first->key.size(), 11u + 43u);
  EXPECT_EQ(ModeOf(first->file), 0600u);

  std::optional<AdminKey> second = LoadOrCreateAdminKey(dir.data(), "", &error);
  ASSERT_TRUE(second) << error;
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(second->key, first->key);
  EXPECT_EQ(second->file, first->file);
}

TEST(Admin, ConcurrentFirstStartsAgreeOnOneKey) {
  TempDir dir;
  std::vector<std::optional<AdminKey>> keys(8);
  std::vector<std::string> errors(8);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < keys.size(); ++t) {
    threads.emplace_back([&, t] { keys[t] = LoadOrCreateAdminKey(dir.data(), "", &errors[t]); });
  }
  for (auto& thread : threads) thread.join();
  int generated = 0;
  for (size_t t = 0; t < keys.size(); ++t) {
    ASSERT_TRUE(keys[t]) << errors[t];
    EXPECT_EQ(keys[t]->key, keys[0]->key);
    generated += keys[t]->generated;
  }
  EXPECT_EQ(generated, 1);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.data()), fs::directory_iterator()), 1);
}

TEST(Admin, ConfiguredKeyIsUsedAsIs) {
  TempDir dir;
  std::string error;
  std::optional<AdminKey> key = LoadOrCreateAdminKey(dir.data(), "0123456789abcdef", &error);
  ASSERT_TRUE(key) << error;
  EXPECT_EQ(key->key, "0123456789abcdef");
  EXPECT_TRUE(key->file.empty());
  EXPECT_FALSE(key->generated);
  EXPECT_FALSE(fs::exists(dir.data() / "admin.key"));
}

TEST(Admin, ShortOrUnprintableConfiguredKeyIsRefused) {
  TempDir dir;
  for (std::string_view bad : {"short", "0123456789abcde", "0123456789 abcdef"}) {
    std::string error;
    EXPECT_FALSE(LoadOrCreateAdminKey(dir.data(), bad, &error)) << bad;
    EXPECT_NE(error.find("16"), std::string::npos) << error;
    EXPECT_EQ(error.find(bad), std::string::npos) << "error leaks the key";
  }
  EXPECT_FALSE(fs::exists(dir.data() / "admin.key"));
}

TEST(Admin, KeyFileReadableByOthersIsRefused) {
  TempDir dir;
  std::string error;
  ASSERT_TRUE(LoadOrCreateAdminKey(dir.data(), "", &error)) << error;
  fs::permissions(dir.data() / "admin.key", fs::perms::others_read, fs::perm_options::add);
  EXPECT_FALSE(LoadOrCreateAdminKey(dir.data(), "", &error));
  EXPECT_NE(error.find("chmod 600"), std::string::npos) << error;
}

TEST(Admin, OperatorWrittenKeyFileIsTrimmed) {
  TempDir dir;
  fs::create_directories(dir.data());
  fs::path file = dir.data() / "admin.key";
  {
    std::ofstream out(file);
    out << "  my-admin-key-0123456789\n\n";
  }
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  std::string error;
  std::optional<AdminKey> key = LoadOrCreateAdminKey(dir.data(), "", &error);
  ASSERT_TRUE(key) << error;
  EXPECT_EQ(key->key, "my-admin-key-0123456789");
  EXPECT_FALSE(key->generated);
}

}  // namespace
}  // namespace punt::security
