/* Decoders for the x_tables extensions Docker, firewalld, ufw and admins use.
 * The text they produce follows iptables-save 1.8.x to the byte, so a kernel
 * test can compare it with the real iptables-save output. */
#define _GNU_SOURCE
#include "collect/xt_decode.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stddef.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_CT.h>
#include <linux/netfilter/xt_LOG.h>
#include <linux/netfilter/xt_MARK.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_iprange.h>
#include <linux/netfilter/xt_limit.h>
#include <linux/netfilter/xt_mac.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_multiport.h>
#include <linux/netfilter/xt_physdev.h>
#include <linux/netfilter/xt_set.h>
#include <linux/netfilter/xt_state.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv4/ipt_LOG.h>
#include <linux/netfilter_ipv4/ipt_REJECT.h>
#include <linux/netfilter_ipv4/ipt_ttl.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
#include <linux/netfilter_ipv6/ip6t_REJECT.h>
#include <linux/netfilter_ipv6/ip6t_hl.h>
#include <linux/netfilter_ipv6/ip6t_rt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- output helpers ---------------------------------------------------- */

static void put(struct dfa_xt_out *o, const char *fmt, ...) {
  size_t used = strlen(o->text);
  if (used + 1 >= sizeof o->text) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(o->text + used, sizeof o->text - used, fmt, ap);
  va_end(ap);
}

static void kv(struct dfa_xt_out *o, const char *key, int type, const char *fmt, ...) {
  if (!o->kv) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  o->kv(o->kv_ctx, key, buf, type);
}

static void kv_bool(struct dfa_xt_out *o, const char *key, int v) {
  kv(o, key, DFA_KV_BOOL, "%s", v ? "true" : "false");
}

static void inv(struct dfa_xt_out *o, int invert) {
  if (invert) put(o, " !");
}

void dfa_save_string(const char *value, char *buf, size_t cap) {
  static const char no_quote[] =
      "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  size_t n = 0;
#define EMIT(c)                      \
  do {                               \
    if (n + 1 < cap) buf[n++] = (c); \
  } while (0)
  size_t plain = strspn(value, no_quote);
  EMIT(' ');
  if (plain > 0 && value[plain] == 0) {
    for (const char *p = value; *p; ++p) EMIT(*p);
  } else {
    EMIT('"');
    for (const char *p = value; *p; ++p) {
      if (*p == '"' || *p == '\\' || *p == '\'') EMIT('\\');
      EMIT(*p);
    }
    EMIT('"');
  }
  if (cap) buf[n < cap ? n : cap - 1] = 0;
#undef EMIT
}

static void put_string(struct dfa_xt_out *o, const char *s) {
  char buf[600];
  dfa_save_string(s, buf, sizeof buf);
  put(o, "%s", buf);
}

static void addr_str(int family, const void *a, char *buf, size_t cap) {
  inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)cap);
}

int dfa_mask_cidr(const void *mask, int bytes) {
  const uint8_t *m = mask;
  int bits = 0, i = 0;
  for (; i < bytes && m[i] == 0xff; ++i) bits += 8;
  if (i < bytes) {
    uint8_t b = m[i];
    while (b & 0x80) {
      ++bits;
      b = (uint8_t)(b << 1);
    }
    if (b) return -1;
    for (++i; i < bytes; ++i)
      if (m[i]) return -1;
  }
  return bits;
}

/* ---- matches ------------------------------------------------------------ */

static void ports(struct dfa_xt_out *o, const char *opt, const char *key, const uint16_t p[2],
                  int invert) {
  if (p[0] == 0 && p[1] == 0xFFFF) return;
  inv(o, invert);
  if (p[0] != p[1]) {
    put(o, " --%s %u:%u", opt, p[0], p[1]);
    kv(o, key, DFA_KV_STRING, "%u:%u", p[0], p[1]);
  } else {
    put(o, " --%s %u", opt, p[0]);
    kv(o, key, DFA_KV_STRING, "%u", p[0]);
  }
  char ik[64];
  snprintf(ik, sizeof ik, "%s_invert", key);
  kv_bool(o, ik, invert);
}

static void tcp_flags(struct dfa_xt_out *o, uint8_t flags) {
  static const struct {
    const char *name;
    uint8_t bit;
  } names[] = {{"FIN", 0x01}, {"SYN", 0x02}, {"RST", 0x04}, {"PSH", 0x08}, {"ACK", 0x10}, {"URG", 0x20}};
  int any = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (flags & names[i].bit) {
      put(o, "%s%s", any ? "," : "", names[i].name);
      any = 1;
    }
  if (!any) put(o, "NONE");
}

static int dec_tcp(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct xt_tcp *t = d;
  if (len < sizeof *t) return 0;
  ports(o, "sport", "sport", t->spts, t->invflags & XT_TCP_INV_SRCPT);
  ports(o, "dport", "dport", t->dpts, t->invflags & XT_TCP_INV_DSTPT);
  if (t->option || (t->invflags & XT_TCP_INV_OPTION)) {
    inv(o, t->invflags & XT_TCP_INV_OPTION);
    put(o, " --tcp-option %u", t->option);
    kv(o, "tcp_option", DFA_KV_INT, "%u", t->option);
  }
  if (t->flg_mask || (t->invflags & XT_TCP_INV_FLAGS)) {
    inv(o, t->invflags & XT_TCP_INV_FLAGS);
    size_t at = strlen(o->text);
    put(o, " --tcp-flags ");
    tcp_flags(o, t->flg_mask);
    put(o, " ");
    tcp_flags(o, t->flg_cmp);
    kv(o, "tcp_flags", DFA_KV_STRING, "%s", o->text + at + strlen(" --tcp-flags "));
    kv_bool(o, "tcp_flags_invert", t->invflags & XT_TCP_INV_FLAGS);
  }
  return 1;
}

static int dec_udp(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct xt_udp *u = d;
  if (len < sizeof *u) return 0;
  ports(o, "sport", "sport", u->spts, u->invflags & XT_UDP_INV_SRCPT);
  ports(o, "dport", "dport", u->dpts, u->invflags & XT_UDP_INV_DSTPT);
  return 1;
}

static const char *multiport_opt(uint8_t flags, const char **key) {
  switch (flags) {
    case XT_MULTIPORT_SOURCE: *key = "sports"; return "--sports";
    case XT_MULTIPORT_DESTINATION: *key = "dports"; return "--dports";
    default: *key = "ports"; return "--ports";
  }
}

static int dec_multiport(struct dfa_xt_out *o, unsigned rev, const void *d, size_t len) {
  const char *key;
  char list[256] = "";
  size_t n = 0;
  if (rev == 0) {
    const struct xt_multiport *m = d;
    if (len < sizeof *m || m->count > XT_MULTI_PORTS) return 0;
    put(o, " %s ", multiport_opt(m->flags, &key));
    for (unsigned i = 0; i < m->count; ++i)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s%u", i ? "," : "", m->ports[i]);
    put(o, "%s", list);
    kv(o, key, DFA_KV_STRING, "%s", list);
    kv_bool(o, "invert", 0);
    return 1;
  }
  if (rev != 1) return 0;
  const struct xt_multiport_v1 *m = d;
  if (len < sizeof *m || m->count > XT_MULTI_PORTS) return 0;
  inv(o, m->invert);
  put(o, " %s ", multiport_opt(m->flags, &key));
  for (unsigned i = 0; i < m->count && n < sizeof list; ++i) {
    n += (size_t)snprintf(list + n, sizeof list - n, "%s%u", i ? "," : "", m->ports[i]);
    if (m->pflags[i] && i + 1 < m->count) {
      ++i;
      n += (size_t)snprintf(list + n, sizeof list - n, ":%u", m->ports[i]);
    }
  }
  put(o, "%s", list);
  kv(o, key, DFA_KV_STRING, "%s", list);
  kv_bool(o, "invert", m->invert);
  return 1;
}

/* Conntrack state bits as xt_conntrack prints them. */
static void ct_states(struct dfa_xt_out *o, unsigned mask, char *list, size_t cap) {
  static const struct {
    unsigned bit;
    const char *name;
  } s[] = {{XT_CONNTRACK_STATE_INVALID, "INVALID"},
           {XT_CONNTRACK_STATE_BIT(IP_CT_NEW), "NEW"},
           {XT_CONNTRACK_STATE_BIT(IP_CT_RELATED), "RELATED"},
           {XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED"},
           {XT_CONNTRACK_STATE_UNTRACKED, "UNTRACKED"},
           {XT_CONNTRACK_STATE_SNAT, "SNAT"},
           {XT_CONNTRACK_STATE_DNAT, "DNAT"}};
  size_t n = 0;
  list[0] = 0;
  for (size_t i = 0; i < sizeof s / sizeof s[0]; ++i)
    if (mask & s[i].bit) n += (size_t)snprintf(list + n, cap - n, "%s%s", n ? "," : "", s[i].name);
  put(o, " %s", list);
}

static void ct_status(struct dfa_xt_out *o, unsigned mask) {
  static const struct {
    unsigned bit;
    const char *name;
  } s[] = {{IPS_EXPECTED, "EXPECTED"}, {IPS_SEEN_REPLY, "SEEN_REPLY"}, {IPS_ASSURED, "ASSURED"},
           {IPS_CONFIRMED, "CONFIRMED"}};
  char list[128] = "";
  size_t n = 0;
  for (size_t i = 0; i < sizeof s / sizeof s[0]; ++i)
    if (mask & s[i].bit) n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? "," : "", s[i].name);
  if (!n) snprintf(list, sizeof list, "NONE");
  put(o, " %s", list);
  kv(o, "ctstatus", DFA_KV_STRING, "%s", list);
}

static void ct_addr(struct dfa_xt_out *o, int family, const char *opt, const char *key,
                    const union nf_inet_addr *a, const union nf_inet_addr *m, int invert) {
  char as[INET6_ADDRSTRLEN], ms[INET6_ADDRSTRLEN], val[INET6_ADDRSTRLEN * 2 + 2];
  addr_str(family, a, as, sizeof as);
  int cidr = dfa_mask_cidr(m, family == 6 ? 16 : 4);
  int full = family == 6 ? 128 : 32;
  inv(o, invert);
  if (cidr == full)
    snprintf(val, sizeof val, "%s", as);
  else if (cidr >= 0)
    snprintf(val, sizeof val, "%s/%d", as, cidr);
  else {
    addr_str(family, m, ms, sizeof ms);
    snprintf(val, sizeof val, "%s/%s", as, ms);
  }
  put(o, " --%s %s", opt, val);
  kv(o, key, DFA_KV_STRING, "%s", val);
  char ik[64];
  snprintf(ik, sizeof ik, "%s_invert", key);
  kv_bool(o, ik, invert);
}

static void ct_port(struct dfa_xt_out *o, const char *opt, uint16_t lo, uint16_t hi, int invert) {
  inv(o, invert);
  if (hi == 0 || lo == hi) {
    put(o, " --%s %u", opt, lo);
    kv(o, opt + 2, DFA_KV_STRING, "%u", lo);
  } else {
    put(o, " --%s %u:%u", opt, lo, hi);
    kv(o, opt + 2, DFA_KV_STRING, "%u:%u", lo, hi);
  }
}

static int dec_conntrack(struct dfa_xt_out *o, int family, unsigned rev, const void *d, size_t len) {
  struct xt_conntrack_mtinfo3 c;
  memset(&c, 0, sizeof c);
  if (rev == 1) {
    const struct xt_conntrack_mtinfo1 *r = d;
    if (len < sizeof *r) return 0;
    memcpy(&c, r, offsetof(struct xt_conntrack_mtinfo1, state_mask));
    c.state_mask = r->state_mask;
    c.status_mask = r->status_mask;
  } else if (rev == 2) {
    const struct xt_conntrack_mtinfo2 *r = d;
    if (len < sizeof *r) return 0;
    memcpy(&c, r, sizeof *r);
  } else if (rev == 3) {
    if (len < sizeof c) return 0;
    memcpy(&c, d, sizeof c);
  } else {
    return 0;
  }
  int alias = (c.match_flags & XT_CONNTRACK_STATE_ALIAS) != 0;
  if (alias) snprintf(o->save_name, sizeof o->save_name, "state");
  if (c.match_flags & XT_CONNTRACK_STATE) {
    char list[128];
    inv(o, c.invert_flags & XT_CONNTRACK_STATE);
    put(o, " --%s", alias ? "state" : "ctstate");
    ct_states(o, c.state_mask, list, sizeof list);
    kv(o, "ctstate", DFA_KV_STRING, "%s", list);
    kv_bool(o, "ctstate_invert", c.invert_flags & XT_CONNTRACK_STATE);
  }
  if (c.match_flags & XT_CONNTRACK_PROTO) {
    inv(o, c.invert_flags & XT_CONNTRACK_PROTO);
    put(o, " --ctproto %u", c.l4proto);
    kv(o, "ctproto", DFA_KV_INT, "%u", c.l4proto);
  }
  if (c.match_flags & XT_CONNTRACK_ORIGSRC)
    ct_addr(o, family, "ctorigsrc", "ctorigsrc", &c.origsrc_addr, &c.origsrc_mask,
            c.invert_flags & XT_CONNTRACK_ORIGSRC);
  if (c.match_flags & XT_CONNTRACK_ORIGDST)
    ct_addr(o, family, "ctorigdst", "ctorigdst", &c.origdst_addr, &c.origdst_mask,
            c.invert_flags & XT_CONNTRACK_ORIGDST);
  if (c.match_flags & XT_CONNTRACK_REPLSRC)
    ct_addr(o, family, "ctreplsrc", "ctreplsrc", &c.replsrc_addr, &c.replsrc_mask,
            c.invert_flags & XT_CONNTRACK_REPLSRC);
  if (c.match_flags & XT_CONNTRACK_REPLDST)
    ct_addr(o, family, "ctrepldst", "ctrepldst", &c.repldst_addr, &c.repldst_mask,
            c.invert_flags & XT_CONNTRACK_REPLDST);
  if (c.match_flags & XT_CONNTRACK_ORIGSRC_PORT)
    ct_port(o, "ctorigsrcport", c.origsrc_port, c.origsrc_port_high,
            c.invert_flags & XT_CONNTRACK_ORIGSRC_PORT);
  if (c.match_flags & XT_CONNTRACK_ORIGDST_PORT)
    ct_port(o, "ctorigdstport", c.origdst_port, c.origdst_port_high,
            c.invert_flags & XT_CONNTRACK_ORIGDST_PORT);
  if (c.match_flags & XT_CONNTRACK_REPLSRC_PORT)
    ct_port(o, "ctreplsrcport", c.replsrc_port, c.replsrc_port_high,
            c.invert_flags & XT_CONNTRACK_REPLSRC_PORT);
  if (c.match_flags & XT_CONNTRACK_REPLDST_PORT)
    ct_port(o, "ctrepldstport", c.repldst_port, c.repldst_port_high,
            c.invert_flags & XT_CONNTRACK_REPLDST_PORT);
  if (c.match_flags & XT_CONNTRACK_STATUS) {
    inv(o, c.invert_flags & XT_CONNTRACK_STATUS);
    put(o, " --ctstatus");
    ct_status(o, c.status_mask);
  }
  if (c.match_flags & XT_CONNTRACK_EXPIRES) {
    inv(o, c.invert_flags & XT_CONNTRACK_EXPIRES);
    if (c.expires_min == c.expires_max)
      put(o, " --ctexpire %u", c.expires_min);
    else
      put(o, " --ctexpire %u:%u", c.expires_min, c.expires_max);
    kv(o, "ctexpire", DFA_KV_STRING, "%u:%u", c.expires_min, c.expires_max);
  }
  if (c.match_flags & XT_CONNTRACK_DIRECTION) {
    int reply = (c.invert_flags & XT_CONNTRACK_DIRECTION) != 0;
    put(o, " --ctdir %s", reply ? "REPLY" : "ORIGINAL");
    kv(o, "ctdir", DFA_KV_STRING, "%s", reply ? "REPLY" : "ORIGINAL");
  }
  return 1;
}

static int dec_state(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct xt_state_info *s = d;
  if (len < sizeof *s) return 0;
  static const struct {
    unsigned bit;
    const char *name;
  } b[] = {{XT_STATE_INVALID, "INVALID"},
           {XT_STATE_BIT(IP_CT_NEW), "NEW"},
           {XT_STATE_BIT(IP_CT_RELATED), "RELATED"},
           {XT_STATE_BIT(IP_CT_ESTABLISHED), "ESTABLISHED"},
           {XT_STATE_UNTRACKED, "UNTRACKED"}};
  char list[96] = "";
  size_t n = 0;
  for (size_t i = 0; i < sizeof b / sizeof b[0]; ++i)
    if (s->statemask & b[i].bit) n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? "," : "", b[i].name);
  put(o, " --state %s", list);
  kv(o, "ctstate", DFA_KV_STRING, "%s", list);
  kv_bool(o, "ctstate_invert", 0);
  return 1;
}

static void addrtypes(struct dfa_xt_out *o, const char *key, uint16_t mask) {
  static const char *names[] = {"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
                                "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"};
  char list[160] = "";
  size_t n = 0;
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; ++i)
    if (mask & (1u << i)) n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? "," : "", names[i]);
  put(o, "%s", list);
  kv(o, key, DFA_KV_STRING, "%s", list);
}

static int dec_addrtype(struct dfa_xt_out *o, unsigned rev, const void *d, size_t len) {
  uint16_t src, dst;
  int src_inv, dst_inv, lim_in = 0, lim_out = 0;
  if (rev == 0) {
    const struct xt_addrtype_info *a = d;
    if (len < sizeof *a) return 0;
    src = a->source, dst = a->dest, src_inv = a->invert_source != 0, dst_inv = a->invert_dest != 0;
  } else if (rev == 1) {
    const struct xt_addrtype_info_v1 *a = d;
    if (len < sizeof *a) return 0;
    src = a->source, dst = a->dest;
    src_inv = (a->flags & XT_ADDRTYPE_INVERT_SOURCE) != 0;
    dst_inv = (a->flags & XT_ADDRTYPE_INVERT_DEST) != 0;
    lim_in = (a->flags & XT_ADDRTYPE_LIMIT_IFACE_IN) != 0;
    lim_out = (a->flags & XT_ADDRTYPE_LIMIT_IFACE_OUT) != 0;
  } else {
    return 0;
  }
  if (src) {
    inv(o, src_inv);
    put(o, " --src-type ");
    addrtypes(o, "src_type", src);
    kv_bool(o, "src_type_invert", src_inv);
  }
  if (dst) {
    inv(o, dst_inv);
    put(o, " --dst-type ");
    addrtypes(o, "dst_type", dst);
    kv_bool(o, "dst_type_invert", dst_inv);
  }
  if (lim_in) put(o, " --limit-iface-in");
  if (lim_out) put(o, " --limit-iface-out");
  kv_bool(o, "limit_iface_in", lim_in);
  kv_bool(o, "limit_iface_out", lim_out);
  return 1;
}

static int dec_physdev(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct xt_physdev_info *p = d;
  if (len < sizeof *p) return 0;
  char name[IFNAMSIZ + 1];
  if (p->bitmask & XT_PHYSDEV_OP_IN) {
    inv(o, p->invert & XT_PHYSDEV_OP_IN);
    snprintf(name, sizeof name, "%.*s", IFNAMSIZ, p->physindev);
    put(o, " --physdev-in %s", name);
    kv(o, "physdev_in", DFA_KV_STRING, "%s", name);
    kv_bool(o, "physdev_in_invert", p->invert & XT_PHYSDEV_OP_IN);
  }
  if (p->bitmask & XT_PHYSDEV_OP_OUT) {
    inv(o, p->invert & XT_PHYSDEV_OP_OUT);
    snprintf(name, sizeof name, "%.*s", IFNAMSIZ, p->physoutdev);
    put(o, " --physdev-out %s", name);
    kv(o, "physdev_out", DFA_KV_STRING, "%s", name);
    kv_bool(o, "physdev_out_invert", p->invert & XT_PHYSDEV_OP_OUT);
  }
  static const struct {
    unsigned op;
    const char *opt, *key;
  } flags[] = {{XT_PHYSDEV_OP_ISIN, "physdev-is-in", "physdev_is_in"},
               {XT_PHYSDEV_OP_ISOUT, "physdev-is-out", "physdev_is_out"},
               {XT_PHYSDEV_OP_BRIDGED, "physdev-is-bridged", "physdev_is_bridged"}};
  for (size_t i = 0; i < 3; ++i)
    if (p->bitmask & flags[i].op) {
      int iv = (p->invert & flags[i].op) != 0;
      inv(o, iv);
      put(o, " --%s", flags[i].opt);
      kv(o, flags[i].key, DFA_KV_STRING, "%s", iv ? "not" : "yes");
    }
  return 1;
}

static int dec_comment(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct xt_comment_info *c = d;
  if (len < sizeof *c) return 0;
  char s[XT_MAX_COMMENT_LEN + 1];
  snprintf(s, sizeof s, "%.*s", XT_MAX_COMMENT_LEN, c->comment);
  put(o, " --comment");
  put_string(o, s);
  kv(o, "comment", DFA_KV_STRING, "%s", s);
  return 1;
}

static int dec_iprange(struct dfa_xt_out *o, int family, unsigned rev, const void *d, size_t len) {
  const struct xt_iprange_mtinfo *r = d;
  if (rev != 1 || len < sizeof *r) return 0;
  char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
  if (r->flags & IPRANGE_SRC) {
    inv(o, r->flags & IPRANGE_SRC_INV);
    addr_str(family, &r->src_min, a, sizeof a);
    addr_str(family, &r->src_max, b, sizeof b);
    put(o, " --src-range %s-%s", a, b);
    kv(o, "src_range", DFA_KV_STRING, "%s-%s", a, b);
    kv_bool(o, "src_range_invert", r->flags & IPRANGE_SRC_INV);
  }
  if (r->flags & IPRANGE_DST) {
    inv(o, r->flags & IPRANGE_DST_INV);
    addr_str(family, &r->dst_min, a, sizeof a);
    addr_str(family, &r->dst_max, b, sizeof b);
    put(o, " --dst-range %s-%s", a, b);
    kv(o, "dst_range", DFA_KV_STRING, "%s-%s", a, b);
    kv_bool(o, "dst_range_invert", r->flags & IPRANGE_DST_INV);
  }
  return 1;
}

static void set_common(struct dfa_xt_out *o, const struct xt_set_info *s, int invert) {
  char name[IPSET_MAXNAMELEN] = "";
  int known = o->setname && o->setname(o->setname_ctx, s->index, name, sizeof name);
  if (!known) snprintf(name, sizeof name, "#%u", s->index);
  inv(o, invert);
  put(o, " --match-set %s", name);
  kv(o, "set", DFA_KV_STRING, "%s", name);
  kv(o, "set_index", DFA_KV_INT, "%u", s->index);
  kv_bool(o, "set_name_known", known);
  kv_bool(o, "set_invert", invert);
  char dirs[64] = "";
  size_t n = 0;
  for (unsigned i = 1; i <= s->dim && i <= IPSET_DIM_MAX; ++i)
    n += (size_t)snprintf(dirs + n, sizeof dirs - n, "%s%s", i == 1 ? "" : ",",
                          (s->flags & (1 << i)) ? "src" : "dst");
  put(o, " %s", dirs);
  kv(o, "set_dirs", DFA_KV_STRING, "%s", dirs);
}

static int dec_set(struct dfa_xt_out *o, unsigned rev, const void *d, size_t len) {
  if (rev == 1 || rev == 2) {
    const struct xt_set_info_match_v1 *m = d;
    if (len < sizeof *m) return 0;
    set_common(o, &m->match_set, m->match_set.flags & IPSET_INV_MATCH);
    return 1;
  }
  if (rev == 3 || rev == 4) {
    const struct xt_set_info_match_v3 *m = d;
    if (len < sizeof *m) return 0;
    set_common(o, &m->match_set, m->match_set.flags & IPSET_INV_MATCH);
    if (m->flags & IPSET_FLAG_RETURN_NOMATCH) put(o, " --return-nomatch");
    if (m->flags & IPSET_FLAG_SKIP_COUNTER_UPDATE) put(o, " ! --update-counters");
    if (m->flags & IPSET_FLAG_SKIP_SUBCOUNTER_UPDATE) put(o, " ! --update-subcounters");
    /* Counter conditions (--packets-eq ...) make the match depend on traffic. */
    kv_bool(o, "counter_conditions", m->packets.op != IPSET_COUNTER_NONE || m->bytes.op != IPSET_COUNTER_NONE);
    return 1;
  }
  return 0;
}

static int dec_mark(struct dfa_xt_out *o, unsigned rev, const void *d, size_t len) {
  const struct xt_mark_mtinfo1 *m = d;
  if (rev != 1 || len < sizeof *m) return 0;
  inv(o, m->invert);
  if (m->mask != 0xffffffffU)
    put(o, " --mark 0x%x/0x%x", m->mark, m->mask);
  else
    put(o, " --mark 0x%x", m->mark);
  kv(o, "mark", DFA_KV_STRING, "0x%x/0x%x", m->mark, m->mask);
  kv_bool(o, "mark_invert", m->invert);
  return 1;
}

static int dec_mac(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct xt_mac_info *m = d;
  if (len < sizeof *m) return 0;
  const unsigned char *a = m->srcaddr;
  inv(o, m->invert);
  put(o, " --mac-source %02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
  kv(o, "mac_source", DFA_KV_STRING, "%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2], a[3], a[4], a[5]);
  kv_bool(o, "mac_source_invert", m->invert);
  return 1;
}

static int dec_limit(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct xt_rateinfo *r = d;
  if (len < offsetof(struct xt_rateinfo, prev)) return 0;
  static const struct {
    const char *name;
    uint32_t mult;
  } rates[] = {{"day", XT_LIMIT_SCALE * 24 * 60 * 60},
               {"hour", XT_LIMIT_SCALE * 60 * 60},
               {"min", XT_LIMIT_SCALE * 60},
               {"sec", XT_LIMIT_SCALE}};
  put(o, " --limit");
  if (r->avg == 0) {
    put(o, " inf");
    kv(o, "limit", DFA_KV_STRING, "inf");
  } else {
    unsigned i;
    for (i = 1; i < 4; ++i)
      if (r->avg > rates[i].mult || rates[i].mult / r->avg < rates[i].mult % r->avg) break;
    put(o, " %u/%s", rates[i - 1].mult / r->avg, rates[i - 1].name);
    kv(o, "limit", DFA_KV_STRING, "%u/%s", rates[i - 1].mult / r->avg, rates[i - 1].name);
  }
  if (r->burst != 5 /* XT_LIMIT_BURST */) put(o, " --limit-burst %u", r->burst);
  kv(o, "limit_burst", DFA_KV_INT, "%u", r->burst);
  return 1;
}

/* -m icmp / -m icmp6: a type, a code range (0-255 for every code), "any"
 * (type 255) for icmp only. The params always carry code_min and code_max;
 * the text, as iptables-save writes it, shows "/code" unless every code. */
static int dec_icmp(struct dfa_xt_out *o, int family, const void *d, size_t len) {
  /* struct ipt_icmp and struct ip6t_icmp have the same layout. */
  const struct ipt_icmp *c = d;
  if (len < sizeof *c) return 0;
  int invert = family == 6 ? !!(c->invflags & IP6T_ICMP_INV) : !!(c->invflags & IPT_ICMP_INV);
  int known = family == 6 ? IP6T_ICMP_INV : IPT_ICMP_INV;
  if (c->invflags & ~known) return 0;
  inv(o, invert);
  const char *opt = family == 6 ? "icmpv6-type" : "icmp-type";
  int any = family == 4 && c->type == 0xFF;
  if (any) {
    put(o, " --%s any", opt);
  } else {
    put(o, " --%s %u", opt, c->type);
    if (c->code[0] != 0 || c->code[1] != 0xFF) put(o, "/%u", c->code[0]);
  }
  if (!any) kv(o, "type", DFA_KV_INT, "%u", c->type);
  kv(o, "code_min", DFA_KV_INT, "%u", c->code[0]);
  kv(o, "code_max", DFA_KV_INT, "%u", c->code[1]);
  kv_bool(o, "invert", invert);
  return 1;
}

/* -m hl (IPv6 hop limit) and -m ttl (IPv4): eq, ne (saved as ! --hl-eq), lt, gt. */
static int dec_hl_ttl(struct dfa_xt_out *o, int family, const void *d, size_t len) {
  const struct ip6t_hl_info *h = d; /* struct ipt_ttl_info has the same layout */
  if (len < sizeof *h || h->mode > IP6T_HL_GT) return 0;
  static const char *const modes[] = {"eq", "ne", "lt", "gt"};
  const char *opt = family == 6 ? "hl" : "ttl";
  if (h->mode == IP6T_HL_NE)
    put(o, " ! --%s-eq %u", opt, h->hop_limit);
  else
    put(o, " --%s-%s %u", opt, modes[h->mode], h->hop_limit);
  kv(o, "mode", DFA_KV_STRING, "%s", modes[h->mode]);
  kv(o, "value", DFA_KV_INT, "%u", h->hop_limit);
  return 1;
}

/* -m rt: the IPv6 routing header's type, segments left and length. Type 0's
 * address list and reserved-field tests are not decoded. */
static int dec_rt(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct ip6t_rt *r = d;
  if (len < sizeof *r) return 0;
  if (r->flags & ~(IP6T_RT_TYP | IP6T_RT_SGS | IP6T_RT_LEN)) return 0;
  if (r->invflags & ~IP6T_RT_INV_MASK) return 0;
  if (r->flags & IP6T_RT_TYP) {
    put(o, "%s --rt-type %u", (r->invflags & IP6T_RT_INV_TYP) ? " !" : "", r->rt_type);
    kv(o, "rt_type", DFA_KV_INT, "%u", r->rt_type);
  }
  if (!(r->segsleft[0] == 0 && r->segsleft[1] == 0xFFFFFFFFU)) {
    put(o, "%s --rt-segsleft ", (r->invflags & IP6T_RT_INV_SGS) ? " !" : "");
    if (r->segsleft[0] != r->segsleft[1])
      put(o, "%u:%u", r->segsleft[0], r->segsleft[1]);
    else
      put(o, "%u", r->segsleft[0]);
  }
  if (r->flags & IP6T_RT_LEN) put(o, "%s --rt-len %u", (r->invflags & IP6T_RT_INV_LEN) ? " !" : "", r->hdrlen);
  kv_bool(o, "needs_routing_header", 1);
  return 1;
}

/* ---- targets ------------------------------------------------------------ */

/* A NAT range as iptables prints it: a.b.c.d[-e.f.g.h][:p[-q]], IPv6 in brackets
 * when a port follows. */
static void nat_range(struct dfa_xt_out *o, int family, unsigned flags, const void *min_addr,
                      const void *max_addr, uint16_t min_port, uint16_t max_port, uint16_t base,
                      char *val, size_t cap) {
  size_t n = 0;
  int brackets = family == 6 && (flags & NF_NAT_RANGE_PROTO_SPECIFIED) && (flags & NF_NAT_RANGE_MAP_IPS);
  val[0] = 0;
  if (flags & NF_NAT_RANGE_MAP_IPS) {
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    addr_str(family, min_addr, a, sizeof a);
    addr_str(family, max_addr, b, sizeof b);
    n += (size_t)snprintf(val + n, cap - n, "%s%s", brackets ? "[" : "", a);
    if (memcmp(min_addr, max_addr, family == 6 ? 16 : 4) != 0)
      n += (size_t)snprintf(val + n, cap - n, "-%s", b);
    if (brackets) n += (size_t)snprintf(val + n, cap - n, "]");
  }
  if (flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
    n += (size_t)snprintf(val + n, cap - n, ":%u", ntohs(min_port));
    if (max_port != min_port) n += (size_t)snprintf(val + n, cap - n, "-%u", ntohs(max_port));
    if (flags & NF_NAT_RANGE_PROTO_OFFSET) n += (size_t)snprintf(val + n, cap - n, "/%u", ntohs(base));
  }
  (void)o;
}

static void nat_flags(struct dfa_xt_out *o, unsigned flags) {
  if (flags & NF_NAT_RANGE_PROTO_RANDOM) put(o, " --random");
  if (flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) put(o, " --random-fully");
  if (flags & NF_NAT_RANGE_PERSISTENT) put(o, " --persistent");
  kv_bool(o, "random", flags & NF_NAT_RANGE_PROTO_RANDOM);
  kv_bool(o, "random_fully", flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY);
  kv_bool(o, "persistent", flags & NF_NAT_RANGE_PERSISTENT);
}

/* DNAT/SNAT (--to-destination/--to-source) or MASQUERADE/REDIRECT (--to-ports). */
static int dec_nat(struct dfa_xt_out *o, int family, unsigned rev, const void *d, size_t len,
                   int ports_only, const char *opt, const char *key) {
  struct nf_nat_range2 r;
  memset(&r, 0, sizeof r);
  if (rev == 0 && family == 4) {
    const struct nf_nat_ipv4_multi_range_compat *c = d;
    if (len < sizeof *c || c->rangesize != 1) return 0;
    r.flags = c->range[0].flags;
    memcpy(&r.min_addr.ip, &c->range[0].min_ip, 4);
    memcpy(&r.max_addr.ip, &c->range[0].max_ip, 4);
    r.min_proto = c->range[0].min;
    r.max_proto = c->range[0].max;
  } else if ((rev == 0 && family == 6) || rev == 1) {
    if (len < sizeof(struct nf_nat_range)) return 0;
    memcpy(&r, d, sizeof(struct nf_nat_range));
  } else if (rev == 2) {
    if (len < sizeof r) return 0;
    memcpy(&r, d, sizeof r);
  } else {
    return 0;
  }
  char val[160];
  if (ports_only) {
    if (r.flags & NF_NAT_RANGE_PROTO_SPECIFIED) {
      uint16_t lo = ntohs(r.min_proto.all), hi = ntohs(r.max_proto.all);
      if (lo == hi)
        snprintf(val, sizeof val, "%u", lo);
      else
        snprintf(val, sizeof val, "%u-%u", lo, hi);
      put(o, " --to-ports %s", val);
      kv(o, "to_ports", DFA_KV_STRING, "%s", val);
    }
  } else {
    nat_range(o, family, r.flags, &r.min_addr, &r.max_addr, r.min_proto.all, r.max_proto.all,
              r.base_proto.all, val, sizeof val);
    if (val[0]) {
      put(o, " --%s %s", opt, val);
      kv(o, key, DFA_KV_STRING, "%s", val);
    }
  }
  nat_flags(o, r.flags);
  return 1;
}

static int dec_reject(struct dfa_xt_out *o, int family, const void *d, size_t len) {
  const char *with = NULL;
  if (family == 4) {
    static const char *names[] = {"icmp-net-unreachable", "icmp-host-unreachable",
                                  "icmp-proto-unreachable", "icmp-port-unreachable",
                                  "echo-reply", "icmp-net-prohibited", "icmp-host-prohibited",
                                  "tcp-reset", "icmp-admin-prohibited"};
    const struct ipt_reject_info *r = d;
    if (len < sizeof *r || (unsigned)r->with >= sizeof names / sizeof names[0]) return 0;
    with = names[r->with];
  } else {
    static const char *names[] = {"icmp6-no-route", "icmp6-adm-prohibited", "icmp6-not-neighbor",
                                  "icmp6-addr-unreachable", "icmp6-port-unreachable",
                                  "echo-reply", "tcp-reset", "icmp6-policy-fail", "icmp6-reject-route"};
    const struct ip6t_reject_info *r = d;
    if (len < sizeof *r || r->with >= sizeof names / sizeof names[0]) return 0;
    with = names[r->with];
  }
  put(o, " --reject-with %s", with);
  kv(o, "reject_with", DFA_KV_STRING, "%s", with);
  return 1;
}

static int dec_log(struct dfa_xt_out *o, const void *d, size_t len) {
  const struct ipt_log_info *l = d; /* same layout as ip6t_log_info */
  if (len < sizeof *l) return 0;
  char prefix[sizeof l->prefix + 1];
  snprintf(prefix, sizeof prefix, "%.*s", (int)sizeof l->prefix, l->prefix);
  if (prefix[0]) {
    put(o, " --log-prefix");
    put_string(o, prefix);
  }
  if (l->level != 4) put(o, " --log-level %d", l->level);
  if (l->logflags & IPT_LOG_TCPSEQ) put(o, " --log-tcp-sequence");
  if (l->logflags & IPT_LOG_TCPOPT) put(o, " --log-tcp-options");
  if (l->logflags & IPT_LOG_IPOPT) put(o, " --log-ip-options");
  if (l->logflags & IPT_LOG_UID) put(o, " --log-uid");
  if (l->logflags & IPT_LOG_MACDECODE) put(o, " --log-macdecode");
  kv(o, "log_prefix", DFA_KV_STRING, "%s", prefix);
  kv(o, "log_level", DFA_KV_INT, "%d", l->level);
  return 1;
}

static int dec_mark_target(struct dfa_xt_out *o, unsigned rev, const void *d, size_t len) {
  const struct xt_mark_tginfo2 *m = d;
  if (rev != 2 || len < sizeof *m) return 0;
  put(o, " --set-xmark 0x%x/0x%x", m->mark, m->mask);
  kv(o, "set_xmark", DFA_KV_STRING, "0x%x/0x%x", m->mark, m->mask);
  return 1;
}

/* CT: only its notrack form (-j CT --notrack, and -j NOTRACK which
 * iptables writes as CT with the alias flag); a zone, a helper, a timeout
 * or event masks stay undecoded, and the analyzer calls them not modeled. */
static int dec_ct(struct dfa_xt_out *o, unsigned rev, const void *d, size_t len) {
  const struct xt_ct_target_info *c = d; /* v1 and v2 begin alike */
  if (rev > 2 || len < sizeof *c) return 0;
  unsigned other = c->flags & ~(unsigned)(XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS);
  if (!(c->flags & XT_CT_NOTRACK) || other || c->zone || c->ct_events || c->exp_events || c->helper[0]) return 0;
  put(o, " --notrack");
  kv_bool(o, "notrack", 1);
  return 1;
}

int dfa_xt_decode(int family, int kind, const char *name, unsigned rev, const void *data, size_t len,
                  struct dfa_xt_out *o) {
  /* The payload as the decoders read it, through the x_tables structs: an
   * nft compat expression's bytes are only 4-byte aligned in their netlink
   * attribute, and some structs (xt_rateinfo) hold 64-bit members. A copy
   * at the strictest alignment; a payload larger than any struct known
   * here is no payload this decoder knows. */
  _Alignas(max_align_t) unsigned char aligned[4096];
  if (len > sizeof aligned) {
    o->text[0] = 0;
    snprintf(o->save_name, sizeof o->save_name, "%s", name);
    return 0;
  }
  memcpy(aligned, data, len);
  const void *d = aligned;
  o->text[0] = 0;
  snprintf(o->save_name, sizeof o->save_name, "%s", name);
  int ok = 0;
  if (kind == DFA_XT_MATCH) {
    if (!strcmp(name, "tcp")) ok = rev == 0 && dec_tcp(o, d, len);
    else if (!strcmp(name, "udp")) ok = rev == 0 && dec_udp(o, d, len);
    else if (!strcmp(name, "multiport")) ok = dec_multiport(o, rev, d, len);
    else if (!strcmp(name, "conntrack")) ok = dec_conntrack(o, family, rev, d, len);
    else if (!strcmp(name, "state")) ok = rev == 0 && dec_state(o, d, len);
    else if (!strcmp(name, "addrtype")) ok = dec_addrtype(o, rev, d, len);
    else if (!strcmp(name, "physdev")) ok = rev == 0 && dec_physdev(o, d, len);
    else if (!strcmp(name, "comment")) ok = rev == 0 && dec_comment(o, d, len);
    else if (!strcmp(name, "iprange")) ok = dec_iprange(o, family, rev, d, len);
    else if (!strcmp(name, "set")) ok = dec_set(o, rev, d, len);
    else if (!strcmp(name, "mark")) ok = dec_mark(o, rev, d, len);
    else if (!strcmp(name, "mac")) ok = rev == 0 && dec_mac(o, d, len);
    else if (!strcmp(name, "limit")) ok = rev == 0 && dec_limit(o, d, len);
    else if (!strcmp(name, family == 6 ? "icmp6" : "icmp")) ok = rev == 0 && dec_icmp(o, family, d, len);
    else if (!strcmp(name, family == 6 ? "hl" : "ttl")) ok = rev == 0 && dec_hl_ttl(o, family, d, len);
    else if (family == 6 && !strcmp(name, "rt")) ok = rev == 0 && dec_rt(o, d, len);
  } else {
    if (!strcmp(name, "DNAT")) ok = dec_nat(o, family, rev, d, len, 0, "to-destination", "to_destination");
    else if (!strcmp(name, "SNAT")) ok = dec_nat(o, family, rev, d, len, 0, "to-source", "to_source");
    else if (!strcmp(name, "MASQUERADE") || !strcmp(name, "REDIRECT"))
      ok = dec_nat(o, family, rev, d, len, 1, "", "");
    else if (!strcmp(name, "REJECT")) ok = rev == 0 && dec_reject(o, family, d, len);
    else if (!strcmp(name, "LOG")) ok = rev == 0 && dec_log(o, d, len);
    else if (!strcmp(name, "MARK")) ok = dec_mark_target(o, rev, d, len);
    else if (!strcmp(name, "CT")) ok = dec_ct(o, rev, d, len);
    else if (!strcmp(name, "NOTRACK")) ok = 1; /* no parameters */
  }
  if (!ok) o->text[0] = 0;
  return ok;
}
