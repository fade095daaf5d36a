/**
 * The invariant checker behind `eni-local check`: scans the whole state and reports every
 * violation of the rules that must never break, whatever happened (crashes, races, bugs).
 */
import { usableRange } from './ipam/allocator.ts';
import { containsAddress, parseIpv4, parseIpv4Cidr } from './ipam/ipv4.ts';
import { findInstanceType } from './cloud/rules/instance-types.ts';
import type { Store } from './store/index.ts';
import { inOrder } from './store/in-order.ts';

export interface Violation {
  rule: string;
  detail: string;
}

export async function checkInvariants(store: Store): Promise<Violation[]> {
  // A read: one snapshot of every scope at once, taken beside running writers of any node.
  return store.transaction(async (tx) => {
    const out: Violation[] = [];
    const add = (rule: string, detail: string) => out.push({ rule, detail });

    const [subnets, enis, addresses, prefixes, instances, publicAddresses, freeRanges, groups, links] = await inOrder(
      () => tx.selectFrom('subnets').selectAll().execute(),
      () => tx.selectFrom('network_interfaces').selectAll().execute(),
      () => tx.selectFrom('private_ip_addresses').selectAll().execute(),
      () => tx.selectFrom('ipv4_prefixes').selectAll().execute(),
      () => tx.selectFrom('instances').selectAll().execute(),
      () => tx.selectFrom('public_addresses').selectAll().execute(),
      () => tx.selectFrom('subnet_free_ranges').selectAll().execute(),
      () => tx.selectFrom('security_groups').select(['id', 'vpc_id']).execute(),
      () => tx.selectFrom('network_interface_groups').selectAll().execute(),
    );
    const subnetById = new Map(subnets.map((s) => [s.id, s]));
    const eniById = new Map(enis.map((e) => [e.id, e]));
    const instanceById = new Map(instances.map((i) => [i.id, i]));
    const groupById = new Map(groups.map((g) => [g.id, g]));

    // Addresses: unique in their VPC, inside their subnet, never reserved, owned by a live interface.
    const seen = new Map<string, string>();
    for (const a of addresses) {
      const key = `${a.vpc_id}/${a.address}`;
      if (seen.has(key)) add('duplicate-private-ip', `${a.address} in ${a.vpc_id} is held by ${seen.get(key)} and ${a.network_interface_id}`);
      seen.set(key, a.network_interface_id);
      const subnet = subnetById.get(a.subnet_id);
      if (!subnet) {
        add('missing-reference', `address ${a.address} refers to missing subnet ${a.subnet_id}`);
        continue;
      }
      const cidr = parseIpv4Cidr(subnet.cidr_block);
      if (!cidr) {
        add('address-outside-subnet', `${a.address} of ${a.network_interface_id} is in IPv6-only subnet ${subnet.id}`);
        continue;
      }
      const value = parseIpv4(a.address)!;
      if (!containsAddress(cidr, value)) add('address-outside-subnet', `${a.address} of ${a.network_interface_id} is outside ${subnet.id} ${subnet.cidr_block}`);
      const usable = usableRange(cidr);
      if (value < usable.first || value > usable.last) add('reserved-address-used', `${a.address} of ${a.network_interface_id} is one of the five reserved in ${subnet.id}`);
      if (!eniById.has(a.network_interface_id)) add('missing-reference', `address ${a.address} refers to missing interface ${a.network_interface_id}`);
    }
    for (const p of prefixes) {
      for (let v = Number(p.first_address); v < Number(p.first_address) + 16; v++) {
        const text = `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
        if (seen.has(`${p.vpc_id}/${text}`)) add('duplicate-private-ip', `${text} is both an address of ${seen.get(`${p.vpc_id}/${text}`)} and in prefix ${p.prefix} of ${p.network_interface_id}`);
      }
    }

    // Subnet accounting: the free ranges and the count agree with what is used.
    for (const subnet of subnets) {
      const cidr = parseIpv4Cidr(subnet.cidr_block);
      // An IPv6-only subnet has no IPv4 block, so nothing to account for.
      if (!cidr) continue;
      const usable = usableRange(cidr);
      const used = addresses.filter((a) => a.subnet_id === subnet.id).length + 16 * prefixes.filter((p) => p.subnet_id === subnet.id).length;
      const truth = usable.last - usable.first + 1 - used;
      if (Number(subnet.available_ip_address_count) !== truth) {
        add('available-count-wrong', `${subnet.id} says ${subnet.available_ip_address_count} free addresses, the truth is ${truth}`);
      }
      const ranges = freeRanges.filter((r) => r.subnet_id === subnet.id).map((r) => ({ first: Number(r.first_address), last: Number(r.last_address) }));
      const free = ranges.reduce((n, r) => n + r.last - r.first + 1, 0);
      if (free !== truth) add('free-ranges-wrong', `${subnet.id}'s free ranges hold ${free} addresses, the truth is ${truth}`);
      // The allocator's form: ranges inside the usable addresses, apart, none touching the next
      // (a freed address joins its neighbours), so one lookup finds the range around an address.
      ranges.sort((a, b) => a.first - b.first);
      for (const [i, r] of ranges.entries()) {
        const next = ranges[i + 1];
        if (r.first > r.last || r.first < usable.first || r.last > usable.last) add('free-ranges-wrong', `${subnet.id} has a free range ${r.first}..${r.last} outside ${usable.first}..${usable.last}`);
        if (next && next.first <= r.last + 1) add('free-ranges-wrong', `${subnet.id}'s free ranges ${r.first}..${r.last} and ${next.first}..${next.last} overlap or touch`);
      }
    }

    // Interfaces: unique MACs, live references, slots, limits, zones.
    const macs = new Map<string, string>();
    const slots = new Map<string, string>();
    for (const eni of enis) {
      if (macs.has(eni.mac_address)) add('duplicate-mac', `${eni.mac_address} is on ${macs.get(eni.mac_address)} and ${eni.id}`);
      macs.set(eni.mac_address, eni.id);
      if (!subnetById.has(eni.subnet_id)) add('missing-reference', `${eni.id} refers to missing subnet ${eni.subnet_id}`);
      const primaries = addresses.filter((a) => a.network_interface_id === eni.id && a.is_primary === 1);
      // An interface in an IPv6-only subnet has no IPv4 at all ('' in private_ip_address).
      const expected = eni.private_ip_address === '' ? 0 : 1;
      if (primaries.length !== expected || (expected && primaries[0].address !== eni.private_ip_address)) add('primary-address-wrong', `${eni.id} has ${primaries.length} primary addresses`);
      for (const link of links.filter((l) => l.network_interface_id === eni.id)) {
        const group = groupById.get(link.group_id);
        if (!group) add('missing-reference', `${eni.id} refers to missing group ${link.group_id}`);
      }
      if (!eni.instance_id) continue;
      const instance = instanceById.get(eni.instance_id);
      if (!instance) {
        add('attachment-to-missing-instance', `${eni.id} is attached to missing instance ${eni.instance_id}`);
        continue;
      }
      if (instance.state === 'terminated') add('attachment-to-terminated-instance', `${eni.id} is attached to terminated ${instance.id}`);
      if (instance.availability_zone !== eni.availability_zone) add('zone-mismatch', `${eni.id} in ${eni.availability_zone} is attached to ${instance.id} in ${instance.availability_zone}`);
      const slot = `${instance.id}/${eni.network_card_index}/${eni.device_index}`;
      if (slots.has(slot)) add('device-slot-taken-twice', `${slot} holds ${slots.get(slot)} and ${eni.id}`);
      slots.set(slot, eni.id);
      const type = findInstanceType(instance.instance_type);
      const ipv4 = addresses.filter((a) => a.network_interface_id === eni.id).length + prefixes.filter((p) => p.network_interface_id === eni.id).length;
      if (type && ipv4 > type.ipv4AddressesPerInterface) add('address-limit-exceeded', `${eni.id} holds ${ipv4} IPv4 slots on a ${type.name} (limit ${type.ipv4AddressesPerInterface})`);
    }
    for (const instance of instances) {
      const attached = enis.filter((e) => e.instance_id === instance.id).length;
      const type = findInstanceType(instance.instance_type);
      if (type && attached > type.maxNetworkInterfaces) add('interface-limit-exceeded', `${instance.id} (${type.name}) has ${attached} interfaces (limit ${type.maxNetworkInterfaces})`);
      if (instance.state !== 'terminated' && attached === 0) add('instance-without-primary', `${instance.id} (${instance.state}) has no interface`);
    }

    // Public addresses: one per private address, associated with live interfaces.
    const mapped = new Map<string, string>();
    for (const p of publicAddresses) {
      if (!p.network_interface_id) continue;
      const key = `${p.network_interface_id}/${p.private_ip_address}`;
      if (mapped.has(key)) add('public-address-twice', `${key} has ${mapped.get(key)} and ${p.public_ip}`);
      mapped.set(key, p.public_ip);
      if (!eniById.has(p.network_interface_id)) add('missing-reference', `${p.public_ip} is associated with missing interface ${p.network_interface_id}`);
      else if (!addresses.some((a) => a.network_interface_id === p.network_interface_id && a.address === p.private_ip_address)) {
        add('missing-reference', `${p.public_ip} is associated with ${p.private_ip_address}, which ${p.network_interface_id} does not hold`);
      }
    }
    // Quota counters agree with the rows they count.
    const counts = await tx.selectFrom('resource_counts').selectAll().where('kind', '=', 'network-interface').execute();
    const truth = new Map<string, number>();
    for (const eni of enis) truth.set(`${eni.account_id}/${eni.region}`, (truth.get(`${eni.account_id}/${eni.region}`) ?? 0) + 1);
    for (const c of counts) {
      const actual = truth.get(`${c.account_id}/${c.region}`) ?? 0;
      if (Number(c.count) !== actual) add('count-wrong', `${c.account_id}/${c.region} counts ${c.count} network interfaces, the truth is ${actual}`);
    }

    // Due bounds (migration 020) are no later than anything scheduled in their scope, or a request would miss it.
    const [bounds, gateways] = await inOrder(
      () => tx.selectFrom('due_scopes').selectAll().execute(),
      () => tx.selectFrom('nat_gateways').select(['id', 'account_id', 'region', 'transition_at']).execute(),
    );
    const boundOf = new Map(bounds.map((b) => [`${b.account_id}/${b.region}`, b]));
    const notLater = (account: string, region: string, what: string, at: string | null, column: 'due_at' | 'terminated_at') => {
      if (at === null) return;
      const bound = boundOf.get(`${account}/${region}`)?.[column] ?? null;
      if (bound === null || bound > at) add('due-bound-late', `${what} is due at ${at} in ${account}/${region}, whose ${column} bound is ${bound ?? 'unset'}`);
    };
    for (const i of instances) {
      notLater(i.account_id, i.region, i.id, i.transition_at, 'due_at');
      if (i.state === 'terminated') notLater(i.account_id, i.region, `${i.id}'s leaving`, i.terminated_at, 'terminated_at');
    }
    for (const e of enis) {
      notLater(e.account_id, e.region, `${e.id}'s attachment`, e.attachment_transition_at, 'due_at');
      if (e.instance_owner_id && e.instance_owner_id !== e.account_id) notLater(e.instance_owner_id, e.region, `${e.id}'s attachment`, e.attachment_transition_at, 'due_at');
    }
    for (const g of gateways) notLater(g.account_id, g.region, g.id, g.transition_at, 'due_at');
    return out;
  }, { writes: false });
}
