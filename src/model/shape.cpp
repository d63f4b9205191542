#include "model/shape.hpp"

#include <fmt/format.h>

namespace dfa {
namespace shape {

namespace {
Shape of(Shape::Type t) {
  Shape s;
  s.type = t;
  return s;
}
}  // namespace

Shape any() { return of(Shape::Type::any); }
Shape str() { return of(Shape::Type::string); }
Shape boolean() { return of(Shape::Type::boolean); }
Shape uint(std::uint64_t max) {
  Shape s = of(Shape::Type::uint);
  s.max = max;
  return s;
}
Shape integer() { return of(Shape::Type::integer); }
Shape object(std::vector<Member> members) {
  Shape s = of(Shape::Type::object);
  s.members = std::move(members);
  return s;
}
Shape array(Shape elem) {
  Shape s = of(Shape::Type::array);
  s.elem = std::make_shared<const Shape>(std::move(elem));
  return s;
}
Shape map(Shape elem) {
  Shape s = of(Shape::Type::map);
  s.elem = std::make_shared<const Shape>(std::move(elem));
  return s;
}
Shape nullable(Shape s) {
  s.nullable = true;
  return s;
}
Shape either(Shape a, Shape b) {
  a.alt = std::make_shared<const Shape>(std::move(b));
  return a;
}
Member opt(const char* key, Shape s) { return {key, std::make_shared<const Shape>(std::move(s)), false}; }
Member req(const char* key, Shape s) { return {key, std::make_shared<const Shape>(std::move(s)), true}; }

}  // namespace shape

std::string pointer_token(std::string_view key) {
  std::string t;
  for (char c : key) {
    if (c == '~') t += "~0";
    else if (c == '/') t += "~1";
    else t += c;
  }
  return t;
}

namespace {

const char* expected(const Shape& s) {
  switch (s.type) {
    case Shape::Type::string: return "a string";
    case Shape::Type::boolean: return "true or false";
    case Shape::Type::uint: return "a whole number from 0";
    case Shape::Type::integer: return "a whole number";
    case Shape::Type::object:
    case Shape::Type::map: return "an object";
    case Shape::Type::array: return "an array";
    case Shape::Type::any: break;
  }
  return "a value";
}

bool type_fits(const Shape& s, const Json& j) {
  switch (s.type) {
    case Shape::Type::any: return true;
    case Shape::Type::string: return j.is_string();
    case Shape::Type::boolean: return j.is_boolean();
    case Shape::Type::uint: return j.is_number_unsigned() || (j.is_number_integer() && j.get<std::int64_t>() >= 0);
    case Shape::Type::integer: return j.is_number_integer();
    case Shape::Type::object:
    case Shape::Type::map: return j.is_object();
    case Shape::Type::array: return j.is_array();
  }
  return false;
}

std::string where(const std::string& pointer) { return pointer.empty() ? "/" : pointer; }

}  // namespace

std::optional<std::string> check_shape(const Shape& s, const Json& j, const std::string& pointer) {
  if (j.is_null() && s.nullable) return std::nullopt;
  if (!type_fits(s, j)) {
    if (s.alt) return check_shape(*s.alt, j, pointer);
    return fmt::format("{}: expected {}{}, found {}", where(pointer), expected(s), s.nullable ? " or null" : "",
                       j.type_name());
  }
  switch (s.type) {
    case Shape::Type::uint:
      if (j.get<std::uint64_t>() > s.max)
        return fmt::format("{}: {} is out of range (at most {})", where(pointer), j.get<std::uint64_t>(), s.max);
      return std::nullopt;
    case Shape::Type::object:
      for (const Member& m : s.members) {
        auto it = j.find(m.key);
        std::string p = pointer + "/" + pointer_token(m.key);
        if (it == j.end()) {
          if (m.required) return fmt::format("{}: missing member \"{}\"", where(pointer), m.key);
          continue;
        }
        if (auto e = check_shape(*m.shape, *it, p)) return e;
      }
      return std::nullopt;
    case Shape::Type::map:
      for (const auto& [k, v] : j.items())
        if (auto e = check_shape(*s.elem, v, pointer + "/" + pointer_token(k))) return e;
      return std::nullopt;
    case Shape::Type::array:
      for (std::size_t i = 0; i < j.size(); ++i)
        if (auto e = check_shape(*s.elem, j[i], fmt::format("{}/{}", pointer, i))) return e;
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace dfa
