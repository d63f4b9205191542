#pragma once
#include <doctest/doctest.h>

#include <string>

#include "model/json_io.hpp"

inline std::string fixture_path(const std::string& rel) { return std::string(DFA_FIXTURES) + "/" + rel; }

inline std::string fixture_text(const std::string& rel) {
  auto t = dfa::read_text_file(fixture_path(rel));
  REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
  return t.value();
}

inline dfa::Json fixture_json(const std::string& rel) {
  auto j = dfa::read_json_file(fixture_path(rel));
  REQUIRE_MESSAGE(j.ok(), (j.ok() ? "" : j.error().message));
  return j.value();
}
