// Who reaches a port, for people: the source classes of an entry sorted into
// four audiences, in the order a reader asks about them:
//   any address  - classes no rule or host network names ("any other IPv4
//                  address on eth0"): the internet, on an interface facing it;
//   networks     - prefixes and address sets the rules or networks name
//                  ("198.51.100.0/24 on eth1");
//   the host     - its own processes;
//   containers   - a container on each Docker network.
// A source (one class) is open to an entry when it reaches at least one of
// the entry's destinations, uncertain when it reaches none but the analysis
// is uncertain for one, closed otherwise. Every report counts these: "open to
// 11 of 12 sources" means source classes, in text, JSON, SARIF, HTML and
// remediate alike.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "analyze/exposure.hpp"

namespace dfa {

enum class Audience { any, networks, host, containers };
std::string_view to_string(Audience a);  // "any address", "networks", "the host", "containers"
Audience audience_of(const SourceClass& c);

enum class Reach { open, uncertain, closed };
std::string_view to_string(Reach r);  // "open", "uncertain", "closed"

struct AudienceRow {
  Audience who = Audience::any;
  // Class indexes (into the entry's classes) by state, in class order.
  std::array<std::vector<std::size_t>, 3> by_reach;  // indexed by Reach
  const std::vector<std::size_t>& of(Reach r) const { return by_reach[static_cast<std::size_t>(r)]; }
  // The row's reach as one word: open when one source is, else uncertain
  // when one is (uncertain is never closed), else closed.
  Reach state() const;
};

struct EntrySummary {
  std::size_t sources = 0, open = 0, uncertain = 0;  // classes of the entry's family
  std::vector<AudienceRow> rows;  // in Audience order, only audiences the family has
  // "open to 11 of 12 sources", "closed to all 12 sources", "not proven
  // closed: uncertain for 2 of 12 sources", "open to 1 of 12 sources,
  // uncertain for 2".
  std::string headline() const;
};
EntrySummary summarize(const ExposureEntry& en);

// A row's sources in a state, folded for reading: "on eth0, eth1" (any
// address), "172.17.0.0/16, 198.51.100.0/24 on eth0, eth1" (networks; per
// interface set when they differ), "bridge, backend" (containers), "" (host).
std::string describe(const ExposureEntry& en, const AudienceRow& row, Reach r);
// Numbers the networks of one family's classes (SourceClass::network): two
// classes get one number when their labels without " on IFACE" agree.
void number_networks(std::vector<SourceClass>& classes);
// The row as one line: "OPEN on eth0, eth1", "OPEN 198.51.100.0/24 on eth1;
// closed 203.0.113.0/24 on eth1".
std::string describe(const ExposureEntry& en, const AudienceRow& row);

}  // namespace dfa
