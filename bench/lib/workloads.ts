/**
 * The workloads: for each caller, what its next request is and how its answer is checked.
 * An op is one API request; the two-step workloads (attach-detach, assign-unassign) alternate
 * their two requests, so a cycle is two ops.
 */
import { formBody, xmlCount, xmlValue, type Response } from './client.ts';
import type { Eni, Fixture } from './fixture.ts';
import type { NextOp, Op } from './loop.ts';

export const WORKLOADS = [
  'describe-id',
  'describe-filter',
  'describe-tag',
  'describe-all-page',
  'attach-detach',
  'assign-unassign',
  'mixed',
  'create',
] as const;
export type Workload = (typeof WORKLOADS)[number];

export const WORKLOAD_NOTES: Record<Workload, string> = {
  create: 'CreateNetworkInterface (tagged, round-robin over the subnets)',
  'describe-id': 'DescribeNetworkInterfaces NetworkInterfaceId.1 of a random interface',
  'describe-filter': 'DescribeNetworkInterfaces Filter private-ip-address of a random interface',
  'describe-tag': 'DescribeNetworkInterfaces Filter tag:bench=<0..99> (~1 % of the interfaces)',
  'describe-all-page': 'DescribeNetworkInterfaces MaxResults=1000 through everything by NextToken',
  'attach-detach': 'AttachNetworkInterface (device 1 of the caller\'s own instance), then DetachNetworkInterface',
  'assign-unassign': 'AssignPrivateIpAddresses SecondaryPrivateIpAddressCount=1, then UnassignPrivateIpAddresses',
  mixed: '70 % describe-id, 20 % describe-filter, 10 % create',
};

const random = (n: number) => Math.floor(Math.random() * n);
const contains = (text: string, what: string) => (response: Response) => (response.body.includes(text) ? true : `answer lacks ${what}`);

function describeId(f: Fixture): Op {
  const eni = f.enis[random(f.enis.length)];
  return { body: formBody('DescribeNetworkInterfaces', { 'NetworkInterfaceId.1': eni.id }), check: contains(`<networkInterfaceId>${eni.id}<`, 'the interface') };
}

function describeFilter(f: Fixture): Op {
  const eni = f.enis[random(f.enis.length)];
  return {
    body: formBody('DescribeNetworkInterfaces', { 'Filter.1.Name': 'private-ip-address', 'Filter.1.Value.1': eni.ip }),
    check: contains(`<networkInterfaceId>${eni.id}<`, 'the interface'),
  };
}

function create(f: Fixture): Op {
  const { body, record } = f.createRequest();
  return {
    body,
    check: (response) => (record(response) ? true : 'no interface id in the answer'),
  };
}

/** Interfaces set aside for the stateful workloads (never attached or changed by anything else). */
export interface Reserved {
  /** Per caller: its instance, the device index to use, and an interface in the instance's subnet. */
  attach: { instanceId: string; deviceIndex: number; eni: Eni }[];
  /** Per caller: an interface whose secondary addresses it alone changes. */
  assign: Eni[];
  /** State carried from one run to the next: the caller's current attachment id, its assigned address. */
  attachments: (string | undefined)[];
  assigned: (string | undefined)[];
}

/** Picks the interfaces of the stateful workloads: distinct, and in the right subnets. */
export function reserve(f: Fixture, callers: number): Reserved {
  const used = new Set<string>();
  const take = (subnet?: number): Eni => {
    const eni = f.enis.find((e) => !used.has(e.id) && (subnet === undefined || e.subnet === subnet));
    if (!eni) throw new Error(`not enough interfaces${subnet === undefined ? '' : ` in subnet ${subnet}`} for ${callers} callers`);
    used.add(eni.id);
    return eni;
  };
  const attach = [];
  for (let w = 0; w < callers; w++) {
    const instance = f.instances[w % f.instances.length];
    // An m5.large takes three interfaces: device 0 is the primary, so callers sharing an instance use 1 and 2.
    attach.push({ instanceId: instance.id, deviceIndex: 1 + Math.floor(w / f.instances.length), eni: take(instance.subnet) });
  }
  const assign = Array.from({ length: callers }, () => take());
  return { attach, assign, attachments: new Array(callers).fill(undefined), assigned: new Array(callers).fill(undefined) };
}

/** How caller `w` makes its next request in `workload`. */
export function workloadOps(workload: Workload, f: Fixture, reserved: Reserved, callers: number): NextOp {
  switch (workload) {
    case 'create':
      return () => create(f);
    case 'describe-id':
      return () => describeId(f);
    case 'describe-filter':
      return () => describeFilter(f);
    case 'describe-tag':
      return () => {
        const tag = random(100);
        return {
          body: formBody('DescribeNetworkInterfaces', { 'Filter.1.Name': 'tag:bench', 'Filter.1.Value.1': String(tag) }),
          check: contains(`<value>${tag}</value>`, `a bench=${tag} interface`),
          items: (r) => xmlCount(r.body, 'networkInterfaceId'),
        };
      };
    case 'describe-all-page': {
      const tokens: (string | undefined)[] = new Array(callers).fill(undefined);
      return (w) => ({
        body: formBody('DescribeNetworkInterfaces', tokens[w] ? { MaxResults: 1000, NextToken: tokens[w]! } : { MaxResults: 1000 }),
        check: (r) => (r.body.includes('<networkInterfaceSet>') ? true : 'no interface set'),
        after: (r) => (tokens[w] = xmlValue(r.body, 'nextToken')),
        items: (r) => xmlCount(r.body, 'networkInterfaceId'),
      });
    }
    case 'attach-detach': {
      const attachments = reserved.attachments;
      return (w) => {
        const { instanceId, deviceIndex, eni } = reserved.attach[w];
        const attachment = attachments[w];
        if (attachment === undefined) {
          return {
            body: formBody('AttachNetworkInterface', { NetworkInterfaceId: eni.id, InstanceId: instanceId, DeviceIndex: deviceIndex }),
            check: (r) => (xmlValue(r.body, 'attachmentId') ? true : 'no attachment id'),
            after: (r) => (attachments[w] = xmlValue(r.body, 'attachmentId')),
          };
        }
        return {
          body: formBody('DetachNetworkInterface', { AttachmentId: attachment }),
          after: () => (attachments[w] = undefined),
        };
      };
    }
    case 'assign-unassign': {
      const assigned = reserved.assigned;
      const assignedAddress = (r: Response) => {
        const at = r.body.indexOf('<assignedPrivateIpAddressesSet>');
        return at < 0 ? undefined : xmlValue(r.body, 'privateIpAddress', at);
      };
      return (w) => {
        const eni = reserved.assign[w];
        const address = assigned[w];
        if (address === undefined) {
          return {
            body: formBody('AssignPrivateIpAddresses', { NetworkInterfaceId: eni.id, SecondaryPrivateIpAddressCount: 1 }),
            check: (r) => (assignedAddress(r) ? true : 'no assigned address'),
            after: (r) => (assigned[w] = assignedAddress(r)),
          };
        }
        return {
          body: formBody('UnassignPrivateIpAddresses', { NetworkInterfaceId: eni.id, 'PrivateIpAddress.1': address }),
          after: () => (assigned[w] = undefined),
        };
      };
    }
    case 'mixed':
      return () => {
        const r = Math.random();
        return r < 0.7 ? describeId(f) : r < 0.9 ? describeFilter(f) : create(f);
      };
  }
}

/** The bodies the ceiling server is driven with: the describe-id requests. */
export function ceilingOps(f: Fixture): NextOp {
  return () => {
    const eni = f.enis[random(f.enis.length)];
    return { body: formBody('DescribeNetworkInterfaces', { 'NetworkInterfaceId.1': eni.id }), check: contains('<networkInterfaceId>', 'an interface') };
  };
}
