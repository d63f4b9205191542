/* libiptc/libip6tc behind plain C structs (the x_tables headers do not
 * compile as C++). Reads one legacy table of one family and reports chains,
 * rules and extension payloads through a visitor; never writes. */
#ifndef DFA_IPTC_PROXY_H
#define DFA_IPTC_PROXY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dfa_ipt_rule {
  char src[128], dst[128]; /* iptables-save form "addr/len"; empty when any */
  int src_inv, dst_inv;
  char in_iface[20], out_iface[20]; /* "+" suffix kept for wildcards; empty when any */
  int in_inv, out_inv;
  unsigned proto; /* 0 = any */
  int proto_inv;
  int frag, frag_inv; /* IPv4 -f */
  uint64_t packets, bytes;
  const char *verdict;     /* ACCEPT, DROP, RETURN, QUEUE, a chain name, or "" */
  int is_goto;             /* -g rather than -j */
  const char *target_name; /* extension name (DNAT, ...) or "" for standard */
  unsigned target_rev;
  const void *target_data;
  size_t target_len;
};

struct dfa_ipt_visitor {
  void *ctx;
  void (*chain)(void *ctx, const char *name, int builtin, const char *policy, uint64_t packets,
                uint64_t bytes);
  /* Called for each match of a rule, in order, before rule(). */
  void (*match)(void *ctx, const char *name, unsigned revision, const void *data, size_t len);
  void (*rule)(void *ctx, const struct dfa_ipt_rule *r);
};

/* family 4 or 6. Returns 0, or -1 with errno set and a message in err. */
int dfa_iptc_read_table(int family, const char *table, const struct dfa_ipt_visitor *v, char *err,
                        size_t errcap);

/* Name of an ipset by index, through the ipset socket; 0 when unknown. */
int dfa_ipset_name(unsigned index, char *name, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
