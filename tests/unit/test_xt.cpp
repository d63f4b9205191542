// Replays x_tables payloads captured from a real kernel (iptables-legacy and
// iptables-nft, IPv4 and IPv6) and checks the decoding against what
// iptables-save printed for the same rules.
#include <doctest/doctest.h>

#include "collect/xt.hpp"
#include "fixtures.hpp"

using dfa::Json;

namespace {
std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}
Json decode(const Json& e) {
  std::string raw = unhex(e["raw"].get<std::string>());
  return dfa::decode_xt(e["family"].get<int>(), e["kind"] == "match" ? dfa::XtKind::match : dfa::XtKind::target,
                        e["name"].get<std::string>(), e["revision"].get<unsigned>(), raw.data(), raw.size());
}
}  // namespace

TEST_CASE("given captured kernel payloads, when decoded, then text and parameters match iptables-save") {
  Json payloads = fixture_json("xt/payloads.json");
  REQUIRE(payloads.size() >= 40);
  for (const auto& e : payloads) {
    CAPTURE(e.dump());
    Json d = decode(e);
    CHECK(d["decoded"] == true);
    CHECK(d["text"] == e["text"]);
    CHECK(d["params"] == e["params"]);
    CHECK(d["raw"] == e["raw"]);
  }
}

TEST_CASE("given Docker's DNAT payload, then the destination is recovered exactly") {
  for (const auto& e : fixture_json("xt/payloads.json"))
    if (e["name"] == "DNAT" && e["family"] == 4 && e["text"] == " --to-destination 172.17.0.2:80") {
      Json d = decode(e);
      CHECK(d["params"]["to_destination"] == "172.17.0.2:80");
      return;
    }
  FAIL("fixture lacks Docker's DNAT to 172.17.0.2:80");
}

TEST_CASE("given a truncated payload, then it is kept by name and flagged, not guessed") {
  for (const auto& e : fixture_json("xt/payloads.json"))
    if (e["name"] == "DNAT") {
      std::string raw = unhex(e["raw"].get<std::string>());
      Json d = dfa::decode_xt(4, dfa::XtKind::target, "DNAT", e["revision"].get<unsigned>(), raw.data(), 3);
      CHECK(d["decoded"] == false);
      CHECK(d["name"] == "DNAT");
      CHECK(d["raw"] == dfa::hex(raw.data(), 3));
      CHECK(d["reason"].get<std::string>().find("DNAT") != std::string::npos);
      CHECK(d["params"].empty());
      return;
    }
  FAIL("no DNAT fixture");
}

TEST_CASE("given an unknown extension or revision, then it is flagged undecoded") {
  const char bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  Json d = dfa::decode_xt(4, dfa::XtKind::match, "u32", 0, bytes, sizeof bytes);
  CHECK(d["decoded"] == false);
  CHECK(d["raw"] == "0102030405060708");
  Json r = dfa::decode_xt(4, dfa::XtKind::match, "addrtype", 7, bytes, sizeof bytes);
  CHECK(r["decoded"] == false);
}

TEST_CASE("given a legacy rule in snapshot form, then its text is the iptables-save line") {
  Json rule = {{"src", ""}, {"dst", "127.0.0.1/32"}, {"in_iface", "docker0"}, {"in_invert", true},
               {"out_iface", ""}, {"protocol", "tcp"}, {"fragment", ""},
               {"matches", Json::array({{{"name", "tcp"}, {"text", " --dport 9090"}}})},
               {"target", {{"kind", "extension"}, {"name", "DNAT"}, {"text", " --to-destination 172.17.0.3:80"}}}};
  CHECK(dfa::legacy_rule_text("DOCKER", rule) ==
        "-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 9090 -j DNAT --to-destination 172.17.0.3:80");
  rule["target"] = {{"kind", "goto"}, {"name", "admin-checks"}, {"text", ""}};
  CHECK(dfa::legacy_rule_text("DOCKER", rule).ends_with("-g admin-checks"));
}

TEST_CASE("given payloads at any alignment, then they decode as when aligned") {
  // nft compat payloads are only 4-byte aligned in their netlink attribute;
  // xt_rateinfo (limit) holds 64-bit members (found by fuzz_xt, under UBSan).
  for (const auto& e : fixture_json("xt/payloads.json")) {
    CAPTURE(e.dump());
    std::string raw = unhex(e["raw"].get<std::string>());
    for (std::size_t shift : {1, 4}) {
      std::string buf(shift, '\0');
      buf += raw;
      Json d = dfa::decode_xt(e["family"].get<int>(), e["kind"] == "match" ? dfa::XtKind::match : dfa::XtKind::target,
                              e["name"].get<std::string>(), e["revision"].get<unsigned>(), buf.data() + shift,
                              raw.size());
      CHECK(d == decode(e));
    }
  }
}
