/* Reads the payloads of nft compat expressions (iptables-nft's xt matches and
 * targets) straight from the kernel over netlink, through libnftnl. nft's JSON
 * names them only ({"xt": {"name": "DNAT"}}); this gives the bytes that
 * xt_decode turns into "--to-destination 172.17.0.2:80". */
#ifndef DFA_NFT_COMPAT_H
#define DFA_NFT_COMPAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dfa_nft_xt {
  const char *family; /* "ip", "ip6", "inet", "bridge", "arp", "netdev" */
  const char *table, *chain;
  uint64_t handle;
  unsigned ordinal; /* 0-based index among the rule's compat expressions */
  int kind;         /* DFA_XT_MATCH or DFA_XT_TARGET */
  const char *name;
  unsigned revision;
  const void *data;
  size_t len;
};

typedef void (*dfa_nft_xt_fn)(void *ctx, const struct dfa_nft_xt *x);

/* Dumps the rules of one table (family "ip", "ip6", ...) and reports each
 * compat expression. Returns 0, or -1 with errno set and a message in err. */
int dfa_nft_compat_dump(const char *family, const char *table, dfa_nft_xt_fn fn, void *ctx, char *err,
                        size_t errcap);

/* One element of a named set as the kernel holds it: its key (network
 * order for addresses), whether it ends an interval (the key is then one
 * past the interval's last value), and whether it is plain: nothing beside
 * the key and that flag (no data, timeout, comment, counter or range end). */
struct dfa_nft_elem {
  const void *key;
  size_t key_len;
  int end;
  int plain;
};

/* Returns nonzero to stop the dump. */
typedef int (*dfa_nft_elem_fn)(void *ctx, const struct dfa_nft_elem *e);

/* Dumps the elements of one named set. Returns 0, or -1 with errno set and a
 * message in err. */
int dfa_nft_set_elems(const char *family, const char *table, const char *set, dfa_nft_elem_fn fn, void *ctx,
                      char *err, size_t errcap);

/* The ruleset generation id, to detect a ruleset that changed while read. */
int dfa_nft_genid(uint32_t *genid, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif
#endif
