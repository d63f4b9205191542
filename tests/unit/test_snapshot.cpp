#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fixtures.hpp"
#include "model/snapshot.hpp"

using dfa::Json;

namespace {
Json minimal() {
  return Json::parse(R"({"schema_version": 1,
    "collectors": {"nftables": {"status": "ok", "reason": ""}, "docker_api": {"status": "absent", "reason": "no socket"}},
    "nftables": {"ruleset": [{"metainfo": {}}]}})");
}
}  // namespace

TEST_CASE("given a minimal valid snapshot, then it validates") {
  CHECK(dfa::validate_snapshot(minimal(), "s.json").ok());
}

TEST_CASE("given malformed JSON, then the error names file, line and column") {
  auto r = dfa::parse_json_text("{\n  \"schema_version\": 1,\n  \"collectors\": {,\n}", "snap.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.rfind("snap.json:3:18: ", 0) == 0);
}

TEST_CASE("given a snapshot from a newer schema, then it is refused with advice") {
  Json j = minimal();
  j["schema_version"] = 99;
  auto r = dfa::validate_snapshot(j, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message ==
        "s.json: /schema_version: snapshot schema 99 is newer than this dockfw-audit supports (1); upgrade dockfw-audit");
}

TEST_CASE("given structural errors, then the error names the JSON pointer") {
  Json j = minimal();
  j["nftables"]["ruleset"].push_back(7);
  auto r = dfa::validate_snapshot(j, "s.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "s.json: /nftables/ruleset/1: expected an object, found number");

  Json k = minimal();
  k["collectors"]["nftables"]["status"] = "maybe";
  CHECK(dfa::validate_snapshot(k, "s.json").error().message ==
        "s.json: /collectors/nftables/status: expected one of ok, absent, denied, error");

  Json m = minimal();
  m.erase("nftables");
  CHECK(dfa::validate_snapshot(m, "s.json").error().message ==
        "s.json: /collectors/nftables: collector is ok but section /nftables is missing");
}

TEST_CASE("given a collector that was denied, then its section is not offered as data") {
  Json j = minimal();
  j["collectors"]["nftables"]["status"] = "denied";
  dfa::Snapshot s{j};
  CHECK(s.section("nftables") == nullptr);
  CHECK(s.collector("nftables").status == dfa::CollectorStatus::denied);
  CHECK(s.collector("iptables_legacy").status == dfa::CollectorStatus::unknown);
}

namespace {
// Same values and the same number types, key order included.
bool identical(const dfa::Json& a, const dfa::Json& b) {
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y)
      if (x.key() != y.key() || !identical(x.value(), y.value())) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!identical(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}
}  // namespace

TEST_CASE("given any JSON text, then the fast reader makes the tree Json::parse makes") {
  // parse_json_text reads with simdjson and falls back to nlohmann where
  // the two could differ; either way the tree must be nlohmann's.
  const char* texts[] = {
      R"({"a": 1, "b": -1, "c": 1.5, "d": 1e3, "e": 18446744073709551615, "f": -9223372036854775808})",
      R"({"big": 123456789012345678901234567890, "x": [true, false, null]})",  // beyond uint64: a float
      R"({"k": 1, "j": 2, "k": 3})",                                         // duplicate: last value, first place
      R"({"s": "tab\there\nand a newline", "u": "\u00e9\ud83d\ude00\u0000", "q": "\"\\/"})",
      R"([[], {}, "", 0, [[[{"deep": [1, 2, {"z": "y"}]}]]]])",
      R"(  {"spaces": "around"}  )",
  };
  for (const char* t : texts) {
    CAPTURE(t);
    auto r = dfa::parse_json_text(t, "t.json");
    REQUIRE(r.ok());
    CHECK(identical(*r, dfa::Json::parse(t)));
  }
  std::string deep(dfa::kMaxJsonDepth, '[');
  deep += std::string(dfa::kMaxJsonDepth, ']');
  auto r = dfa::parse_json_text(deep, "deep.json");  // as deep as any reader takes
  REQUIRE(r.ok());
  CHECK(identical(*r, dfa::Json::parse(deep)));
}

TEST_CASE("given any string, then JsonWriter writes it as nlohmann's dump does") {
  // Plain printable ASCII is copied; everything else goes through nlohmann.
  const std::string strings[] = {"",
                                 "10.0.0.0/8 on eth0",
                                 "tcp dport 8080 drop comment \"web\"",
                                 "back\\slash",
                                 "tab\there",
                                 std::string("nul\0byte", 8),
                                 "del\x7f",
                                 "caf\xc3\xa9",
                                 "bad \xff utf-8",
                                 "\x1f"};
  for (const auto& v : strings) {
    CAPTURE(v);
    for (bool pretty : {false, true}) {
      std::string out;
      dfa::JsonWriter w(out, pretty);
      w.begin_array();
      w.string(v);
      w.end_array();
      CHECK(out + "\n" == dfa::dump_json(Json::array({v}), pretty ? 2 : -1));
    }
  }
}

TEST_CASE("given JSON nested beyond the limit, then it is refused at the bracket that crosses it") {
  for (std::size_t depth : {dfa::kMaxJsonDepth + 1, std::size_t{3000}, std::size_t{100000}}) {
    CAPTURE(depth);
    std::string deep = "{\"a\":\n" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
    auto r = dfa::parse_json_text(deep, "deep.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message == fmt::format("deep.json:2:{}: nested deeper than {} levels", dfa::kMaxJsonDepth,
                                           dfa::kMaxJsonDepth));
  }
  // Brackets inside strings are text, not nesting.
  std::string quoted = "[\"" + std::string(5000, '[') + "\"]";
  CHECK(dfa::parse_json_text(quoted, "q.json").ok());
}

TEST_CASE("given a number beyond a double, then it is refused with its position") {
  for (const char* t : {"{\"a\": 1e309}", "{\"a\": -1e999}", "{\"a\": 1.5E+400}"}) {
    CAPTURE(t);
    auto r = dfa::parse_json_text(t, "n.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("n.json:1:7: number ", 0) == 0);
    CHECK(r.error().message.find("is out of range") != std::string::npos);
  }
  // Integers beyond 64 bits are still read (as nlohmann does, as a double).
  CHECK(dfa::parse_json_text("[123456789012345678901234567890]", "n.json").ok());
}

TEST_CASE("given JSON that only one parser would accept, then it is refused with a position") {
  for (const char* t : {"{\"a\": \"raw\ttab\"}", "{\"a\": 1} trailing", "{\"a\": 01}", "[1, 2,]", "",
                        "[\"\\ud800\"]", "{\"a\": \"\x01\"}"}) {
    CAPTURE(t);
    auto r = dfa::parse_json_text(t, "bad.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.rfind("bad.json:1:", 0) == 0);
  }
}

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    char tmpl[] = "/tmp/dfa-io-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const char* name) const { return (path / name).string(); }
};
std::string slurp(const std::string& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("given a FIFO, a device or a directory as input, then it is refused at once, not read") {
  TempDir d;
  REQUIRE(::mkfifo((d / "fifo").c_str(), 0600) == 0);  // no writer: reading would block forever
  auto fifo = dfa::read_input_file(d / "fifo", dfa::kMaxConfigBytes);
  REQUIRE_FALSE(fifo.ok());
  CHECK(fifo.error().message == d / "fifo" + ": a FIFO, not a regular file; name a file, or - for standard input");
  auto zero = dfa::read_input_file("/dev/zero", dfa::kMaxConfigBytes);  // would never end
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.error().message.find("/dev/zero: a character device, not a regular file") == 0);
  auto dir = dfa::read_json_file(d.path.string());
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().message.find(": a directory, not a regular file") != std::string::npos);
}

TEST_CASE("given a file larger than its bound, then it is refused before it is read") {
  TempDir d;
  {
    std::ofstream big(d / "big.json");
    big << '[' << std::string(2000, ' ') << ']';
  }
  auto r = dfa::read_input_file(d / "big.json", 1000);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().kind == dfa::Error::Kind::input);
  CHECK(r.error().message == d / "big.json" + ": 2002 bytes, larger than the limit of 0 MiB for this kind of input "
                                              "(README, \"Input limits\")");
  CHECK(dfa::read_input_file(d / "big.json", 2002).ok());
}

TEST_CASE("given an output path, then the file is replaced whole, keeps its mode, and nothing is left beside it") {
  TempDir d;
  std::string out = d / "report.txt";
  {
    std::ofstream old(out);
    old << "old";
  }
  REQUIRE(::chmod(out.c_str(), 0640) == 0);
  // A link planted under the name the old writer used for its temporary.
  REQUIRE(::symlink((d / "victim").c_str(), (out + ".tmp").c_str()) == 0);
  REQUIRE(dfa::write_text_file(out, "new\n").ok());
  CHECK(slurp(out) == "new\n");
  struct stat st {};
  REQUIRE(::stat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK_FALSE(std::filesystem::exists(d / "victim"));  // nothing written through the link
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(d.path)) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 2);  // the report and the planted link: no temporary left
  REQUIRE(dfa::write_json_file(out, dfa::Json{{"a", 1}}, -1).ok());
  CHECK(slurp(out) == "{\"a\":1}\n");
}

TEST_CASE("given a target that is not a regular file, then it is written to, never replaced") {
  TempDir d;
  REQUIRE(dfa::write_text_file("/dev/null", "x").ok());
  struct stat st {};
  REQUIRE(::stat("/dev/null", &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  auto r = dfa::write_text_file(d / "no/such/dir/r.txt", "x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == d / "no/such/dir/r.txt" + ": cannot write: No such file or directory");
}
