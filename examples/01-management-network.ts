/**
 * Use case 1 — a management network.
 *
 * The server's primary interface (eth0) sits in the app subnet with a group that serves HTTPS to
 * everyone and has no SSH rule. A second interface (eth1) in a management subnet carries its own
 * group, which allows SSH only from the admin network. Administration thus goes through eth1 only.
 *
 *   npx tsx examples/01-management-network.ts
 */
import { AttachNetworkInterfaceCommand, CreateNetworkInterfaceCommand } from '@aws-sdk/client-ec2';
import { check, conclude, createGroup, createSubnet, createVpc, describeEni, launch, runExample, say, tagged, tcp, waitFor } from './lib.ts';

await runExample({ name: '01-management-network', title: 'Management network', region: 'eu-west-1' }, async (lab) => {
  const ADMIN_CIDR = '10.11.200.0/24';
  const vpcId = await createVpc(lab, '10.11.0.0/16');
  const app = await createSubnet(lab, vpcId, '10.11.1.0/24', 'a', 'app');
  const management = await createSubnet(lab, vpcId, '10.11.9.0/24', 'a', 'management');
  const admin = await createSubnet(lab, vpcId, ADMIN_CIDR, 'a', 'admin');
  const appGroup = await createGroup(lab, vpcId, 'app', [tcp(443, '0.0.0.0/0')]);
  const managementGroup = await createGroup(lab, vpcId, 'management', [tcp(22, ADMIN_CIDR)]);
  const adminGroup = await createGroup(lab, vpcId, 'admin-host', []);

  // The server: eth0 in the app subnet, then a management interface attached as eth1.
  const server = await launch(lab, 'server', { SubnetId: app, SecurityGroupIds: [appGroup] });
  const { NetworkInterface: eth1 } = await lab.ec2.send(
    new CreateNetworkInterfaceCommand({ SubnetId: management, Groups: [managementGroup], Description: 'management', TagSpecifications: tagged(lab, 'network-interface', 'server-management') }),
  );
  await lab.ec2.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: eth1!.NetworkInterfaceId, InstanceId: server.InstanceId, DeviceIndex: 1 }));
  await waitFor('eth1 attached', () => describeEni(lab, eth1!.NetworkInterfaceId!), (n) => n.Attachment?.Status === 'attached');

  const adminHost = await launch(lab, 'admin-host', { SubnetId: admin, SecurityGroupIds: [adminGroup] });
  const webPeer = await launch(lab, 'web-peer', { SubnetId: app, SecurityGroupIds: [appGroup] });
  const appAddress = server.PrivateIpAddress!;
  const managementAddress = eth1!.PrivateIpAddress!;

  say(`Built ${vpcId}: server ${server.InstanceId} with eth0 ${appAddress} (app subnet, group app: tcp/443 from anywhere)`);
  say(`  and eth1 ${managementAddress} (management subnet, group management: tcp/22 from ${ADMIN_CIDR});`);
  say(`  admin host ${adminHost.PrivateIpAddress} in ${ADMIN_CIDR}, web peer ${webPeer.PrivateIpAddress} in the app subnet.`);
  say('Probes (tcp/22):');
  const adminEni = adminHost.NetworkInterfaces![0].NetworkInterfaceId!;
  await check(lab, `admin host → management address ${managementAddress}`, { from: adminEni, to: managementAddress, port: 22 }, { delivered: true, instanceId: server.InstanceId, deviceIndex: 1 });
  await check(lab, `admin host → app address ${appAddress}`, { from: adminEni, to: appAddress, port: 22 }, { delivered: false, reason: 'sg-ingress-denied' });
  await check(lab, `web peer → management address ${managementAddress}`, { from: webPeer.InstanceId!, to: managementAddress, port: 22 }, { delivered: false, reason: 'sg-ingress-denied' });
  conclude('SSH reaches the server only on its management interface (eth1), and only from the admin network.');
});
