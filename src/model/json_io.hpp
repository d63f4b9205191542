// Reading and writing JSON files with errors that name the file and position.
#pragma once
// nlohmann checks its preconditions (const operator[] of a member that is
// not there, ...) with assert: undefined behaviour in a release build. Here
// they throw, so a reader that slips on a malformed input fails with a
// message, never with undefined behaviour. Every file includes nlohmann
// through this header (tests/lint checks it).
namespace dfa {
[[noreturn]] void json_precondition_failed(const char* what);  // throws std::logic_error
}
#define JSON_ASSERT(x) ((x) ? static_cast<void>(0) : ::dfa::json_precondition_failed(#x))
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.hpp"

namespace dfa {

using Json = nlohmann::ordered_json;

// Line and column (1-based) of a byte offset in text.
struct TextPos {
  std::size_t line = 1, column = 1;
};
TextPos pos_of(std::string_view text, std::size_t byte_offset);

// Bounds every reader holds to (README, "Input limits"). Documents are
// snapshots and baselines; configuration is daemon.json, suppressions,
// remediation policies and nftables.conf. DFA_MAX_INPUT_MB raises (or
// lowers) the document bound for hosts whose snapshot is larger.
inline constexpr std::size_t kMaxDocumentBytes = std::size_t{256} << 20;
inline constexpr std::size_t kMaxConfigBytes = std::size_t{16} << 20;
// Deeper JSON is refused: no file this tool reads nests beyond a few dozen
// levels, and a bound keeps every recursive reader's stack small.
inline constexpr std::size_t kMaxJsonDepth = 256;
std::size_t max_document_bytes();

// A file the user names: a regular file, or "-" for standard input, read up
// to max_bytes. A FIFO, a device or a directory is refused rather than read
// (a FIFO could block forever, /dev/zero never ends).
Result<std::string> read_input_file(const std::string& path, std::size_t max_bytes);
// A file the system provides (/proc, /sys): any kind, read up to max_bytes.
Result<std::string> read_text_file(const std::string& path, std::size_t max_bytes = kMaxConfigBytes << 2);
// Parses text; on a syntax error the message is "NAME:LINE:COL: what".
// Nesting beyond kMaxJsonDepth and numbers beyond a double's range are
// errors with their position too.
Result<Json> parse_json_text(std::string_view text, const std::string& name);
Result<Json> read_json_file(const std::string& path, std::size_t max_bytes = max_document_bytes());
// The array member `key` of j, or an empty array: lets loops read optional
// members without copying them (Json::value() returns a copy).
const Json& array_member(const Json& j, const char* key);
// An empty object with room for n members. An object is a vector of
// (const key, value) pairs, which growing copies whole (a pair with a const
// key cannot be moved): one that gets a large member and then more members
// is made with room for all of them.
Json object_with_room(std::size_t n);
// The string member `key` of an object j, or fallback when j is not an
// object or the member is absent or not a string (Json::value() throws then).
std::string string_member(const Json& j, const char* key, const std::string& fallback = "");

// Deterministic dump: two-space indent, invalid UTF-8 replaced, trailing newline.
// indent < 0: compact, one line.
std::string dump_json(const Json& j, int indent = 2);
// Appends JSON text to a string as dump_json writes it (pretty: two-space
// indent; compact: one line), member by member: for documents too large to
// build as a tree (a large host's exposure is millions of source labels).
// depth: where the text goes in an enclosing document (its indent in pretty
// text). Each call must fit the JSON grammar (key() before an object's
// values); nothing checks it.
class JsonWriter {
 public:
  JsonWriter(std::string& out, bool pretty, int depth = 0) : b_(out), pretty_(pretty), depth_(depth) {}
  void begin_object() { open('{'); }
  void end_object() { close('}'); }
  void begin_array() { open('['); }
  void end_array() { close(']'); }
  // The name of the object member whose value comes next.
  void key(std::string_view name);
  void string(std::string_view s);
  void number(long long n);
  void boolean(bool b);
  void null();
  // A tree written whole, at this depth.
  void value(const Json& j);
  // A value already written as JSON text for this place (its depth, style).
  void raw(std::string_view text);

 private:
  void next();  // before a value: the comma and line break an array's element needs
  void quote(std::string_view s);
  void open(char c);
  void close(char c);
  std::string& b_;
  bool pretty_;
  int depth_;
  std::vector<bool> empty_;  // per open container: nothing in it yet
  bool after_key_ = false;
};
// Dumps j straight into a file (like write_text_file), without building the
// whole text in memory first. "-" is standard output.
Result<bool> write_json_file(const std::string& path, const Json& j, int indent);
// Writes so a reader never sees half a file and nothing else is touched: a
// new temporary created exclusively (O_EXCL|O_NOFOLLOW) beside the target,
// then renamed over it (a replaced file keeps its permissions). A target
// that exists and is not a regular file (/dev/null, a FIFO) is written to
// directly, never replaced. "-" is standard output.
Result<bool> write_text_file(const std::string& path, std::string_view text);

}  // namespace dfa
