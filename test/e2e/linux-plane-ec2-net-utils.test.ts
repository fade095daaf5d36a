/**
 * `--guest-network ec2-net-utils`: every instance runs Debian's systemd-networkd and
 * amazon-ec2-net-utils, as Amazon Linux 2023 does. Its interfaces get their addresses from the
 * VPC's DHCP server, and a hot-attached interface is configured by ec2-net-utils' own
 * setup-policy-routes from the metadata service (IMDSv2): policy routing so that a reply to the
 * secondary interface's address leaves by that interface. Real programs on real sockets, only
 * between the test server's namespaces.
 */
import { AttachNetworkInterfaceCommand, AuthorizeSecurityGroupIngressCommand, CreateDhcpOptionsCommand, AssociateDhcpOptionsCommand, DetachNetworkInterfaceCommand, type EC2Client } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { createEni, createGroup, createNetwork, describeEni, launch } from '../helpers/topology.ts';
import { curl, eventually, httpServer, linuxPlaneSkip, namespaceOf, namespacesOf, onlyOnceSkip, stopCleanly } from '../helpers/plane.ts';
import { guestPid, inGuest } from '../../src/dataplane/linux/guest.ts';

const run = promisify(execFile);
const missing = ['/usr/bin/setup-policy-routes', '/lib/systemd/systemd-networkd', '/usr/bin/dbus-daemon'].filter((p) => !existsSync(p));
const skip = linuxPlaneSkip() || onlyOnceSkip() || (missing.length ? `needs ${missing.join(', ')} (Debian: amazon-ec2-net-utils systemd dbus-daemon)` : false);

describe('ec2-net-utils inside instances (--guest-network ec2-net-utils)', { skip }, () => {
  let server: TestServer;
  let ec2: EC2Client;

  before(async () => {
    server = await startTestServer({ dataplane: 'linux', guestNetwork: 'ec2-net-utils', defaultVpc: false });
    ec2 = server.client();
  });
  after(() => stopCleanly(server, []));

  /** A command inside the instance's guest: its network namespace and its mount namespace (its /run). */
  const guest = async (instanceId: string, command: string[]): Promise<string> => {
    const pid = await guestPid(namespaceOf(server, instanceId));
    assert.ok(pid, `the guest of ${instanceId} runs`);
    const [program, ...args] = inGuest(pid, command);
    return (await run(program, args, { timeout: 20_000 })).stdout;
  };
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 45_000) => assert.ok(await eventually(check, timeoutMs, 250), what);

  test('DHCP gives each interface its address; a hot-attached interface is configured by setup-policy-routes from IMDS, replies leave by it, and a detach removes it', async () => {
    const net = await createNetwork(ec2, '10.61.0.0/16', {
      a: { cidr: '10.61.1.0/24', zone: 'us-east-1a' },
      b: { cidr: '10.61.2.0/24', zone: 'us-east-1a' },
      c: { cidr: '10.61.3.0/24', zone: 'us-east-1a' },
    });
    // The VPC's DHCP options set: what networkd is told besides the address.
    const { DhcpOptions } = await ec2.send(
      new CreateDhcpOptionsCommand({ DhcpConfigurations: [{ Key: 'domain-name', Values: ['corp.example'] }, { Key: 'domain-name-servers', Values: ['AmazonProvidedDNS'] }] }),
    );
    await ec2.send(new AssociateDhcpOptionsCommand({ VpcId: net.vpcId, DhcpOptionsId: DhcpOptions!.DhcpOptionsId }));
    const web = await createGroup(ec2, net.vpcId, 'web');
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.61.0.0/16' }] }] }));

    const appliance = await launch(ec2, { SubnetId: net.subnets.a.SubnetId, SecurityGroupIds: [web] });
    const client = await launch(ec2, { SubnetId: net.subnets.c.SubnetId });
    const applianceIp = appliance.PrivateIpAddress!;

    // Boot: networkd asks the VPC's DHCP server, and gets the interface's primary address, its subnet and router, the options set.
    // Judged on the output that showed the address: networkd may still be reconfiguring the device
    // (a read right after it once came back empty in CI).
    let eth0 = '';
    await until('eth0 gets its address by DHCP', async () => (eth0 = await guest(appliance.InstanceId!, ['ip', '-4', 'address', 'show', 'dev', 'eth0'])).includes(`inet ${applianceIp}/24`));
    assert.match(eth0, /dynamic/, 'a leased address (valid_lft is not forever)');
    // Then policy-routes@eth0 (udev's `add` at boot) gives device 0 its metric (512 + 10 × device number).
    await until('the subnet router, with the ec2-net-utils metric for device 0', async () =>
      /default via 10\.61\.1\.1 dev eth0 proto dhcp .*metric 512/.test(await guest(appliance.InstanceId!, ['ip', '-4', 'route', 'show', 'default'])),
    );
    const lease = await guest(appliance.InstanceId!, ['networkctl', 'status', 'eth0']);
    assert.match(lease, /10\.61\.0\.2/, 'AmazonProvidedDNS: the VPC base + 2');
    assert.match(lease, /corp\.example/, 'the options set\'s domain name');
    assert.match(await guest(appliance.InstanceId!, ['ip', 'link', 'show', 'dev', 'eth0']), /mtu 9001/, 'jumbo frames inside the VPC, as DHCP says');

    // Hot-attach a secondary interface (another subnet, a secondary address) as device 1.
    const eni = await createEni(ec2, { SubnetId: net.subnets.b.SubnetId, Groups: [web], SecondaryPrivateIpAddressCount: 1 });
    const [primary, secondary] = [eni.PrivateIpAddress!, eni.PrivateIpAddresses!.find((a) => !a.Primary)!.PrivateIpAddress!];
    const { AttachmentId } = await ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eni.NetworkInterfaceId, InstanceId: appliance.InstanceId, DeviceIndex: 1 }));

    // Without policy routing the reply to eth1's address would leave by eth0 (and the VPC drops it: source/destination check).
    await until('setup-policy-routes adds a rule per address of eth1, to table 10001', async () => {
      const rules = await guest(appliance.InstanceId!, ['ip', 'rule', 'show']);
      return rules.includes(`from ${primary} lookup 10001`) && rules.includes(`from ${secondary} lookup 10001`);
    });
    await until('table 10001 routes by eth1 through its subnet router', async () => /default via 10\.61\.2\.1 dev eth1/.test(await guest(appliance.InstanceId!, ['ip', 'route', 'show', 'table', '10001'])));
    const eth1 = await guest(appliance.InstanceId!, ['ip', '-4', 'address', 'show', 'dev', 'eth1']);
    assert.match(eth1, new RegExp(`inet ${primary.replace(/\./g, '\\.')}/24 .*dynamic`), 'eth1 leased its primary address');
    await until('the secondary address comes from IMDS local-ipv4s, as an alias', async () => (await guest(appliance.InstanceId!, ['ip', '-4', 'address', 'show', 'dev', 'eth1'])).includes(`inet ${secondary}/32`));
    const link = await guest(appliance.InstanceId!, ['ip', 'link', 'show', 'dev', 'eth1']);
    assert.match(link, new RegExp(`altname ${eni.NetworkInterfaceId}`), 'IMDS interface-id as an altname');
    assert.match(link, /altname device-number-1/, 'IMDS device-number as an altname');
    assert.ok((await guest(appliance.InstanceId!, ['ls', '/run/systemd/network'])).includes('70-eth1.network'), 'its runtime networkd configuration');

    // A connection to eth1's addresses from another subnet gets its answer back through eth1.
    const http = await httpServer(server, appliance.InstanceId!, 'appliance');
    try {
      for (const address of [primary, secondary]) {
        // ec2-net-utils configures the device in several asynchronous steps (networkd reloads its
        // files after the rules are in): on a loaded machine the first connection may come while
        // it is still at it, so it is asked again for a while, and the last answer is what counts.
        let answer: Awaited<ReturnType<typeof curl>> | undefined;
        await eventually(async () => (answer = await curl(server, client.InstanceId!, `http://${address}/`)).body.trim() === `appliance ${address}`, 15_000, 250);
        assert.equal(answer?.body.trim(), `appliance ${address}`, `the reply to ${address} comes back: ${answer?.error ?? ''}`);
      }
      assert.equal((await curl(server, client.InstanceId!, `http://${applianceIp}/`)).body.trim(), `appliance ${applianceIp}`, 'eth0 still answers by eth0');
    } finally {
      http.stop();
    }

    // Detach: the device leaves, the unit stops, its configuration and rules are gone.
    await ec2.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    await until('the detach removes 70-eth1.network and its rules', async () => {
      const files = await guest(appliance.InstanceId!, ['ls', '/run/systemd/network']);
      const rules = await guest(appliance.InstanceId!, ['ip', 'rule', 'show']);
      return !files.includes('70-eth1.network') && !rules.includes(primary) && !rules.includes(secondary);
    });
    assert.equal((await describeEni(ec2, eni.NetworkInterfaceId!)).Status, 'available');
    assert.ok(namespacesOf(server).length >= 4, 'the plane is still up');
  });
});
