#include "model/shape.hpp"

#include <fmt/format.h>

#include <string_view>
#include <variant>

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

Json to_json_schema(const Shape& s) {
  Json j = Json::object();
  switch (s.type) {
    case Shape::Type::any: break;
    case Shape::Type::string: j["type"] = "string"; break;
    case Shape::Type::boolean: j["type"] = "boolean"; break;
    case Shape::Type::uint:
      j["type"] = "integer";
      j["minimum"] = 0;
      if (s.max != std::numeric_limits<std::uint64_t>::max()) j["maximum"] = s.max;
      break;
    case Shape::Type::integer: j["type"] = "integer"; break;
    case Shape::Type::object: {
      j["type"] = "object";
      Json props = Json::object(), required = Json::array();
      for (const Member& m : s.members) {
        props[m.key] = to_json_schema(*m.shape);
        if (m.required) required.push_back(m.key);
      }
      if (!props.empty()) j["properties"] = std::move(props);
      if (!required.empty()) j["required"] = std::move(required);
      break;
    }
    case Shape::Type::array:
      j["type"] = "array";
      j["items"] = to_json_schema(*s.elem);
      break;
    case Shape::Type::map:
      j["type"] = "object";
      j["additionalProperties"] = to_json_schema(*s.elem);
      break;
  }
  if (s.nullable && j.contains("type")) j["type"] = Json::array({j["type"], "null"});
  if (s.alt) j = {{"anyOf", Json::array({j, to_json_schema(*s.alt)})}};
  return j;
}

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

std::optional<std::string> check(const Shape& s, const Json& j, JsonPath& path) {
  if (j.is_null() && s.nullable) return std::nullopt;
  if (!type_fits(s, j)) {
    if (s.alt) return check(*s.alt, j, path);
    return fmt::format("{}: expected {}{}, found {}", path.str(), expected(s), s.nullable ? " or null" : "",
                       j.type_name());
  }
  switch (s.type) {
    case Shape::Type::uint:
      if (j.get<std::uint64_t>() > s.max)
        return fmt::format("{}: {} is out of range (at most {})", path.str(), j.get<std::uint64_t>(), s.max);
      return std::nullopt;
    case Shape::Type::object:
      for (const Member& m : s.members) {
        auto it = j.find(m.key);
        if (it == j.end()) {
          if (m.required) return fmt::format("{}: missing member \"{}\"", path.str(), m.key);
          continue;
        }
        path.push(m.key);
        auto e = check(*m.shape, *it, path);
        path.pop();
        if (e) return e;
      }
      return std::nullopt;
    case Shape::Type::map:
      for (auto it = j.begin(); it != j.end(); ++it) {
        path.push(it.key());
        auto e = check(*s.elem, it.value(), path);
        path.pop();
        if (e) return e;
      }
      return std::nullopt;
    case Shape::Type::array:
      for (std::size_t i = 0; i < j.size(); ++i) {
        path.push(i);
        auto e = check(*s.elem, j[i], path);
        path.pop();
        if (e) return e;
      }
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace

std::string JsonPath::str() const {
  std::string p = base_ ? base_() : std::string();
  for (const auto& part : parts_)
    p += std::holds_alternative<std::size_t>(part) ? "/" + std::to_string(std::get<std::size_t>(part))
                                                   : "/" + pointer_token(std::get<std::string_view>(part));
  return p.empty() ? "/" : p;
}

std::optional<std::string> check_shape(const Shape& s, const Json& j, JsonPath& path) { return check(s, j, path); }

std::optional<std::string> check_shape(const Shape& s, const Json& j, const std::string& pointer) {
  JsonPath path([&] { return pointer; });
  return check(s, j, path);
}

}  // namespace dfa
