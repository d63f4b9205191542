/* Decoding of x_tables extension payloads (matches and targets).
 *
 * The same bytes reach us two ways: inside an ipt_entry from libiptc
 * (iptables-legacy) and as the info blob of an nft compat expression
 * (iptables-nft, which nft's JSON shows only as {"xt": {"name": ...}}). One
 * decoder serves both, so a DNAT reads the same whichever backend Docker used.
 *
 * This is C: the kernel's x_tables uapi headers do not compile as C++. */
#ifndef DFA_XT_DECODE_H
#define DFA_XT_DECODE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { DFA_XT_MATCH = 0, DFA_XT_TARGET = 1 };
enum { DFA_KV_STRING = 's', DFA_KV_INT = 'i', DFA_KV_BOOL = 'b' };

/* Receives each decoded parameter: e.g. ("to_destination", "172.17.0.2:80", 's'). */
typedef void (*dfa_kv_fn)(void *ctx, const char *key, const char *value, int type);
/* Resolves an ipset index to its name; returns 0 when unknown. May be NULL. */
typedef int (*dfa_setname_fn)(void *ctx, unsigned index, char *name, size_t cap);

struct dfa_xt_out {
  /* iptables-save argument text without "-m NAME"/"-j NAME", e.g. " --dport 80". */
  char text[2048];
  /* For matches, the name iptables-save prints after -m (conntrack with the
   * state alias prints "state"). */
  char save_name[32];
  dfa_kv_fn kv;
  void *kv_ctx;
  dfa_setname_fn setname;
  void *setname_ctx;
};

/* family: 4 or 6. Returns 1 when decoded; 0 when the extension, its revision
 * or its size is not one this decoder knows (out->text then holds nothing). */
int dfa_xt_decode(int family, int kind, const char *name, unsigned revision, const void *data,
                  size_t len, struct dfa_xt_out *out);

/* Prefix length of a contiguous netmask of `bytes` bytes (4 or 16), or -1. */
int dfa_mask_cidr(const void *mask, int bytes);

/* iptables-save's quoting of a string argument (xtables_save_string), with
 * the leading space. Writes at most cap bytes including the terminator. */
void dfa_save_string(const char *value, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
