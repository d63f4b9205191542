// What a finding rests on: named values that checks and drift set and the
// JSON reporters write as the finding's "evidence" object, in the order they
// were first set.
// Typed, so that no check builds JSON (JSON stays at the edges).
#pragma once
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dfa {

class Evidence {
 public:
  using Strings = std::vector<std::string>;
  using Objects = std::vector<Evidence>;
  // A document of its own (a value of daemon.json), as compact JSON text.
  struct Document {
    std::string json;
    bool operator==(const Document&) const = default;
  };
  class Value {
   public:
    Value() : v_(nullptr) {}
    Value(std::nullptr_t) : v_(nullptr) {}
    Value(bool b) : v_(b) {}
    template <std::integral I>
      requires(!std::same_as<I, bool>)
    Value(I n) : v_(static_cast<long long>(n)) {}
    Value(const char* s) : v_(std::string(s)) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(std::string_view s) : v_(std::string(s)) {}
    Value(Strings v) : v_(std::move(v)) {}
    Value(Objects v) : v_(std::move(v)) {}
    Value(Document d) : v_(std::move(d)) {}
    Value(Evidence e) : v_(std::make_shared<const Evidence>(std::move(e))) {}

    const std::string* string() const { return std::get_if<std::string>(&v_); }
    const Strings* strings() const { return std::get_if<Strings>(&v_); }
    // The visitor gets nullptr, bool, long long, the string, Strings,
    // Objects, Document or (a nested object) const Evidence&.
    template <class F>
    decltype(auto) visit(F&& f) const {
      return std::visit(
          [&](const auto& x) -> decltype(auto) {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::shared_ptr<const Evidence>>)
              return f(*x);
            else
              return f(x);
          },
          v_);
    }
    bool operator==(const Value& o) const;

   private:
    std::variant<std::nullptr_t, bool, long long, std::string, Strings, Objects, Document,
                 std::shared_ptr<const Evidence>>
        v_;
  };

  Evidence() = default;
  Evidence(std::initializer_list<std::pair<std::string, Value>> items) : items_(items) {}

  Value& operator[](std::string_view key) {
    for (auto& [k, v] : items_)
      if (k == key) return v;
    return items_.emplace_back(std::string(key), Value()).second;
  }
  const Value* find(std::string_view key) const {
    for (const auto& [k, v] : items_)
      if (k == key) return &v;
    return nullptr;
  }
  bool contains(std::string_view key) const { return find(key) != nullptr; }
  // The strings a member holds: itself when a string, its elements when a list.
  Strings strings(std::string_view key) const;
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }
  bool operator==(const Evidence&) const = default;

 private:
  std::vector<std::pair<std::string, Value>> items_;  // a few members: found by a look along
};

inline bool Evidence::Value::operator==(const Value& o) const {
  if (v_.index() != o.v_.index()) return false;
  if (auto p = std::get_if<std::shared_ptr<const Evidence>>(&v_))
    return **p == *std::get<std::shared_ptr<const Evidence>>(o.v_);
  return v_ == o.v_;
}

inline Evidence::Strings Evidence::strings(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return {};
  if (const std::string* s = v->string()) return {*s};
  if (const Strings* l = v->strings()) return *l;
  return {};
}

}  // namespace dfa
