/**
 * What the console's buttons do, as sequences of EC2 calls a script would make. The server
 * decides every rule; a refusal comes back as AWS's error (code and message) and is shown as is.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  DetachNetworkInterfaceCommand,
  DisassociateAddressCommand,
  ModifyNetworkInterfaceAttributeCommand,
  type EC2Client,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';

export type MovePhase = 'detaching' | 'waiting' | 'attaching' | 'attached' | 'restoring';

const POLL_MS = 150;
const WAIT_LIMIT_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function describeInterface(ec2: EC2Client, id: string): Promise<NetworkInterface> {
  const { NetworkInterfaces } = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }));
  const eni = NetworkInterfaces?.[0];
  if (!eni) throw Object.assign(new Error(`The network interface '${id}' does not exist`), { name: 'InvalidNetworkInterfaceID.NotFound' });
  return eni;
}

/** Polls DescribeNetworkInterfaces until the interface is in the state asked for (as an SDK waiter would). */
async function waitForInterface(ec2: EC2Client, id: string, done: (eni: NetworkInterface) => boolean, what: string): Promise<NetworkInterface> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const eni = await describeInterface(ec2, id);
    if (done(eni)) return eni;
    if (Date.now() > deadline) throw Object.assign(new Error(`${id} did not become ${what} within ${WAIT_LIMIT_MS / 1000} s`), { name: 'WaiterTimeout' });
    await sleep(POLL_MS);
  }
}

const isAvailable = (eni: NetworkInterface) => eni.Status === 'available' && !eni.Attachment;
const isAttached = (eni: NetworkInterface) => eni.Attachment?.Status === 'attached';

/** The lowest device index (from 1: 0 is the primary's) not taken on the instance now. */
export async function nextFreeDeviceIndex(ec2: EC2Client, instanceId: string): Promise<number> {
  const { Reservations } = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const instance = Reservations?.[0]?.Instances?.[0];
  const taken = new Set((instance?.NetworkInterfaces ?? []).map((n) => n.Attachment?.DeviceIndex));
  let index = 1;
  while (taken.has(index)) index++;
  return index;
}

/** Attaches an available interface at the instance's next free device index and waits until attached. */
export async function attachInterface(ec2: EC2Client, eniId: string, instanceId: string, report: (phase: MovePhase) => void = () => {}): Promise<void> {
  report('attaching');
  const DeviceIndex = await nextFreeDeviceIndex(ec2, instanceId);
  await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: instanceId, DeviceIndex }));
  await waitForInterface(ec2, eniId, isAttached, 'attached');
  report('attached');
}

export async function detachInterface(ec2: EC2Client, eniId: string, report: (phase: MovePhase) => void = () => {}): Promise<void> {
  const eni = await describeInterface(ec2, eniId);
  if (!eni.Attachment?.AttachmentId) return;
  report('detaching');
  await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId: eni.Attachment.AttachmentId }));
  report('waiting');
  await waitForInterface(ec2, eniId, isAvailable, 'available');
}

/**
 * Moves an interface to another instance: DetachNetworkInterface (if attached), wait until
 * available, AttachNetworkInterface at the target's next free device index, wait until attached.
 *
 * EC2 has no atomic move, and it checks the target (zone, type limit) only on attach, after the
 * detach has happened. So when the attach is refused the interface is put back where it was —
 * same instance, same device index, same DeleteOnTermination — and the refusal is rethrown:
 * the person sees AWS's error and the picture as it was. (A refused detach, such as the
 * primary interface's OperationNotPermitted, changes nothing to begin with.)
 */
export async function moveInterface(ec2: EC2Client, eniId: string, targetInstanceId: string, report: (phase: MovePhase) => void): Promise<void> {
  const eni = await describeInterface(ec2, eniId);
  const from = eni.Attachment?.AttachmentId
    ? { instanceId: eni.Attachment.InstanceId!, deviceIndex: eni.Attachment.DeviceIndex!, deleteOnTermination: eni.Attachment.DeleteOnTermination === true }
    : undefined;
  if (from?.instanceId === targetInstanceId) return;
  await detachInterface(ec2, eniId, report);
  try {
    await attachInterface(ec2, eniId, targetInstanceId, report);
  } catch (refusal) {
    if (from) {
      report('restoring');
      await restoreAttachment(ec2, eniId, from);
    }
    throw refusal;
  }
}

async function restoreAttachment(ec2: EC2Client, eniId: string, to: { instanceId: string; deviceIndex: number; deleteOnTermination: boolean }): Promise<void> {
  const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eniId, InstanceId: to.instanceId, DeviceIndex: to.deviceIndex }));
  await waitForInterface(ec2, eniId, isAttached, 'attached');
  // AWS: an attachment made after launch starts with DeleteOnTermination false.
  if (to.deleteOnTermination && AttachmentId) {
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attachment: { AttachmentId, DeleteOnTermination: true } }),
    );
  }
}

export async function createInterface(
  ec2: EC2Client,
  input: { subnetId: string; description?: string; groups?: string[]; privateIpAddress?: string },
): Promise<string> {
  const { NetworkInterface } = await ec2.send(
    new CreateNetworkInterfaceCommand({
      SubnetId: input.subnetId,
      Description: input.description || undefined,
      Groups: input.groups?.length ? input.groups : undefined,
      PrivateIpAddress: input.privateIpAddress || undefined,
    }),
  );
  return NetworkInterface!.NetworkInterfaceId!;
}

export async function deleteInterface(ec2: EC2Client, eniId: string): Promise<void> {
  await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eniId }));
}

export async function setInterfaceGroups(ec2: EC2Client, eniId: string, groups: string[]): Promise<void> {
  await ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Groups: groups }));
}

/** Associates an Elastic IP (allocating one when `allocationId` is 'new') with the interface's primary private address. */
export async function associateElasticIp(ec2: EC2Client, eniId: string, allocationId: string | 'new', privateIpAddress?: string): Promise<string> {
  let id = allocationId;
  if (id === 'new') id = (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
  await ec2.send(new AssociateAddressCommand({ AllocationId: id, NetworkInterfaceId: eniId, PrivateIpAddress: privateIpAddress, AllowReassociation: true }));
  return id;
}

export async function disassociateElasticIp(ec2: EC2Client, associationId: string): Promise<void> {
  await ec2.send(new DisassociateAddressCommand({ AssociationId: associationId }));
}

/**
 * The account these credentials act as: the owner of a security group (every VPC has one).
 * Undefined when the account has no VPC at all: the JSON API then uses the server's default.
 */
export async function accountOf(ec2: EC2Client): Promise<string | undefined> {
  const { SecurityGroups } = await ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5 }));
  return SecurityGroups?.[0]?.OwnerId;
}

export async function regionNames(ec2: EC2Client): Promise<string[]> {
  const { Regions } = await ec2.send(new DescribeRegionsCommand({}));
  return (Regions ?? []).map((r) => r.RegionName!).sort();
}
