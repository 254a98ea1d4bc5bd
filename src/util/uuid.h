// Name-based UUIDs (RFC 4122 version 5, SHA-1). Thread-safe: pure functions.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace punt {

// The RFC 4122 URL namespace, 6ba7b811-9dad-11d1-80b4-00c04fd430c8.
inline constexpr std::string_view kUrlNamespace = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

// The lowercase UUIDv5 of `name` in `name_space` (a UUID in text form).
std::string Uuid5(std::string_view name_space, std::string_view name);
// The same for the name made of `name_pieces` one after another, written at
// the end of `out` (36 characters; the name is never put together).
void AppendUuid5(std::string& out, std::string_view name_space,
                 std::initializer_list<std::string_view> name_pieces);

}  // namespace punt
