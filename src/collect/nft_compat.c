#define _GNU_SOURCE
#include "collect/nft_compat.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collect/xt_decode.h"

static const char *family_name(uint32_t f) {
  switch (f) {
    case NFPROTO_IPV4: return "ip";
    case NFPROTO_IPV6: return "ip6";
    case NFPROTO_INET: return "inet";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_NETDEV: return "netdev";
  }
  return "unknown";
}

struct dump_ctx {
  dfa_nft_xt_fn fn;
  void *ctx;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data) {
  struct dump_ctx *d = data;
  struct nftnl_rule *r = nftnl_rule_alloc();
  if (!r) return MNL_CB_ERROR;
  if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
    nftnl_rule_free(r);
    return MNL_CB_OK; /* not a rule message; skip */
  }
  struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
  unsigned ordinal = 0;
  for (struct nftnl_expr *e = it ? nftnl_expr_iter_next(it) : NULL; e; e = nftnl_expr_iter_next(it)) {
    const char *ename = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    int kind;
    if (!strcmp(ename, "match"))
      kind = DFA_XT_MATCH;
    else if (!strcmp(ename, "target"))
      kind = DFA_XT_TARGET;
    else
      continue;
    struct dfa_nft_xt x;
    uint32_t len = 0;
    x.family = family_name(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY));
    x.table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
    x.chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
    x.handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
    x.ordinal = ordinal++;
    x.kind = kind;
    x.name = nftnl_expr_get_str(e, kind == DFA_XT_MATCH ? NFTNL_EXPR_MT_NAME : NFTNL_EXPR_TG_NAME);
    x.revision = nftnl_expr_get_u32(e, kind == DFA_XT_MATCH ? NFTNL_EXPR_MT_REV : NFTNL_EXPR_TG_REV);
    x.data = nftnl_expr_get(e, kind == DFA_XT_MATCH ? NFTNL_EXPR_MT_INFO : NFTNL_EXPR_TG_INFO, &len);
    x.len = x.data ? len : 0;
    d->fn(d->ctx, &x);
  }
  if (it) nftnl_expr_iter_destroy(it);
  nftnl_rule_free(r);
  return MNL_CB_OK;
}

/* Sends one request and runs cb over every reply until the dump ends. */
/* A dump ends with NLMSG_DONE; a plain request with its one answer. */
static int request(struct nlmsghdr *nlh, int dump, mnl_cb_t cb, void *data, char *err, size_t cap) {
  struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!nl) {
    int e = errno;
    snprintf(err, cap, "netlink socket: %s", strerror(e));
    errno = e;
    return -1;
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    snprintf(err, cap, "netlink bind: %s", strerror(e));
    mnl_socket_close(nl);
    errno = e;
    return -1;
  }
  unsigned portid = mnl_socket_get_portid(nl);
  uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    int e = errno;
    snprintf(err, cap, "netlink send: %s", strerror(e));
    mnl_socket_close(nl);
    errno = e;
    return -1;
  }
  size_t bufsz = MNL_SOCKET_BUFFER_SIZE * 4;
  char *buf = malloc(bufsz);
  int ret;
  if (!buf) {
    mnl_socket_close(nl);
    errno = ENOMEM;
    snprintf(err, cap, "out of memory");
    return -1;
  }
  for (;;) {
    ret = (int)mnl_socket_recvfrom(nl, buf, bufsz);
    if (ret <= 0) break;
    ret = mnl_cb_run(buf, (size_t)ret, seq, portid, cb, data);
    if (ret <= 0 || !dump) break;
  }
  int e = errno;
  free(buf);
  mnl_socket_close(nl);
  if (ret < 0) {
    snprintf(err, cap, "netlink dump: %s", strerror(e));
    errno = e;
    return -1;
  }
  return 0;
}

static int family_number(const char *f) {
  if (!strcmp(f, "ip")) return NFPROTO_IPV4;
  if (!strcmp(f, "ip6")) return NFPROTO_IPV6;
  if (!strcmp(f, "inet")) return NFPROTO_INET;
  if (!strcmp(f, "bridge")) return NFPROTO_BRIDGE;
  if (!strcmp(f, "arp")) return NFPROTO_ARP;
  if (!strcmp(f, "netdev")) return NFPROTO_NETDEV;
  return -1;
}

int dfa_nft_compat_dump(const char *family, const char *table, dfa_nft_xt_fn fn, void *ctx, char *err,
                        size_t errcap) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  err[0] = 0;
  int fam = family_number(family);
  if (fam < 0) {
    snprintf(err, errcap, "unknown nftables family %s", family);
    errno = EINVAL;
    return -1;
  }
  /* Only the named table: the kernel filters the dump, so a large ruleset
   * with a small iptables-nft part costs little. */
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, (uint16_t)fam, NLM_F_DUMP,
                                               (uint32_t)time(NULL));
  struct nftnl_rule *filter = nftnl_rule_alloc();
  if (!filter) {
    errno = ENOMEM;
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  nftnl_rule_set_str(filter, NFTNL_RULE_TABLE, table);
  nftnl_rule_nlmsg_build_payload(nlh, filter);
  nftnl_rule_free(filter);
  struct dump_ctx d = {fn, ctx};
  return request(nlh, 1, rule_cb, &d, err, errcap);
}

static int gen_cb(const struct nlmsghdr *nlh, void *data) {
  struct nftnl_gen *g = nftnl_gen_alloc();
  if (!g) return MNL_CB_ERROR;
  if (nftnl_gen_nlmsg_parse(nlh, g) == 0) *(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
  nftnl_gen_free(g);
  return MNL_CB_OK;
}

int dfa_nft_genid(uint32_t *genid, char *err, size_t errcap) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  err[0] = 0;
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, (uint32_t)time(NULL));
  *genid = 0;
  return request(nlh, 0, gen_cb, genid, err, errcap);
}

struct elem_ctx {
  dfa_nft_elem_fn fn;
  void *ctx;
};

/* One reply of the element dump: its elements, each reported as the kernel
 * holds it. An element with anything beside its key and flags (data, a
 * timeout, a comment, a counter, a range end) is reported as not plain. */
static int elem_cb(const struct nlmsghdr *nlh, void *data) {
  struct elem_ctx *d = data;
  struct nftnl_set *s = nftnl_set_alloc();
  if (!s) return MNL_CB_ERROR;
  if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
    nftnl_set_free(s);
    return MNL_CB_OK; /* not an element message; skip */
  }
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
  int rc = MNL_CB_OK;
  for (struct nftnl_set_elem *e = it ? nftnl_set_elems_iter_next(it) : NULL; e; e = nftnl_set_elems_iter_next(it)) {
    static const uint16_t extra[] = {NFTNL_SET_ELEM_VERDICT,    NFTNL_SET_ELEM_CHAIN,  NFTNL_SET_ELEM_DATA,
                                     NFTNL_SET_ELEM_TIMEOUT,    NFTNL_SET_ELEM_EXPIRATION, NFTNL_SET_ELEM_EXPR,
                                     NFTNL_SET_ELEM_OBJREF,     NFTNL_SET_ELEM_KEY_END, NFTNL_SET_ELEM_EXPRESSIONS};
    struct dfa_nft_elem x = {NULL, 0, 0, 1};
    uint32_t len = 0;
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY)) x.key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    x.key_len = x.key ? len : 0;
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS)) {
      uint32_t f = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS);
      x.end = (f & NFT_SET_ELEM_INTERVAL_END) != 0;
      if (f & ~(uint32_t)NFT_SET_ELEM_INTERVAL_END) x.plain = 0; /* a catch-all element, or newer */
    }
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; ++i)
      if (nftnl_set_elem_is_set(e, extra[i])) x.plain = 0;
    /* nft's own user data: TLVs of {type, length, value}. Flags (type 1:
     * NFTNL_UDATA_SET_ELEM_FLAGS, "this interval is open to the last
     * address") leave the element plain; a comment (type 0) or anything
     * else does not, so libnftables prints it. */
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
      uint32_t ulen = 0;
      const uint8_t *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen);
      for (uint32_t off = 0; u && off < ulen;) {
        if (ulen - off < 2 || u[off] != 1 || (uint32_t)u[off + 1] + 2 > ulen - off) {
          x.plain = 0;
          break;
        }
        off += 2u + u[off + 1];
      }
    }
    if (d->fn(d->ctx, &x) != 0) {
      rc = MNL_CB_STOP;
      break;
    }
  }
  if (it) nftnl_set_elems_iter_destroy(it);
  nftnl_set_free(s);
  return rc;
}

int dfa_nft_set_elems(const char *family, const char *table, const char *set, dfa_nft_elem_fn fn, void *ctx,
                      char *err, size_t errcap) {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  err[0] = 0;
  int fam = family_number(family);
  if (fam < 0) {
    snprintf(err, errcap, "unknown nftables family %s", family);
    errno = EINVAL;
    return -1;
  }
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)fam, NLM_F_DUMP,
                                               (uint32_t)time(NULL));
  struct nftnl_set *filter = nftnl_set_alloc();
  if (!filter) {
    errno = ENOMEM;
    snprintf(err, errcap, "out of memory");
    return -1;
  }
  nftnl_set_set_str(filter, NFTNL_SET_TABLE, table);
  nftnl_set_set_str(filter, NFTNL_SET_NAME, set);
  nftnl_set_elems_nlmsg_build_payload(nlh, filter);
  nftnl_set_free(filter);
  struct elem_ctx d = {fn, ctx};
  return request(nlh, 1, elem_cb, &d, err, errcap);
}
