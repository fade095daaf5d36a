/**
 * Network interface permissions through the SDK, with two accounts chosen by access key: the
 * owner grants INSTANCE-ATTACH or EIP-ASSOCIATE to another account, which may then attach the
 * interface to its own instance in the same zone, or associate its Elastic IP with it — and is
 * refused without the permission.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AttachNetworkInterfaceCommand,
  CreateNetworkInterfacePermissionCommand,
  DeleteNetworkInterfaceCommand,
  DeleteNetworkInterfacePermissionCommand,
  DescribeAddressesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeNetworkInterfacePermissionsCommand,
  DetachNetworkInterfaceCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { expectEc2Error, startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createNetwork, describeEni, describeInstance, launch } from '../helpers/topology.ts';
import { createGateway, waitForState } from '../helpers/addressing.ts';

const OWNER = '000000000000';
const OTHER = '222222222222';

describe('network interface permissions', () => {
  let server: TestServer;
  let owner: EC2Client;
  let other: EC2Client;
  let block = 80;

  before(async () => {
    server = await startTestServer({ accounts: { AKIDOTHER: OTHER }, quotas: { vpcsPerRegion: 50 } });
    owner = server.client();
    other = server.client({ accessKeyId: 'AKIDOTHER' });
  });
  after(() => server.stop());

  async function setUp() {
    const n = block++;
    const mine = await createNetwork(owner, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' } });
    const eni = await createEni(owner, { SubnetId: mine.subnets.a.SubnetId, Description: 'shared' });
    const theirs = await createNetwork(other, `10.${n}.0.0/16`, { a: { cidr: `10.${n}.1.0/24`, zone: 'us-east-1a' }, b: { cidr: `10.${n}.2.0/24`, zone: 'us-east-1b' } });
    const inZone = await launch(other, { SubnetId: theirs.subnets.a.SubnetId });
    const elsewhere = await launch(other, { SubnetId: theirs.subnets.b.SubnetId });
    await waitForState(other, inZone.InstanceId!, 'running');
    await waitForState(other, elsewhere.InstanceId!, 'running');
    return { mine, eni, theirs, inZone, elsewhere };
  }

  test('the owner and a permitted account attach one interface at once: exactly one wins, the other is InvalidNetworkInterface.InUse', async () => {
    // Two accounts, so two scopes that do not wait for each other: the database's guard decides.
    const { mine, eni, inZone } = await setUp();
    await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'INSTANCE-ATTACH' }));
    const own = await launch(owner, { SubnetId: mine.subnets.a.SubnetId });
    await waitForState(owner, own.InstanceId!, 'running');
    const attach = (client: EC2Client, instanceId: string) =>
      client.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instanceId, DeviceIndex: 1 }));
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([attach(owner, own.InstanceId!), attach(other, inZone.InstanceId!)]);
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, id: r.value.AttachmentId! }] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { name?: string }).name] : []));
      assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.status))}`);
      assert.deepEqual(lost, ['InvalidNetworkInterface.InUse'], `round ${round}`);
      const seen = await describeEni(owner, eni.NetworkInterfaceId!);
      assert.equal(seen.Attachment?.AttachmentId, won[0].id);
      assert.equal(seen.Attachment?.InstanceId, won[0].i === 0 ? own.InstanceId : inZone.InstanceId);
      await owner.send(new DetachNetworkInterfaceCommand({ AttachmentId: won[0].id }));
      for (let i = 0; i < 100 && (await describeEni(owner, eni.NetworkInterfaceId!)).Status !== 'available'; i++) await new Promise((r) => setTimeout(r, 50));
    }
  });

  test('another account attaches the interface to its instance only once granted INSTANCE-ATTACH, in the same zone', async () => {
    const { eni, inZone, elsewhere } = await setUp();
    const attach = (instanceId: string) => other.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: instanceId, DeviceIndex: 1 }));
    await expectEc2Error(attach(inZone.InstanceId!), 'InvalidNetworkInterfaceID.NotFound');

    const { InterfacePermission } = await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'INSTANCE-ATTACH' }));
    assert.match(InterfacePermission!.NetworkInterfacePermissionId!, /^eni-perm-[0-9a-f]{17}$/);
    assert.equal(InterfacePermission!.NetworkInterfaceId, eni.NetworkInterfaceId);
    assert.equal(InterfacePermission!.AwsAccountId, OTHER);
    assert.equal(InterfacePermission!.Permission, 'INSTANCE-ATTACH');
    assert.equal(InterfacePermission!.PermissionState?.State, 'granted');

    await expectEc2Error(attach(elsewhere.InstanceId!), 'InvalidParameterCombination');
    const { AttachmentId } = await attach(inZone.InstanceId!);
    const seen = await describeEni(owner, eni.NetworkInterfaceId!);
    assert.equal(seen.Status, 'in-use');
    assert.equal(seen.OwnerId, OWNER);
    assert.equal(seen.Attachment!.InstanceId, inZone.InstanceId);
    assert.equal(seen.Attachment!.InstanceOwnerId, OTHER);
    const byOwner = await owner.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-owner-id', Values: [OTHER] }] }));
    assert.deepEqual(byOwner.NetworkInterfaces!.map((n) => n.NetworkInterfaceId), [eni.NetworkInterfaceId]);
    const instance = await describeInstance(other, inZone.InstanceId!);
    const held = instance.NetworkInterfaces!.find((n) => n.NetworkInterfaceId === eni.NetworkInterfaceId)!;
    assert.equal(held.Attachment!.DeviceIndex, 1);
    assert.equal(held.OwnerId, OWNER);
    // The owner cannot delete an attached interface.
    await expectEc2Error(owner.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId })), 'InvalidNetworkInterface.InUse');

    // Not while the other account holds it, unless forced; the attachment stays.
    const id = InterfacePermission!.NetworkInterfacePermissionId!;
    await expectEc2Error(owner.send(new DeleteNetworkInterfacePermissionCommand({ NetworkInterfacePermissionId: id })), 'OperationNotPermitted');
    assert.equal((await owner.send(new DeleteNetworkInterfacePermissionCommand({ NetworkInterfacePermissionId: id, Force: true }))).Return, true);
    await expectEc2Error(owner.send(new DescribeNetworkInterfacePermissionsCommand({ NetworkInterfacePermissionIds: [id] })), 'InvalidPermissionID.NotFound');
    assert.equal((await describeEni(owner, eni.NetworkInterfaceId!)).Attachment!.InstanceId, inZone.InstanceId);

    // The instance's account detaches it; then the owner may delete it.
    await other.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    assert.equal((await describeEni(owner, eni.NetworkInterfaceId!)).Status, 'available');
    // Without the permission, no second attach.
    await expectEc2Error(attach(inZone.InstanceId!), 'InvalidNetworkInterfaceID.NotFound');
    await owner.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
  });

  test('EIP-ASSOCIATE lets the other account put its Elastic IP on the interface', async () => {
    const { mine, eni } = await setUp();
    await createGateway(owner, mine.vpcId);
    const eip = await other.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const associate = () => other.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId }));
    await expectEc2Error(associate(), 'InvalidNetworkInterfaceID.NotFound');
    // INSTANCE-ATTACH is not EIP-ASSOCIATE.
    await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'INSTANCE-ATTACH' }));
    await expectEc2Error(associate(), 'InvalidNetworkInterfaceID.NotFound');
    await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'EIP-ASSOCIATE' }));
    await associate();
    const [address] = (await other.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses!;
    assert.equal(address.NetworkInterfaceId, eni.NetworkInterfaceId);
    assert.equal(address.NetworkInterfaceOwnerId, OWNER);
    const seen = await describeEni(owner, eni.NetworkInterfaceId!);
    assert.equal(seen.Association?.PublicIp, eip.PublicIp);

    const { NetworkInterfacePermissions } = await owner.send(
      new DescribeNetworkInterfacePermissionsCommand({ Filters: [{ Name: 'network-interface-permission.network-interface-id', Values: [eni.NetworkInterfaceId!] }] }),
    );
    assert.deepEqual(NetworkInterfacePermissions!.map((p) => p.Permission).sort(), ['EIP-ASSOCIATE', 'INSTANCE-ATTACH']);
    const onlyEip = await owner.send(
      new DescribeNetworkInterfacePermissionsCommand({
        Filters: [{ Name: 'network-interface-permission.permission', Values: ['EIP-ASSOCIATE'] }, { Name: 'network-interface-permission.aws-account-id', Values: [OTHER] }, { Name: 'network-interface-permission.network-interface-id', Values: [eni.NetworkInterfaceId!] }],
      }),
    );
    assert.equal(onlyEip.NetworkInterfacePermissions!.length, 1);
    // The grantee does not see the owner's permissions.
    assert.equal((await other.send(new DescribeNetworkInterfacePermissionsCommand({}))).NetworkInterfacePermissions!.length, 0);
  });

  test('what CreateNetworkInterfacePermission refuses; permissions go with their interface; pagination', async () => {
    const { mine, eni } = await setUp();
    const create = (input: Record<string, unknown>) =>
      owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, Permission: 'INSTANCE-ATTACH', ...input }));
    await expectEc2Error(create({}), 'MissingParameter');
    await expectEc2Error(create({ AwsAccountId: OWNER }), 'InvalidParameterValue');
    await expectEc2Error(create({ AwsAccountId: '12345' }), 'InvalidParameterValue');
    await expectEc2Error(create({ AwsAccountId: OTHER, AwsService: 'elasticloadbalancing.amazonaws.com' }), 'InvalidParameterCombination');
    await expectEc2Error(create({ AwsAccountId: OTHER, Permission: 'EVERYTHING' }), 'InvalidParameterValue');
    await expectEc2Error(owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: 'eni-12345678', AwsAccountId: OTHER, Permission: 'INSTANCE-ATTACH' })), 'InvalidNetworkInterfaceID.NotFound');
    // The other account cannot grant on the owner's interface.
    await expectEc2Error(other.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, AwsAccountId: '333333333333', Permission: 'INSTANCE-ATTACH' })), 'InvalidNetworkInterfaceID.NotFound');
    await create({ AwsAccountId: OTHER });
    await expectEc2Error(create({ AwsAccountId: OTHER }), 'InvalidPermission.Duplicate');
    await expectEc2Error(owner.send(new DescribeNetworkInterfacePermissionsCommand({ NetworkInterfacePermissionIds: ['eni-perm-12345678901234567'] })), 'InvalidPermissionID.NotFound');
    await expectEc2Error(owner.send(new DescribeNetworkInterfacePermissionsCommand({ NetworkInterfacePermissionIds: ['perm-1'] })), 'InvalidNetworkInterfacePermissionId.Malformed');
    await expectEc2Error(owner.send(new DeleteNetworkInterfacePermissionCommand({ NetworkInterfacePermissionId: 'eni-perm-12345678901234567' })), 'InvalidPermissionID.NotFound');

    // Pagination over several interfaces' permissions.
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const e = await createEni(owner, { SubnetId: mine.subnets.a.SubnetId });
      ids.push((await owner.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: e.NetworkInterfaceId, AwsAccountId: OTHER, Permission: 'EIP-ASSOCIATE' }))).InterfacePermission!.NetworkInterfacePermissionId!);
    }
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await owner.send(new DescribeNetworkInterfacePermissionsCommand({ Filters: [{ Name: 'network-interface-permission.permission', Values: ['EIP-ASSOCIATE'] }], MaxResults: 5, NextToken: token }));
      seen.push(...page.NetworkInterfacePermissions!.map((p) => p.NetworkInterfacePermissionId!));
      token = page.NextToken;
    } while (token);
    for (const id of ids) assert.ok(seen.includes(id));

    await owner.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId }));
    const left = await owner.send(new DescribeNetworkInterfacePermissionsCommand({ Filters: [{ Name: 'network-interface-permission.network-interface-id', Values: [eni.NetworkInterfaceId!] }] }));
    assert.deepEqual(left.NetworkInterfacePermissions, []);
  });
});
