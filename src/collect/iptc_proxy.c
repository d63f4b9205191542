#define _GNU_SOURCE
#include "collect/iptc_proxy.h"
#include "collect/xt_decode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>
#include <linux/netfilter/ipset/ip_set.h>
#include <linux/netfilter/xt_set.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* "addr/len" as iptables-save prints -s/-d; empty for "any" (zero mask, not inverted). */
static void addr_mask(int af, const void *addr, const void *mask, int invert, char *out, size_t cap) {
  int bytes = af == AF_INET6 ? 16 : 4;
  const uint8_t *m = mask;
  int zero = 1;
  for (int i = 0; i < bytes; ++i)
    if (m[i]) zero = 0;
  out[0] = 0;
  if (zero && !invert) return;
  char a[INET6_ADDRSTRLEN], ms[INET6_ADDRSTRLEN];
  inet_ntop(af, addr, a, sizeof a);
  int l = dfa_mask_cidr(m, bytes);
  if (l < 0) {
    inet_ntop(af, mask, ms, sizeof ms);
    snprintf(out, cap, "%s/%s", a, ms);
  } else {
    snprintf(out, cap, "%s/%d", a, l);
  }
}

static void iface(const char *name, char *out, size_t cap) { snprintf(out, cap, "%.*s", IFNAMSIZ, name); }

static void fail(char *err, size_t cap, const char *what, const char *table, const char *msg) {
  snprintf(err, cap, "%s %s: %s", what, table, msg);
}

static int read4(const char *table, const struct dfa_ipt_visitor *v, char *err, size_t cap) {
  struct xtc_handle *h = iptc_init(table);
  if (!h) {
    int e = errno;
    fail(err, cap, "iptables-legacy table", table, iptc_strerror(e));
    errno = e;
    return -1;
  }
  for (const char *c = iptc_first_chain(h); c; c = iptc_next_chain(h)) {
    struct xt_counters cnt = {0, 0};
    const char *pol = iptc_builtin(c, h) ? iptc_get_policy(c, &cnt, h) : NULL;
    v->chain(v->ctx, c, iptc_builtin(c, h), pol ? pol : "", cnt.pcnt, cnt.bcnt);
    for (const struct ipt_entry *e = iptc_first_rule(c, h); e; e = iptc_next_rule(e, h)) {
      struct dfa_ipt_rule r;
      memset(&r, 0, sizeof r);
      addr_mask(AF_INET, &e->ip.src, &e->ip.smsk, e->ip.invflags & IPT_INV_SRCIP, r.src, sizeof r.src);
      addr_mask(AF_INET, &e->ip.dst, &e->ip.dmsk, e->ip.invflags & IPT_INV_DSTIP, r.dst, sizeof r.dst);
      r.src_inv = !!(e->ip.invflags & IPT_INV_SRCIP);
      r.dst_inv = !!(e->ip.invflags & IPT_INV_DSTIP);
      iface(e->ip.iniface, r.in_iface, sizeof r.in_iface);
      iface(e->ip.outiface, r.out_iface, sizeof r.out_iface);
      r.in_inv = !!(e->ip.invflags & IPT_INV_VIA_IN);
      r.out_inv = !!(e->ip.invflags & IPT_INV_VIA_OUT);
      r.proto = e->ip.proto;
      r.proto_inv = !!(e->ip.invflags & XT_INV_PROTO);
      r.frag = !!(e->ip.flags & IPT_F_FRAG);
      r.frag_inv = !!(e->ip.invflags & IPT_INV_FRAG);
      r.packets = e->counters.pcnt;
      r.bytes = e->counters.bcnt;
      for (unsigned off = sizeof(struct ipt_entry); off < e->target_offset;) {
        const struct xt_entry_match *m = (const void *)((const char *)e + off);
        if (m->u.match_size < sizeof *m) break;
        v->match(v->ctx, m->u.user.name, m->u.user.revision, m->data, m->u.match_size - sizeof *m);
        off += m->u.match_size;
      }
      const struct xt_entry_target *t = (const void *)((const char *)e + e->target_offset);
      r.verdict = iptc_get_target(e, h);
      r.is_goto = !!(e->ip.flags & IPT_F_GOTO);
      r.target_name = t->u.user.name;
      r.target_rev = t->u.user.revision;
      r.target_data = t->data;
      r.target_len = t->u.target_size >= sizeof *t ? t->u.target_size - sizeof *t : 0;
      v->rule(v->ctx, &r);
    }
  }
  iptc_free(h);
  return 0;
}

static int read6(const char *table, const struct dfa_ipt_visitor *v, char *err, size_t cap) {
  struct xtc_handle *h = ip6tc_init(table);
  if (!h) {
    int e = errno;
    fail(err, cap, "ip6tables-legacy table", table, ip6tc_strerror(e));
    errno = e;
    return -1;
  }
  for (const char *c = ip6tc_first_chain(h); c; c = ip6tc_next_chain(h)) {
    struct xt_counters cnt = {0, 0};
    const char *pol = ip6tc_builtin(c, h) ? ip6tc_get_policy(c, &cnt, h) : NULL;
    v->chain(v->ctx, c, ip6tc_builtin(c, h), pol ? pol : "", cnt.pcnt, cnt.bcnt);
    for (const struct ip6t_entry *e = ip6tc_first_rule(c, h); e; e = ip6tc_next_rule(e, h)) {
      struct dfa_ipt_rule r;
      memset(&r, 0, sizeof r);
      addr_mask(AF_INET6, &e->ipv6.src, &e->ipv6.smsk, e->ipv6.invflags & IP6T_INV_SRCIP, r.src, sizeof r.src);
      addr_mask(AF_INET6, &e->ipv6.dst, &e->ipv6.dmsk, e->ipv6.invflags & IP6T_INV_DSTIP, r.dst, sizeof r.dst);
      r.src_inv = !!(e->ipv6.invflags & IP6T_INV_SRCIP);
      r.dst_inv = !!(e->ipv6.invflags & IP6T_INV_DSTIP);
      iface(e->ipv6.iniface, r.in_iface, sizeof r.in_iface);
      iface(e->ipv6.outiface, r.out_iface, sizeof r.out_iface);
      r.in_inv = !!(e->ipv6.invflags & IP6T_INV_VIA_IN);
      r.out_inv = !!(e->ipv6.invflags & IP6T_INV_VIA_OUT);
      r.proto = (e->ipv6.flags & IP6T_F_PROTO) ? e->ipv6.proto : 0;
      r.proto_inv = !!(e->ipv6.invflags & IP6T_INV_PROTO);
      r.packets = e->counters.pcnt;
      r.bytes = e->counters.bcnt;
      for (unsigned off = sizeof(struct ip6t_entry); off < e->target_offset;) {
        const struct xt_entry_match *m = (const void *)((const char *)e + off);
        if (m->u.match_size < sizeof *m) break;
        v->match(v->ctx, m->u.user.name, m->u.user.revision, m->data, m->u.match_size - sizeof *m);
        off += m->u.match_size;
      }
      const struct xt_entry_target *t = (const void *)((const char *)e + e->target_offset);
      r.verdict = ip6tc_get_target(e, h);
      r.is_goto = !!(e->ipv6.flags & IP6T_F_GOTO);
      r.target_name = t->u.user.name;
      r.target_rev = t->u.user.revision;
      r.target_data = t->data;
      r.target_len = t->u.target_size >= sizeof *t ? t->u.target_size - sizeof *t : 0;
      v->rule(v->ctx, &r);
    }
  }
  ip6tc_free(h);
  return 0;
}

int dfa_iptc_read_table(int family, const char *table, const struct dfa_ipt_visitor *v, char *err,
                        size_t errcap) {
  err[0] = 0;
  return family == 6 ? read6(table, v, err, errcap) : read4(table, v, err, errcap);
}

int dfa_ipset_name(unsigned index, char *name, size_t cap) {
  int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
  if (fd < 0) return 0;
  struct ip_set_req_version req_version;
  socklen_t sz = sizeof req_version;
  req_version.op = IP_SET_OP_VERSION;
  if (getsockopt(fd, SOL_IP, SO_IP_SET, &req_version, &sz) != 0) {
    close(fd);
    return 0;
  }
  struct ip_set_req_get_set req;
  memset(&req, 0, sizeof req);
  req.version = req_version.version;
  req.op = IP_SET_OP_GET_BYINDEX;
  req.set.index = (ip_set_id_t)index;
  sz = sizeof req;
  int ok = getsockopt(fd, SOL_IP, SO_IP_SET, &req, &sz) == 0 && req.set.name[0];
  close(fd);
  if (ok) snprintf(name, cap, "%.*s", IPSET_MAXNAMELEN, req.set.name);
  return ok;
}
