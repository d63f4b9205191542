// The shape a JSON value must have before a reader may rely on it: member
// names, types, and ranges of numbers, declared once. A value that does not
// fit is an error naming its JSON pointer ("/host/routes/3/dev: expected a
// string, found number"), never an exception or undefined behaviour later.
#pragma once
#include <cstdint>
#include <functional>
#include <string_view>
#include <variant>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/json_io.hpp"

namespace dfa {

struct Shape;
struct Member {
  const char* key;
  std::shared_ptr<const Shape> shape;
  bool required = false;
};

struct Shape {
  enum class Type { any, string, boolean, uint, integer, object, array, map } type = Type::any;
  bool nullable = false;
  std::uint64_t max = std::numeric_limits<std::uint64_t>::max();  // uint: the largest value allowed
  std::vector<Member> members;                                     // object: the members it knows
  std::shared_ptr<const Shape> elem;                               // array and map: every element
  std::shared_ptr<const Shape> alt;                                // also accepted instead (string or array of strings)
};

namespace shape {
Shape any();
Shape str();
Shape boolean();
Shape uint(std::uint64_t max = std::numeric_limits<std::uint64_t>::max());
Shape integer();
Shape object(std::vector<Member> members);
Shape array(Shape elem);
Shape map(Shape elem);  // an object whose members are all of one shape
Shape nullable(Shape s);
Shape either(Shape a, Shape b);
// Members: `opt` may be absent, `req` must be there.
Member opt(const char* key, Shape s);
Member req(const char* key, Shape s);
}  // namespace shape

// The JSON pointer of a value being checked, as a stack of references into
// the document and a base made on demand: formatted only when a value does
// not fit, so checking a large snapshot allocates nothing per member.
class JsonPath {
 public:
  explicit JsonPath(std::function<std::string()> base) : base_(std::move(base)) {}
  void push(std::string_view key) { parts_.emplace_back(key); }
  void push(std::size_t index) { parts_.emplace_back(index); }
  void pop() { parts_.pop_back(); }
  std::string str() const;

 private:
  std::function<std::string()> base_;
  std::vector<std::variant<std::string_view, std::size_t>> parts_;
};

// The first mismatch as "/pointer: what", or nullopt when j fits.
std::optional<std::string> check_shape(const Shape& s, const Json& j, JsonPath& path);
std::optional<std::string> check_shape(const Shape& s, const Json& j, const std::string& pointer);
// The shape as a JSON Schema (draft 2020-12) fragment: the same contract the
// reader checks, published (docs/schemas/snapshot.schema.json).
Json to_json_schema(const Shape& s);

// One reference token of a JSON pointer, escaped (RFC 6901: ~ and /).
std::string pointer_token(std::string_view key);

}  // namespace dfa
