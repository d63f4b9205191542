#pragma once
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
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

// Holds got to the reviewed golden file fixtures/REL; DFA_REGEN=1 rewrites
// the file with got first (then review the diff).
inline void check_golden(const std::string& rel, const std::string& got) {
  if (std::getenv("DFA_REGEN") != nullptr) std::ofstream(fixture_path(rel)) << got;
  CHECK(got == fixture_text(rel));
}
