// Exposure: for every published port and every listening host socket, per
// family, which classes of sources reach it, with the outcome and the rule
// that decides. Source classes partition the address space by every prefix
// and address the rules and the host's networks mention, per arrival
// interface; plus the host itself and a container on each Docker network.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "analyze/engine.hpp"

namespace dfa {

struct SourceClass {
  std::string label;  // "198.51.100.0/24 on eth1", "any other IPv4 address on eth0", "host", "containers on bridge"
  Source source;      // the representative (its kind: remote, the host, a container)
  std::string representative;
  // Remote: no rule or host network names its addresses ("any other IPv4
  // address on eth0"): the internet, for an interface that faces it.
  bool unnamed = false;
  // Remote: a member of an address set (a named set, a map's value, a run of
  // single-address rules): its addresses are not one prefix.
  bool in_set = false;
  // Remote: the number of its network (its label without " on IFACE")
  // among its family's classes (number_networks, audience.hpp), so that
  // reports fold networks without hashing labels; UINT32_MAX: not numbered.
  std::uint32_t network = UINT32_MAX;
  bool remote() const { return source.kind == Source::Kind::remote; }
};

// One cell: a source class, a destination of the entry, and the outcome.
// A view into its entry (valid while the entry lives).
struct ExposureCell {
  const SourceClass& source_class;
  const std::string& source;       // its label
  const std::string& destination;  // "203.0.113.1:8080/tcp", for people
  const IpAddr& destination_addr;  // 203.0.113.1 (port and protocol are the entry's)
  const std::shared_ptr<const Outcome>& outcome;
};

// What walk sharing knows of one family's classes (compute_exposure):
// per class, the prefixes and address sets its representative is in; per
// prefix, the chains whose rules name it (numbered), or that it counts for
// every walk (a host network, a set read element by element).
struct ClassFacts {
  std::shared_ptr<const std::vector<SourceClass>> classes;
  std::vector<std::vector<std::uint32_t>> prefixes, sets;  // per class
  std::vector<char> unattributed;  // per prefix
  // The prefixes each rule names, and whether it tests the prefix only as a
  // destination address, which for a request is the cell's (the same for
  // every class) and a class's only on the way back (VisitedChains). Per
  // chain: the prefixes its rules name, the same way.
  struct Named {
    std::uint32_t prefix;
    bool dst;
  };
  std::unordered_map<const Json*, std::vector<Named>> rule_prefixes;
  std::vector<std::vector<Named>> chain_prefixes;
  std::unordered_map<std::string, std::uint32_t> chain_id;  // chain label -> number
  // The chains walks enter, looked up once: their number, or UINT32_MAX.
  mutable std::map<std::pair<const BaseChain*, const Chain*>, std::uint32_t> chain_id_of;
  mutable std::mutex chain_id_lock;
  // Walks without NAT shared between the family's entries (other ports):
  // ExposureEntry::bare_walk.
  struct PortWalks;
  mutable std::shared_ptr<PortWalks> port_walks;
};

enum class EntryKind { published, socket };
std::string_view to_string(EntryKind k);  // "published", "socket"

// Every (source class, destination) cell of an entry, classes outer and
// destinations inner. A large host has millions of cells and a few thousand
// distinct outcomes, so cells are not stored one by one: classes that take
// the same path share a walk, and a cell is (its class's walk, destination).
struct ExposureEntry {
  EntryKind kind = EntryKind::published;
  std::string what;   // "web 0.0.0.0:8080->80/tcp" or "sshd 0.0.0.0:22/tcp", for people
  std::string owner;  // the container (published) or the process ("" when unknown)
  std::optional<IpAddr> bound;  // the address it is bound to; nullopt: every address
  unsigned port = 0;  // the host port packets are sent to
  unsigned target_port = 0;  // published: the container's port
  std::string proto;  // "tcp", "udp"
  int family = 4;
  std::shared_ptr<const std::vector<SourceClass>> classes;  // the family's classes
  std::vector<std::string> destinations;  // "ADDR:PORT/PROTO" per address, for people
  std::vector<IpAddr> destination_addrs;  // the same addresses
  std::vector<std::uint32_t> walk;  // per class: its walk (classes on one walk share every outcome)
  // For SharedWalks: the family's class facts, and per prefix whether a rule
  // that names it can match a packet to this port (or to a port DNAT makes
  // of it, or the reply's).
  std::shared_ptr<const ClassFacts> facts;
  std::vector<char> relevant;

  // The walk of class ci's representative to destination k without Docker's
  // NAT (what the filters alone would do: DFA001, remediate's intent),
  // untraced; walked once per SharedWalks group and destination and kept
  // for whoever asks next. The entry must stay where it is meanwhile.
  // A walk that met no socket is shared with the family's other entries
  // too, for every port that each chain it entered treats as this one
  // (PortCuts): the same class then takes the same path to that port.
  struct Bare {
    Outcome::Result result = Outcome::Result::dropped;
    bool dropped_at_input = false, dropped_in_filter = false;
    const std::string* decided_by = nullptr;  // interned
  };
  // holds, when given: the ports of this entry's protocol and destination k
  // for which class ci's walk is this one, [port, port] at least (what the
  // walk shares with the family's other entries, above).
  using PortRange = std::pair<unsigned, unsigned>;
  Bare bare_walk(const Engine& e, std::size_t ci, std::size_t k, PortRange* holds = nullptr) const;
  void forget_bare_walks() const { bare_.reset(); }
  struct BareWalks;
  mutable std::shared_ptr<BareWalks> bare_;
  std::vector<std::shared_ptr<const Outcome>> outcomes;  // walk * destinations + destination

  ExposureCell cell(std::size_t cls, std::size_t dst) const {
    const SourceClass& c = (*classes)[cls];
    return {c, c.label, destinations[dst], destination_addrs[dst], outcomes[walk[cls] * destinations.size() + dst]};
  }
  std::size_t size() const { return walk.size() * destinations.size(); }

  class Cells {
   public:
    struct iterator {
      const ExposureEntry* en;
      std::size_t i;
      ExposureCell operator*() const { return en->cell(i / en->destinations.size(), i % en->destinations.size()); }
      iterator& operator++() {
        ++i;
        return *this;
      }
      bool operator==(const iterator& o) const { return i == o.i; }
    };
    explicit Cells(const ExposureEntry& en) : en_(&en) {}
    iterator begin() const { return {en_, 0}; }
    iterator end() const { return {en_, en_->size()}; }
    bool empty() const { return en_->size() == 0; }
    ExposureCell front() const { return *begin(); }

   private:
    const ExposureEntry* en_;
  };
  Cells cells() const { return Cells(*this); }
};

// Cells of one entry grouped: one group per destination and outcome (result,
// target, deciding rule, what is uncertain), with every source class that
// gets it (a host with many classes stays readable). Groups come in the
// order of their first cell.
struct CellGroup {
  std::size_t destination;
  const Outcome* outcome;
  std::vector<std::uint32_t> sources;  // class indexes
};
std::vector<CellGroup> group_cells(const ExposureEntry& en);

// Walks shared between the remote classes of one entry, for packets to its
// port: a class takes the path of a recorded walk when it agrees with that
// walk's representative on every prefix the walk could test (those named by
// the rules of the chains it entered, the unattributed ones, every address
// set) and arrives on the same interface. Every test on that path then
// answers the same for both, step by step, so the path, the outcome and the
// deciding rule are the same (docs/analyzer.md, "Source classes"). Holds for
// any walk of the entry's port, with or without NAT or a guard, as long as
// the walks recorded in one SharedWalks are of one kind and one destination.
class SharedWalks {
 public:
  explicit SharedWalks(const ExposureEntry& en) : en_(en) {}
  // The id of a recorded walk class ci takes the path of, or nullopt (also
  // for the host and containers, which are walked each).
  std::optional<std::uint32_t> find(std::size_t ci) const;
  // Records the walk `id` of class ci, which entered the chains v.
  void add(std::size_t ci, std::uint32_t id, const VisitedChains& v);

 private:
  const std::string& key(std::size_t ci, const std::string* allowed) const;
  mutable std::string key_;  // key's buffer
  struct Scope {
    std::string allowed;                                   // per prefix: '\1' when its walks could test it
    std::unordered_map<std::string, std::uint32_t> walks;  // key under `allowed` -> walk
  };
  const ExposureEntry& en_;
  std::vector<Scope> scopes_;
  std::unordered_map<std::string, std::size_t> scope_of_;  // allowed -> its scope
  // Scopes by their last hit, most recent first: find tries a few of them
  // (a miss costs a walk, never a wrong answer).
  mutable std::vector<std::size_t> order_;
  // Every walk also under its class's key with every relevant prefix: a
  // class equal to it there is alike for any walk of this port.
  std::unordered_map<std::string, std::uint32_t> exact_;
  std::string base_;  // the relevant unattributed prefixes (made by the first add)
};

// Addresses the rules test as one (a named set, the addresses of a map that
// share a value, a run of single-address rules with the same verdict): alike
// for every rule, so one class, not one per element. A packet's source is a
// member or is not.
struct AddrSet {
  std::string label;  // "an address of set inet hostfw blocklist"
  int family = 4;
  AddrIntervals addrs;
  std::vector<IpAddr> representatives;  // addresses to try: one per element
  bool contains(const IpAddr& a) const { return addrs.contains(a); }
};

// The partition of one family's source addresses, per arrival interface.
struct SourcePartition {
  std::vector<Prefix> prefixes;  // every prefix the rules and networks mention
  std::vector<AddrSet> sets;     // named sets, map values, runs of single-address rules
  // Per prefix, the destination ports of the rules that mention it (any:
  // some rule mentions it without a fixed destination port). A prefix only
  // tells sources apart for packets to those ports. A prefix that rules test
  // only as a destination address (ip daddr, -d) tells sources apart only on
  // the way back, where a source is the reply's destination: those rules
  // count by the port replies go to (reply_any, reply_ranges).
  struct Ports {
    bool any = false;
    std::vector<std::pair<unsigned, unsigned>> ranges;
    bool reply_any = false;
    std::vector<std::pair<unsigned, unsigned>> reply_ranges;
    // Where it is mentioned: the chains whose rules name it ("nft inet
    // filter input"), which only a walk entering one of them can test; or
    // unattributed (a host network, a set read element by element), which
    // counts for every walk. rule: the rule naming it; dst: it names it
    // only as a destination address (ClassFacts::Named).
    struct Where {
      std::string chain;
      const Json* rule = nullptr;
      bool dst = false;
    };
    std::vector<Where> chains;
    bool unattributed = false;
  };
  std::vector<Ports> prefix_ports;
  std::vector<SourceClass> classes;
  // The label of the class an address arriving on iif belongs to.
  std::string label_of(const IpAddr& a, const std::string& iif) const;
};
struct Exposure {
  std::vector<SourceClass> classes;
  // Where each family's classes start in `classes` (an entry's class ci is
  // classes[class_base[family] + ci]).
  std::map<int, std::uint32_t> class_base;
  std::vector<ExposureEntry> entries;
  // The partition of each family the cells were computed with (their
  // classes are in `classes` too): what baselines and remediation reuse.
  std::map<int, SourcePartition> partitions;
  // Keep each entry's walks without NAT after the checks (remediate asks
  // for them again); otherwise a check drops an entry's when done with it.
  bool keep_bare_walks = false;
};
SourcePartition source_classes(const Engine& e, int family);
// threads: 0 is analysis_threads() (analyze/parallel.hpp); the result is the same for any number.
Exposure compute_exposure(const Engine& e, unsigned threads = 0);
// JSON schema 3: every source class once (source_classes), every distinct
// set of classes once (source_sets: indexes into source_classes), and one
// cell per outcome and set of sources, naming the set (source_set) and every
// destination that gets it, so the document grows with entries and distinct
// behaviours, not with classes times cells. (Schema 2 had a cell per
// destination.)
inline constexpr int kExposureSchemaVersion = 3;
Json to_json(const Exposure& x);
// The text of dump_json(to_json(x), pretty ? 2 : -1), handed to out piece by
// piece as it is made (no document in memory: a large host's is millions of
// labels). head: members placed after schema_version (the exposure
// command's tool and host). depth: the document's depth in an enclosing one
// (scan's), which also leaves off the final line break.
void write_json(const Exposure& x, const std::function<void(std::string_view)>& out, bool pretty,
                const Json& head = Json::object(), int depth = 0);
std::string render_text(const Exposure& x);
// One line per published port or socket: where it is open and to how many
// source classes (the table at the end of a scan report).
std::string render_open_table(const Exposure& x);

}  // namespace dfa
