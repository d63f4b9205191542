// Reading and writing JSON files with errors that name the file and position.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "model/result.hpp"

namespace dfa {

using Json = nlohmann::ordered_json;

// Line and column (1-based) of a byte offset in text.
struct TextPos {
  std::size_t line = 1, column = 1;
};
TextPos pos_of(std::string_view text, std::size_t byte_offset);

Result<std::string> read_text_file(const std::string& path);
// Parses text; on a syntax error the message is "NAME:LINE:COL: what".
Result<Json> parse_json_text(std::string_view text, const std::string& name);
Result<Json> read_json_file(const std::string& path);
// The array member `key` of j, or an empty array: lets loops read optional
// members without copying them (Json::value() returns a copy).
const Json& array_member(const Json& j, const char* key);

// Deterministic dump: two-space indent, invalid UTF-8 replaced, trailing newline.
// indent < 0: compact, one line.
std::string dump_json(const Json& j, int indent = 2);
// Dumps j straight into a file (atomically, like write_text_file), without
// building the whole text in memory first. "-" is standard output.
Result<bool> write_json_file(const std::string& path, const Json& j, int indent);
// Writes atomically (temp file + rename) so a reader never sees half a file.
Result<bool> write_text_file(const std::string& path, std::string_view text);

}  // namespace dfa
