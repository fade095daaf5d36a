/**
 * The instance metadata tree of one instance, built from the committed state in one read
 * transaction: the categories of AWS's 2016-09-02-and-later tree that an emulated instance can
 * answer truthfully (instance, placement, every attached interface under
 * network/interfaces/macs/, the identity document, user data, tags when allowed).
 *
 * AWS: a category with no value is absent (404), not empty — public-ipv4 without a public
 * address, ipv6s without IPv6, ipv4-prefix without a delegated prefix. The top-level mac,
 * local-ipv4, hostname, public-ipv4 and security-groups describe device 0.
 *
 * The IMDS only reads: a transition that has come due (an attachment ending `attaching` or
 * `detaching`, an instance ending `pending` or `shutting-down`) is read as what it becomes, without
 * settling it (that is for the next API request, which also publishes its events).
 */
import type { Tx } from '../store/index.ts';
import type { Row } from '../store/schema.ts';
import { inOrder } from '../store/in-order.ts';
import { publicDnsName } from '../cloud/addresses.ts';
import { architectureOf } from '../cloud/instance-types.ts';
import { metadataOptionsOf, type MetadataOptions } from '../cloud/instances.ts';
import { privateDnsName } from '../cloud/network-interfaces.ts';

/** A directory (its entries in listing order) or a leaf's body. */
export type MetadataNode = { kind: 'dir'; entries: Map<string, MetadataNode> } | { kind: 'leaf'; body: string | Buffer; contentType?: string };

export interface InstanceMetadata {
  instanceId: string;
  options: MetadataOptions;
  /** The tree below the version (`latest/`): meta-data, dynamic, user-data. */
  root: MetadataNode;
}

export interface MetadataCaller {
  instanceId: string;
  account: string;
  region: string;
}

const dir = (entries: [string, MetadataNode | undefined][]): MetadataNode => ({
  kind: 'dir',
  entries: new Map(entries.filter((e): e is [string, MetadataNode] => e[1] !== undefined)),
});
const leaf = (body: string | undefined | null, contentType?: string): MetadataNode | undefined =>
  body === undefined || body === null || body === '' ? undefined : { kind: 'leaf', body, contentType };
const lines = (values: readonly string[]): MetadataNode | undefined => leaf(values.join('\n'));
/** AWS lists a directory's entries in name order. */
const sortedDir = (entries: [string, MetadataNode | undefined][]): MetadataNode => dir([...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));

/** What an instance in this state reads as once its due transition is applied; undefined once gone. */
function effectiveState(row: Row<'instances'>, now: string): string | undefined {
  const due = row.transition_at !== null && row.transition_at <= now;
  if (row.state === 'pending' && due) return 'running';
  if (row.state === 'stopping' && due) return 'stopped';
  if (row.state === 'shutting-down' && due) return 'terminated';
  return row.state;
}

/** Whether the instance holds the interface right now (a due `detaching` has let it go). */
function holds(eni: Row<'network_interfaces'>, now: string): boolean {
  if (eni.attachment_status === 'detaching' && eni.attachment_transition_at !== null && eni.attachment_transition_at <= now) return false;
  return eni.attachment_status === 'attached' || eni.attachment_status === 'attaching' || eni.attachment_status === 'detaching';
}

/** The instance's row when the caller may read its metadata: it exists in the caller's scope and is not (being) terminated. */
export async function metadataInstance(tx: Tx, caller: MetadataCaller, now: Date): Promise<Row<'instances'> | undefined> {
  const row = await tx
    .selectFrom('instances')
    .selectAll()
    .where('id', '=', caller.instanceId)
    .where('account_id', '=', caller.account)
    .where('region', '=', caller.region)
    .executeTakeFirst();
  if (!row) return undefined;
  const state = effectiveState(row, now.toISOString());
  return state === 'terminated' || state === 'shutting-down' ? undefined : row;
}

/**
 * The instance's metadata tree, or undefined when there is no such (live) instance.
 * `propagationMs`: AWS's lag after an attachment (see Timings.imdsPropagationMs).
 */
export async function instanceMetadata(tx: Tx, caller: MetadataCaller, now: Date, { propagationMs = 0 } = {}): Promise<InstanceMetadata | undefined> {
  const instance = await metadataInstance(tx, caller, now);
  if (!instance) return undefined;
  const options = metadataOptionsOf(instance);
  const nowText = now.toISOString();
  const enis = (await tx.selectFrom('network_interfaces').selectAll().where('instance_id', '=', instance.id).execute())
    .filter((eni) => holds(eni, nowText))
    .sort((a, b) => (a.network_card_index ?? 0) - (b.network_card_index ?? 0) || (a.device_index ?? 0) - (b.device_index ?? 0));
  const eniIds = enis.map((e) => e.id);
  const subnetIds = [...new Set(enis.map((e) => e.subnet_id))];
  const vpcIds = [...new Set(enis.map((e) => e.vpc_id))];
  const none = ['-'];
  const [privateIps, publicIps, ipv4Prefixes, ipv6, groups, subnets, vpcs, vpcBlocks, tags] = await inOrder(
    () => tx
      .selectFrom('private_ip_addresses')
      .select(['network_interface_id', 'address', 'is_primary', 'address_int'])
      .where('network_interface_id', 'in', eniIds.length ? eniIds : none)
      .orderBy('is_primary', 'desc')
      .orderBy('address_int')
      .execute(),
    () => tx
      .selectFrom('public_addresses')
      .select(['network_interface_id', 'public_ip', 'private_ip_address'])
      .where('network_interface_id', 'in', eniIds.length ? eniIds : none)
      .orderBy('public_ip')
      .execute(),
    () => tx
      .selectFrom('ipv4_prefixes')
      .select(['network_interface_id', 'prefix', 'first_address'])
      .where('network_interface_id', 'in', eniIds.length ? eniIds : none)
      .orderBy('first_address')
      .execute(),
    () => tx
      .selectFrom('ipv6_addresses')
      .select(['network_interface_id', 'address', 'kind', 'is_primary'])
      .where('network_interface_id', 'in', eniIds.length ? eniIds : none)
      .orderBy('is_primary', 'desc')
      .orderBy('address')
      .execute(),
    () => tx
      .selectFrom('network_interface_groups')
      .innerJoin('security_groups', 'security_groups.id', 'network_interface_groups.group_id')
      .select(['network_interface_groups.network_interface_id as eni', 'security_groups.id as id', 'security_groups.group_name as name'])
      .where('network_interface_groups.network_interface_id', 'in', eniIds.length ? eniIds : none)
      .orderBy('network_interface_groups.position')
      .execute(),
    () => tx.selectFrom('subnets').select(['id', 'cidr_block', 'ipv6_cidr_block']).where('id', 'in', subnetIds.length ? subnetIds : none).execute(),
    () => tx.selectFrom('vpcs').select(['id', 'enable_dns_hostnames']).where('id', 'in', vpcIds.length ? vpcIds : none).execute(),
    () => tx
      .selectFrom('vpc_cidr_blocks')
      .select(['vpc_id', 'cidr_block', 'family', 'is_primary'])
      .where('vpc_id', 'in', vpcIds.length ? vpcIds : none)
      .where('state', '=', 'associated')
      .orderBy('is_primary', 'desc')
      .orderBy('association_id')
      .execute(),
    () => options.instanceMetadataTags === 'enabled'
      ? tx.selectFrom('tags').select(['key', 'value']).where('resource_id', '=', instance.id).orderBy('key').execute()
      : Promise.resolve([] as { key: string; value: string }[]),
  );
  const of = <T extends { network_interface_id: string | null }>(rows: T[], eni: string) => rows.filter((r) => r.network_interface_id === eni);
  const region = instance.region;
  // AWS: public hostnames exist only in a VPC with DNS hostnames on.
  const publicHostname = (vpcId: string, publicIp: string | undefined) =>
    publicIp !== undefined && vpcs.some((v) => v.id === vpcId && Number(v.enable_dns_hostnames) === 1) ? leaf(publicDnsName(region, publicIp)) : undefined;

  const interfaceNode = (eni: Row<'network_interfaces'>): MetadataNode => {
    const ips = of(privateIps, eni.id).map((r) => r.address);
    const publics = of(publicIps, eni.id);
    // The primary address's public IP first, as AWS lists public-ipv4s.
    publics.sort((a, b) => Number(b.private_ip_address === eni.private_ip_address) - Number(a.private_ip_address === eni.private_ip_address));
    const eniGroups = groups.filter((g) => g.eni === eni.id);
    const subnet = subnets.find((s) => s.id === eni.subnet_id);
    const blocks = vpcBlocks.filter((b) => b.vpc_id === eni.vpc_id);
    const v4Blocks = blocks.filter((b) => Number(b.family) === 4).map((b) => b.cidr_block);
    const v6Blocks = blocks.filter((b) => Number(b.family) === 6).map((b) => b.cidr_block);
    const v6 = of(ipv6, eni.id);
    // AWS: until a new attachment has propagated, IMDS reports its device-number as 0.
    const propagating = propagationMs > 0 && eni.attach_time !== null && Date.parse(eni.attach_time) + propagationMs > now.getTime();
    return sortedDir([
      ['device-number', leaf(propagating ? '0' : String(eni.device_index ?? 0))],
      ['network-card-index', leaf(String(eni.network_card_index ?? 0))],
      ['interface-id', leaf(eni.id)],
      ['mac', leaf(eni.mac_address)],
      ['owner-id', leaf(eni.account_id)],
      // The interface's name (resource-based for a resource-name instance's primary); none without IPv4.
      ['local-hostname', leaf(eni.private_dns_name || (eni.private_ip_address ? privateDnsName(region, eni.private_ip_address) : ''))],
      ['local-ipv4s', lines(ips)],
      ['public-hostname', publicHostname(eni.vpc_id, publics[0]?.public_ip)],
      ['public-ipv4s', lines(publics.map((p) => p.public_ip))],
      [
        'ipv4-associations',
        publics.length ? dir(publics.map((p): [string, MetadataNode | undefined] => [p.public_ip, leaf(p.private_ip_address ?? eni.private_ip_address)])) : undefined,
      ],
      ['ipv6s', lines(v6.filter((a) => a.kind === 'address').map((a) => a.address))],
      ['ipv4-prefix', lines(of(ipv4Prefixes, eni.id).map((p) => p.prefix))],
      ['ipv6-prefix', lines(v6.filter((a) => a.kind === 'prefix').map((a) => a.address))],
      ['security-groups', lines(eniGroups.map((g) => g.name))],
      ['security-group-ids', lines(eniGroups.map((g) => g.id))],
      ['subnet-id', leaf(eni.subnet_id)],
      ['subnet-ipv4-cidr-block', leaf(subnet?.cidr_block)],
      ['subnet-ipv6-cidr-blocks', leaf(subnet?.ipv6_cidr_block)],
      ['vpc-id', leaf(eni.vpc_id)],
      ['vpc-ipv4-cidr-block', leaf(v4Blocks[0])],
      ['vpc-ipv4-cidr-blocks', lines(v4Blocks)],
      ['vpc-ipv6-cidr-blocks', lines(v6Blocks)],
    ]);
  };

  const primary = enis.find((e) => e.device_index === 0 && (e.network_card_index ?? 0) === 0);
  const primaryPublic = primary ? publicIps.find((p) => p.network_interface_id === primary.id && p.private_ip_address === primary.private_ip_address) : undefined;
  // An instance in an IPv6-only subnet has no local-ipv4 (AWS: the category is absent).
  const localIpv4 = (primary ? primary.private_ip_address : instance.private_ip_address) || undefined;
  const hostname = primary?.private_dns_name || (localIpv4 ? privateDnsName(region, localIpv4) : undefined);
  const zoneId = primary?.availability_zone_id ?? enis[0]?.availability_zone_id;

  const metaData = sortedDir([
    ['ami-id', leaf(instance.image_id)],
    ['ami-launch-index', leaf(String(instance.ami_launch_index))],
    ['hostname', leaf(hostname)],
    ['instance-id', leaf(instance.id)],
    ['instance-life-cycle', leaf('on-demand')],
    ['instance-type', leaf(instance.instance_type)],
    ['local-hostname', leaf(hostname)],
    ['local-ipv4', leaf(localIpv4)],
    ['mac', leaf(primary?.mac_address)],
    [
      'network',
      dir([['interfaces', dir([['macs', dir(enis.map((eni): [string, MetadataNode] => [eni.mac_address, interfaceNode(eni)]))]])]]),
    ],
    [
      'placement',
      dir([
        ['availability-zone', leaf(instance.availability_zone)],
        ['availability-zone-id', leaf(zoneId)],
        ['region', leaf(region)],
      ]),
    ],
    ['public-hostname', primary ? publicHostname(primary.vpc_id, primaryPublic?.public_ip) : undefined],
    ['public-ipv4', leaf(primaryPublic?.public_ip)],
    ['reservation-id', leaf(instance.reservation_id)],
    ['security-groups', primary ? lines(groups.filter((g) => g.eni === primary.id).map((g) => g.name)) : undefined],
    [
      'tags',
      options.instanceMetadataTags === 'enabled' ? dir([['instance', dir(tags.map((t): [string, MetadataNode] => [t.key, { kind: 'leaf', body: t.value }]))]]) : undefined,
    ],
  ]);

  const document = identityDocument(instance, localIpv4);
  const userData = instance.user_data ? Buffer.from(instance.user_data, 'base64') : undefined;
  const root = dir([
    ['dynamic', dir([['instance-identity', dir([['document', { kind: 'leaf', body: document }]])]])],
    ['meta-data', metaData],
    ['user-data', userData?.length ? { kind: 'leaf', body: userData, contentType: 'application/octet-stream' } : undefined],
  ]);
  return { instanceId: instance.id, options, root };
}

/**
 * AWS's instance identity document: these fields in this order, pretty-printed with AWS's
 * `"key" : value` spacing, null for what an on-demand Linux instance has none of.
 */
function identityDocument(instance: Row<'instances'>, privateIp: string | undefined): string {
  const fields: [string, string | null][] = [
    ['accountId', instance.account_id],
    ['architecture', architectureOf(instance.instance_type)],
    ['availabilityZone', instance.availability_zone],
    ['billingProducts', null],
    ['devpayProductCodes', null],
    ['marketplaceProductCodes', null],
    ['imageId', instance.image_id],
    ['instanceId', instance.id],
    ['instanceType', instance.instance_type],
    ['kernelId', null],
    ['pendingTime', instance.launch_time.replace(/\.\d+Z$/, 'Z')],
    ['privateIp', privateIp ?? null],
    ['ramdiskId', null],
    ['region', instance.region],
    ['version', '2017-09-30'],
  ];
  return `{\n${fields.map(([key, value]) => `  ${JSON.stringify(key)} : ${JSON.stringify(value)}`).join(',\n')}\n}`;
}

/** The node at a path below the version (`meta-data/network/interfaces/macs/`), or undefined. */
export function nodeAt(root: MetadataNode, segments: readonly string[]): MetadataNode | undefined {
  let node: MetadataNode | undefined = root;
  for (const segment of segments) {
    if (node?.kind !== 'dir') return undefined;
    node = node.entries.get(segment);
  }
  return node;
}

/** AWS's listing: one entry a line, directories ending in `/`, no final newline. */
export function listing(node: Extract<MetadataNode, { kind: 'dir' }>, options: { slashes: boolean } = { slashes: true }): string {
  return [...node.entries].map(([name, child]) => (child.kind === 'dir' && options.slashes ? `${name}/` : name)).join('\n');
}
