// The lab's topology: Linux network namespaces joined by veth pairs, with
// kernel NATs (conntrack + nftables) in router namespaces.
//
//   <P>-inet            the "public internet": one bridge (br0), no address
//   <P>-s<S>-i1, -i2    slot S's two introducers        203.0.113.(B+1), (B+2)
//   <P>-s<S>-pa, -pb    two public hosts with no NAT     203.0.113.(B+3), (B+4)
//   <P>-s<S>-r-<K>-<X>  a router of NAT kind K, X = a|b  WAN 203.0.113.(B+10..17)
//   <P>-s<S>-h-<K>-<X>  the LAN host behind it           198.51.100.2 (router .1)
//
// with B = 10 + 30 × S. Every LAN is 198.51.100.0/24, like every home
// router's 192.168.1.0/24: the peers never see each other's LAN address as
// anything but a private one. The documentation ranges (RFC 5737) live only
// inside these namespaces; nothing is routed to or from the host's own stack.
// Interfaces are created directly inside the namespaces (`ip link add ...
// netns`), so nothing appears in the root namespace, even for a moment.
//
// NAT kinds (RFC 4787 terms), all with a stateful firewall that drops
// unsolicited inbound traffic in the router's input chain (else conntrack
// would confirm an early inbound packet's entry and SNAT would have to pick
// another port for the host's later flow: the mapping would be stolen):
//   full  endpoint-independent mapping (SNAT keeps the port) and filtering:
//         a dynamic map WAN port → LAN ip.port, refreshed by outbound
//         traffic, lets anyone in (dnat)
//   addr  endpoint-independent mapping, address-dependent filtering: the
//         map's key is (remote IP . WAN port)
//   port  endpoint-independent mapping, address-and-port-dependent
//         filtering: the kernel's default SNAT and conntrack, nothing else
//   sym   endpoint-dependent mapping (`masquerade random,fully-random`: a
//         random port for every new 5-tuple), conntrack filtering
// Router full-a of slot 0 also hairpins (a LAN host reaching another LAN
// host through the router's public address) and has a second LAN host
// (198.51.100.3, namespace ...-h-full-a2) to prove it.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const KINDS = ['none', 'full', 'addr', 'port', 'sym']
export const NAT_KINDS = ['full', 'addr', 'port', 'sym']
export const LAN_ROUTER = '198.51.100.1'
export const LAN_HOST = '198.51.100.2'
export const LAN_HOST2 = '198.51.100.3'
export const PUBLIC_NET = '203.0.113.0/24'
export const LAN_NET = '198.51.100.0/24'
// conntrack UDP timeouts set in every router namespace (the kernel defaults)
export const UDP_TIMEOUT = 30
export const UDP_TIMEOUT_STREAM = 120
// the dynamic maps' idle timeout (full and addr kinds), refreshed by traffic
export const MAP_TIMEOUT = 120

const pub = (slot, i) => `203.0.113.${10 + 30 * slot + i}`

export function run (cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 10000, ...opts })
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message || '').trim()}`)
  }
}
const ip = (...a) => run('ip', a)
const nsx = (ns, cmd, ...a) => run('ip', ['netns', 'exec', ns, cmd, ...a])
const sysctl = (ns, ...kv) => nsx(ns, 'sysctl', '-q', '-w', ...kv)

function nft (ns, text) {
  const f = path.join(os.tmpdir(), `natlab-${process.pid}-${ns}.nft`)
  fs.writeFileSync(f, text)
  try { nsx(ns, 'nft', '-f', f) } finally { fs.rmSync(f, { force: true }) }
}

function newNs (name) {
  ip('netns', 'add', name)
  ip('-n', name, 'link', 'set', 'lo', 'up')
  // IPv4 only (IPv6 is not part of this lab yet): no link-local chatter.
  sysctl(name, 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1')
}

// The nftables ruleset of a router of kind `kind`.
export function routerRules (kind, wanIp, { hairpin = false } = {}) {
  const map = (kind === 'full' || kind === 'addr')
  const key = kind === 'addr' ? 'ipv4_addr . inet_service' : 'inet_service'
  const keyOut = kind === 'addr' ? 'ip daddr . udp sport' : 'udp sport'
  const keyIn = kind === 'addr' ? 'ip saddr . udp dport' : 'udp dport'
  const snat = kind === 'sym' ? 'masquerade random,fully-random' : `snat ip to ${wanIp}`
  return `
table ip natlab {
${map ? `  map eim {
    type ${key} : ipv4_addr . inet_service
    flags dynamic,timeout
    timeout ${MAP_TIMEOUT}s
  }` : ''}
  chain pre {
    type nat hook prerouting priority dstnat; policy accept;
${map ? `    ${hairpin ? '' : 'iifname "wan" '}ip daddr ${wanIp} meta l4proto udp dnat ip to ${keyIn} map @eim` : ''}
  }
  chain post {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" ${snat}
${hairpin ? `    oifname "lan0" ip saddr ${LAN_NET} ct status dnat snat ip to ${wanIp}` : ''}
  }
${map ? `  chain record {
    type filter hook postrouting priority srcnat + 10; policy accept;
    oifname "wan" meta l4proto udp ct direction original update @eim { ${keyOut} : ct original ip saddr . ct original proto-src }
    oifname "wan" meta l4proto udp ct direction reply update @eim { ${keyOut} : ct reply ip saddr . ct reply proto-src }
  }` : ''}
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" counter drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" ct status dnat accept
    iifname "wan" counter drop
  }
}
`
}

// An IPv6 router's stateful firewall: no NAT, inbound only for established
// flows (and ICMPv6, which neighbour discovery needs).
export function firewall6Rules () {
  return `
table ip6 natlab {
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" meta l4proto ipv6-icmp accept
    iifname "wan" counter drop
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" meta l4proto ipv6-icmp accept
    iifname "wan" counter drop
  }
}
`
}

// 5% loss (or `pct`) on everything a router forwards, both ways; on a public
// host, on what it sends and receives.
export function setLoss (ns, pct, { host = false } = {}) {
  try { nsx(ns, 'nft', 'delete', 'table', 'ip', 'natlab_loss') } catch {}
  if (!pct) return
  const hooks = host ? ['input', 'output'] : ['forward']
  nft(ns, `table ip natlab_loss {\n${hooks.map(h => `  chain ${h} {\n    type filter hook ${h} priority -10; policy accept;\n    meta l4proto udp numgen random mod 100 < ${pct} counter drop\n  }`).join('\n')}\n}\n`)
}

export class Lab {
  constructor (prefix, slots) {
    this.prefix = prefix
    this.slots = slots
    this.namespaces = []
    this.inet = `${prefix}-inet`
    this.nodes = {} // name -> { ns, ip, kind, slot, wan, router }
  }

  ns (name) { this.namespaces.push(name); newNs(name); return name }

  // a public host (introducer, no-NAT peer) on the bridge
  publicHost (name, addr, port) {
    const ns = this.ns(name)
    ip('link', 'add', port, 'netns', this.inet, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    ip('-n', this.inet, 'link', 'set', port, 'master', 'br0', 'up')
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
    return ns
  }

  lanHost (name, routerNs, addr, port) {
    const ns = this.ns(name)
    ip('link', 'add', port, 'netns', routerNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns)
    ip('-n', routerNs, 'link', 'set', port, 'master', 'lan0', 'up')
    ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0')
    ip('-n', ns, 'link', 'set', 'eth0', 'up')
    ip('-n', ns, 'route', 'add', 'default', 'via', LAN_ROUTER)
    return ns
  }

  router (name, kind, wanAddr, port, opts) {
    const ns = this.publicHost(name, wanAddr, port)
    ip('-n', ns, 'link', 'set', 'eth0', 'name', 'wan')
    ip('-n', ns, 'link', 'add', 'lan0', 'type', 'bridge')
    ip('-n', ns, 'addr', 'add', `${LAN_ROUTER}/24`, 'dev', 'lan0')
    ip('-n', ns, 'link', 'set', 'lan0', 'up')
    sysctl(ns, 'net.ipv4.ip_forward=1',
      `net.netfilter.nf_conntrack_udp_timeout=${UDP_TIMEOUT}`,
      `net.netfilter.nf_conntrack_udp_timeout_stream=${UDP_TIMEOUT_STREAM}`)
    nft(ns, routerRules(kind, wanAddr, opts))
    return ns
  }

  up () {
    const t = Date.now()
    const P = this.prefix
    this.ns(this.inet)
    ip('-n', this.inet, 'link', 'add', 'br0', 'type', 'bridge')
    ip('-n', this.inet, 'link', 'set', 'br0', 'up')
    for (let s = 0; s < this.slots; s++) {
      const add = (key, v) => { this.nodes[`s${s}-${key}`] = { slot: s, ...v } }
      for (const [i, k] of [[1, 'i1'], [2, 'i2'], [3, 'pa'], [4, 'pb']]) {
        const addr = pub(s, i)
        add(k, { ns: this.publicHost(`${P}-s${s}-${k}`, addr, `v${s}-${k}`), ip: addr, kind: k[0] === 'p' ? 'none' : 'introducer', pub: addr })
      }
      let i = 10
      for (const kind of NAT_KINDS) {
        for (const x of ['a', 'b']) {
          const wan = pub(s, i++)
          const hairpin = s === 0 && kind === 'full' && x === 'a'
          const r = this.router(`${P}-s${s}-r-${kind}-${x}`, kind, wan, `v${s}-${kind}${x}`, { hairpin })
          add(`r-${kind}-${x}`, { ns: r, ip: wan, kind: 'router', natKind: kind, pub: wan })
          add(`h-${kind}-${x}`, { ns: this.lanHost(`${P}-s${s}-h-${kind}-${x}`, r, LAN_HOST, 'eth-h'), ip: LAN_HOST, kind, pub: wan, router: r })
          if (hairpin) add(`h-${kind}-${x}2`, { ns: this.lanHost(`${P}-s${s}-h-${kind}-${x}2`, r, LAN_HOST2, 'eth-h2'), ip: LAN_HOST2, kind, pub: wan, router: r })
        }
      }
    }
    this.upMs = Date.now() - t
    return this
  }

  node (slot, key) { return this.nodes[`s${slot}-${key}`] }
  // where a peer of NAT kind `kind` lives in a slot; x = 'a' | 'b'
  place (slot, kind, x) { return kind === 'none' ? this.node(slot, x === 'a' ? 'pa' : 'pb') : this.node(slot, `h-${kind}-${x}`) }

  // set loss on every router and no-NAT host of the given slots
  loss (pct, slots = [...Array(this.slots).keys()]) {
    for (const s of slots) {
      for (const [k, n] of Object.entries(this.nodes)) {
        if (n.slot !== s) continue
        if (n.kind === 'router') setLoss(n.ns, pct)
        if (k.endsWith('-pa') || k.endsWith('-pb')) setLoss(n.ns, pct, { host: true })
      }
    }
  }

  // A LAN host that can change networks: behind router `routerKey` of slot
  // `slot`, at `addr` (every LAN is the same /24, as at home).
  addMover (slot, routerKey, addr = '198.51.100.9') {
    const r = this.node(slot, routerKey)
    const ns = this.lanHost(`${this.prefix}-s${slot}-mover`, r.ns, addr, 'eth-mv')
    const n = { slot, ns, ip: addr, kind: r.natKind, pub: r.pub, router: r.ns, routerKey }
    this.nodes[`s${slot}-mover`] = n
    return n
  }

  // Move the mover's cable to another router of its slot: the router-side
  // veth goes to the other router's namespace and LAN bridge; the host's
  // link goes down and up (as when a laptop joins another Wi-Fi: neighbour
  // cache and routes flushed) and gets its default route back.
  move (n, routerKey) {
    const to = this.node(n.slot, routerKey)
    ip('-n', n.router, 'link', 'set', 'eth-mv', 'netns', to.ns)
    ip('-n', to.ns, 'link', 'set', 'eth-mv', 'master', 'lan0', 'up')
    ip('-n', n.ns, 'link', 'set', 'eth0', 'down')
    ip('-n', n.ns, 'link', 'set', 'eth0', 'up')
    try { ip('-n', n.ns, 'route', 'add', 'default', 'via', LAN_ROUTER) } catch {}
    Object.assign(n, { kind: to.natKind, pub: to.pub, router: to.ns, routerKey })
  }

  // IPv6 (slot 0): the documentation prefix 2001:db8::/32 (RFC 3849).
  // Public segment 2001:db8::/64 on the same bridge; the introducer hosts
  // and public host pa become dual-stack (they keep their IPv4 address);
  // two routers with a stateful firewall and no NAT (inbound only for
  // established flows, as most IPv6 homes and carriers) each route a LAN
  // 2001:db8:<x>::/64 with an IPv6-only host behind. Every node on the
  // segment has a route to both LANs (the "internet" routes them).
  addV6 () {
    const v6 = {}
    // no duplicate address detection (the link-local addresses would stay
    // tentative for a while, and neighbour discovery with them)
    const enable = (ns, dev) => {
      sysctl(ns, 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', `net.ipv6.conf.${dev}.accept_dad=0`)
      sysctl(ns, 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0', `net.ipv6.conf.${dev}.disable_ipv6=0`)
    }
    const addr6 = (ns, dev, a) => ip('-n', ns, '-6', 'addr', 'add', a, 'dev', dev, 'nodad')
    for (const [k, a] of [['i1', '2001:db8::11'], ['i2', '2001:db8::12'], ['pa', '2001:db8::13']]) {
      const n = this.node(0, k)
      enable(n.ns, 'eth0')
      addr6(n.ns, 'eth0', `${a}/64`)
      v6[k] = { slot: 0, ns: n.ns, ip: a, kind: k === 'pa' ? 'none' : 'introducer', pub: a, v4: n.ip }
    }
    const lans = { a: ['2001:db8::a1', '2001:db8:a::'], b: ['2001:db8::b1', '2001:db8:b::'] }
    for (const x of ['a', 'b']) {
      const [wan, lan] = lans[x]
      const r = this.ns(`${this.prefix}-s0-r6-${x}`)
      ip('link', 'add', `v0-r6${x}`, 'netns', this.inet, 'type', 'veth', 'peer', 'name', 'wan', 'netns', r)
      ip('-n', this.inet, 'link', 'set', `v0-r6${x}`, 'master', 'br0', 'up')
      enable(r, 'wan')
      addr6(r, 'wan', `${wan}/64`)
      ip('-n', r, 'link', 'set', 'wan', 'up')
      const h = this.ns(`${this.prefix}-s0-h6-${x}`)
      ip('link', 'add', 'lan0', 'netns', r, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h)
      enable(r, 'lan0')
      enable(h, 'eth0')
      addr6(r, 'lan0', `${lan}1/64`)
      addr6(h, 'eth0', `${lan}2/64`)
      ip('-n', r, 'link', 'set', 'lan0', 'up')
      ip('-n', h, 'link', 'set', 'eth0', 'up')
      ip('-n', h, '-6', 'route', 'add', 'default', 'via', `${lan}1`)
      sysctl(r, 'net.ipv6.conf.all.forwarding=1',
        `net.netfilter.nf_conntrack_udp_timeout=${UDP_TIMEOUT}`,
        `net.netfilter.nf_conntrack_udp_timeout_stream=${UDP_TIMEOUT_STREAM}`)
      nft(r, firewall6Rules())
      v6[`r-${x}`] = { slot: 0, ns: r, ip: wan, kind: 'router', pub: wan }
      v6[`h-${x}`] = { slot: 0, ns: h, ip: `${lan}2`, kind: 'fw6', pub: `${lan}2`, router: r }
    }
    // routes to the two LANs from every node on the public segment
    for (const k of ['i1', 'i2', 'pa', 'r-a', 'r-b']) {
      for (const x of ['a', 'b']) {
        if (k === `r-${x}`) continue
        ip('-n', v6[k].ns, '-6', 'route', 'add', `${lans[x][1]}/64`, 'via', lans[x][0])
      }
    }
    // wait (≤ 3 s) until no address is tentative anywhere on the segment
    const t = Date.now()
    while (Date.now() - t < 3000 && Object.values(v6).some(n => ip('-n', n.ns, '-6', 'addr', 'show', 'tentative').trim())) {
      execFileSync('sleep', ['0.1'])
    }
    this.v6 = v6
    return v6
  }

  down () { return removeNamespaces(this.prefix) }
}

// Remove every namespace whose name starts with `${prefix}-`. (Processes
// still inside one keep it alive until they exit; the caller kills its own
// processes first.)
export function removeNamespaces (prefix) {
  let names = []
  try { names = run('ip', ['netns', 'list']).split('\n').map(l => l.split(' ')[0]).filter(n => n.startsWith(prefix + '-')) } catch {}
  for (const n of names) { try { run('ip', ['netns', 'del', n]) } catch {} }
  return names.length
}
