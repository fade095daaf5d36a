/**
 * DescribeImages over a small built-in catalogue of well-known public images: Amazon Linux 2023
 * and Amazon Linux 2 (owner amazon, 137112412989) and Ubuntu 22.04 and 24.04 (Canonical,
 * 099720109477). Every region shows the same images under its own ids, derived from a hash of
 * the region and the image name, so a region always answers with the same `ami-` ids.
 *
 * RunInstances accepts any well-formed image id (see isWellFormedImageId); findImage tells it what
 * the catalogue knows about one, when it knows it.
 */
import { createHash } from 'node:crypto';
import type { ArchitectureValues, BlockDeviceMapping, DescribeImagesRequest, DescribeImagesResult, Image } from '@aws-sdk/client-ec2';
import { Errors } from './errors.ts';
import type { Filter } from '../store/describe.ts';
import { filterCatalogue, type CatalogueSpec } from './catalogue-filter.ts';
import type { Context } from './context.ts';
import { pageCatalogue } from './catalogue-filter.ts';
import { checkIds, isIdOf } from './rules/ids.ts';
import { checkMaxResults } from './rules/paging.ts';

export const AMAZON_OWNER_ID = '137112412989';
export const CANONICAL_OWNER_ID = '099720109477';

/** AWS: DescribeImages MaxResults is 5 to 1000; without it every match comes in one answer. */

/** The owner aliases DescribeImages accepts in Owner.N besides account ids. */
const OWNER_ALIASES = new Set(['self', 'amazon', 'aws-marketplace', 'aws-backup-vault']);

interface ImageRelease {
  name: string;
  description: string;
  ownerId: string;
  architecture: ArchitectureValues;
  creationDate: string;
  rootDeviceName: string;
  volumeSize: number;
  volumeType: 'gp2' | 'gp3';
  bootMode?: Image['BootMode'];
  imdsSupport?: Image['ImdsSupport'];
  /** Canonical's images map the first two instance-store volumes. */
  ephemeralDevices?: boolean;
}

const al2023 = (version: string, arch: 'x86_64' | 'arm64', creationDate: string, variant: '' | 'minimal' = ''): ImageRelease => ({
  name: `al2023-ami-${variant ? `${variant}-` : ''}${version}-kernel-6.1-${arch}`,
  description: `Amazon Linux 2023 AMI ${version} ${arch} ${variant ? 'Minimal ' : ''}HVM kernel-6.1`,
  ownerId: AMAZON_OWNER_ID,
  architecture: arch,
  creationDate,
  rootDeviceName: '/dev/xvda',
  volumeSize: variant ? 2 : 8,
  volumeType: 'gp3',
  bootMode: arch === 'arm64' ? 'uefi' : 'uefi-preferred',
  imdsSupport: 'v2.0',
});

const al2 = (version: string, creationDate: string): ImageRelease => ({
  name: `amzn2-ami-kernel-5.10-hvm-${version}-x86_64-gp2`,
  description: `Amazon Linux 2 Kernel 5.10 AMI ${version} x86_64 HVM gp2`,
  ownerId: AMAZON_OWNER_ID,
  architecture: 'x86_64',
  creationDate,
  rootDeviceName: '/dev/xvda',
  volumeSize: 8,
  volumeType: 'gp2',
});

const ubuntu = (
  release: { version: string; codename: string; path: string; volumeType: 'gp2' | 'gp3' },
  arch: 'x86_64' | 'arm64',
  serial: string,
  creationDate: string,
): ImageRelease => {
  const debArch = arch === 'x86_64' ? 'amd64' : 'arm64';
  return {
    name: `ubuntu/images/${release.path}/ubuntu-${release.codename}-${release.version}-${debArch}-server-${serial}`,
    description: `Canonical, Ubuntu, ${release.version} LTS, ${debArch} ${release.codename} image`,
    ownerId: CANONICAL_OWNER_ID,
    architecture: arch,
    creationDate,
    rootDeviceName: '/dev/sda1',
    volumeSize: 8,
    volumeType: release.volumeType,
    bootMode: arch === 'arm64' ? 'uefi' : 'uefi-preferred',
    ephemeralDevices: true,
  };
};

const JAMMY = { version: '22.04', codename: 'jammy', path: 'hvm-ssd', volumeType: 'gp2' } as const;
const NOBLE = { version: '24.04', codename: 'noble', path: 'hvm-ssd-gp3', volumeType: 'gp3' } as const;

/** The catalogue: two releases of the Amazon Linux images, so "pick the newest" has a choice. */
const RELEASES: readonly ImageRelease[] = [
  al2023('2023.6.20241121.0', 'x86_64', '2024-11-21T19:10:35.000Z'),
  al2023('2023.6.20241212.0', 'x86_64', '2024-12-12T22:06:45.000Z'),
  al2023('2023.6.20241121.0', 'arm64', '2024-11-21T19:10:41.000Z'),
  al2023('2023.6.20241212.0', 'arm64', '2024-12-12T22:06:52.000Z'),
  al2023('2023.6.20241212.0', 'x86_64', '2024-12-12T22:06:38.000Z', 'minimal'),
  al2('2.0.20241113.1', '2024-11-13T23:40:12.000Z'),
  al2('2.0.20241217.0', '2024-12-17T21:14:02.000Z'),
  ubuntu(JAMMY, 'x86_64', '20241206', '2024-12-06T07:38:31.000Z'),
  ubuntu(JAMMY, 'arm64', '20241206', '2024-12-06T07:38:44.000Z'),
  ubuntu(NOBLE, 'x86_64', '20241210', '2024-12-10T08:42:18.000Z'),
  ubuntu(NOBLE, 'arm64', '20241210', '2024-12-10T08:42:29.000Z'),
];

/** 17 lower-case hex digits derived from the region and a name: stable across restarts. */
function stableHex(region: string, name: string, salt: string): string {
  return createHash('sha256').update(`${salt}\0${region}\0${name}`).digest('hex').slice(0, 17);
}

function blockDeviceMappingsOf(region: string, release: ImageRelease): BlockDeviceMapping[] {
  const root: BlockDeviceMapping = {
    DeviceName: release.rootDeviceName,
    Ebs: {
      DeleteOnTermination: true,
      SnapshotId: `snap-${stableHex(region, release.name, 'snapshot')}`,
      VolumeSize: release.volumeSize,
      VolumeType: release.volumeType,
      Encrypted: false,
    },
  };
  if (!release.ephemeralDevices) return [root];
  return [root, { DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }, { DeviceName: '/dev/sdc', VirtualName: 'ephemeral1' }];
}

function imageOf(region: string, release: ImageRelease): Image {
  const amazon = release.ownerId === AMAZON_OWNER_ID;
  return {
    ImageId: `ami-${stableHex(region, release.name, 'image')}`,
    ImageLocation: `${amazon ? 'amazon' : release.ownerId}/${release.name}`,
    State: 'available',
    OwnerId: release.ownerId,
    // AWS: only Amazon's own images carry the `amazon` alias; Canonical's have none.
    ImageOwnerAlias: amazon ? 'amazon' : undefined,
    CreationDate: release.creationDate,
    Public: true,
    Architecture: release.architecture,
    ImageType: 'machine',
    Name: release.name,
    Description: release.description,
    RootDeviceType: 'ebs',
    RootDeviceName: release.rootDeviceName,
    BlockDeviceMappings: blockDeviceMappingsOf(region, release),
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EnaSupport: true,
    SriovNetSupport: 'simple',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    BootMode: release.bootMode,
    ImdsSupport: release.imdsSupport,
  };
}

const byRegion = new Map<string, readonly Image[]>();

/** The region's catalogue, ordered by image id (the order pages follow). */
export function imagesOf(region: string): readonly Image[] {
  let images = byRegion.get(region);
  if (!images) {
    images = RELEASES.map((r) => imageOf(region, r)).sort((a, b) => (a.ImageId! < b.ImageId! ? -1 : 1));
    byRegion.set(region, images);
  }
  return images;
}

/** `ami-` and 8 or 17 hex digits: the shape RunInstances and DescribeImages accept. */
export function isWellFormedImageId(id: string): boolean {
  return isIdOf('ami', id);
}

/** The catalogue image with this id in the region, or undefined for any other id. */
export function findImage(region: string, imageId: string): Image | undefined {
  return imagesOf(region).find((i) => i.ImageId === imageId);
}

const IMAGE_FILTERS: CatalogueSpec<Image> = {
  architecture: (i) => i.Architecture,
  'block-device-mapping.delete-on-termination': (i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.DeleteOnTermination),
  'block-device-mapping.device-name': (i) => (i.BlockDeviceMappings ?? []).map((b) => b.DeviceName),
  'block-device-mapping.snapshot-id': (i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.SnapshotId),
  'block-device-mapping.volume-size': (i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeSize),
  'block-device-mapping.volume-type': (i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeType),
  'block-device-mapping.encrypted': (i) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.Encrypted),
  'creation-date': (i) => i.CreationDate,
  description: (i) => i.Description,
  'ena-support': (i) => i.EnaSupport,
  hypervisor: (i) => i.Hypervisor,
  'image-id': (i) => i.ImageId,
  'image-type': (i) => i.ImageType,
  'is-public': (i) => i.Public,
  'kernel-id': (i) => i.KernelId,
  'manifest-location': (i) => i.ImageLocation,
  name: (i) => i.Name,
  'owner-alias': (i) => i.ImageOwnerAlias,
  'owner-id': (i) => i.OwnerId,
  platform: (i) => i.Platform,
  'platform-details': (i) => i.PlatformDetails,
  'product-code': () => [],
  'product-code.type': () => [],
  'ramdisk-id': (i) => i.RamdiskId,
  'root-device-name': (i) => i.RootDeviceName,
  'root-device-type': (i) => i.RootDeviceType,
  'source-instance-id': () => undefined,
  state: (i) => i.State,
  'state-reason-code': () => undefined,
  'state-reason-message': () => undefined,
  'sriov-net-support': (i) => i.SriovNetSupport,
  'usage-operation': (i) => i.UsageOperation,
  'virtualization-type': (i) => i.VirtualizationType,
  // The catalogue's images carry no tags: tag filters are valid and match nothing.
  'tag-key': () => [],
  'tag-value': () => [],
};

/** `tag:<key>` filters have open names; they match what tag-value matches here (nothing). */
function normaliseTagFilters(filters: readonly Filter[] | undefined): Filter[] {
  return (filters ?? []).map((f) => (f.Name?.startsWith('tag:') ? { ...f, Name: 'tag-value' } : f));
}

/**
 * AWS refuses an Owner or ExecutableBy value that is neither an account id nor a known alias.
 * TODO(errors.ts): move into the catalogue as `invalidUserIdMalformed`.
 */

const isAccountId = (value: string) => /^[0-9]{12}$/.test(value);

/** Owner.N: account ids and aliases; `self` is the caller, who owns no catalogue image. */
function ownedBy(images: readonly Image[], owners: readonly string[] | undefined, account: string): readonly Image[] {
  if (!owners?.length) return images;
  for (const owner of owners) if (!isAccountId(owner) && !OWNER_ALIASES.has(owner)) throw Errors.invalidUserIdMalformed(owner);
  return images.filter((i) =>
    owners.some((o) => o === i.OwnerId || (o !== 'self' && o === i.ImageOwnerAlias) || (o === 'self' && account === i.OwnerId)),
  );
}

/**
 * ExecutableBy.N: `all` is every public image; `self` or an account id means explicit launch
 * permissions, which no catalogue image grants (they are public instead).
 */
function executableBy(images: readonly Image[], users: readonly string[] | undefined): readonly Image[] {
  if (!users?.length) return images;
  for (const user of users) if (user !== 'all' && user !== 'self' && !isAccountId(user)) throw Errors.invalidUserIdMalformed(user);
  return users.includes('all') ? images.filter((i) => i.Public) : [];
}

/** ImageId.N: every id must be well formed and known in the region, as on AWS. */
function withIds(images: readonly Image[], ids: readonly string[] | undefined): readonly Image[] {
  if (!ids?.length) return images;
  checkIds('ami', Errors.imageId, ids);
  const known = new Set(images.map((i) => i.ImageId));
  const missing = [...new Set(ids)].filter((id) => !known.has(id));
  // AWS: "The image id '[ami-…]' does not exist", all the unknown ids in one bracketed list.
  if (missing.length) throw Errors.imageId.notFound(`[${missing.join(', ')}]`);
  return images.filter((i) => ids.includes(i.ImageId!));
}


export async function describeImages(ctx: Context, input: DescribeImagesRequest): Promise<DescribeImagesResult> {
  checkMaxResults(input.MaxResults);
  let images = withIds(imagesOf(ctx.region), input.ImageIds);
  images = ownedBy(images, input.Owners, ctx.account);
  images = executableBy(images, input.ExecutableUsers);
  const matching = filterCatalogue(images, normaliseTagFilters(input.Filters), IMAGE_FILTERS);
  const page = pageCatalogue(matching, (i) => i.ImageId!, { maxResults: input.MaxResults, nextToken: input.NextToken });
  return { Images: page.items, NextToken: page.nextToken };
}
