/**
 * Use case 3 — a dual-homed instance.
 *
 * One instance with an interface in each of two subnets of the same Availability Zone (launched
 * with two NetworkInterfaces specifications). Clients of each subnet reach it on its address in
 * their own subnet, and the traffic arrives on the matching interface: eth0 or eth1.
 *
 *   npx tsx examples/03-dual-homed.ts
 */
import { check, conclude, createGroup, createSubnet, createVpc, eniAt, launch, runExample, say, tcp } from './lib.ts';

await runExample({ name: '03-dual-homed', title: 'Dual-homed instance', region: 'eu-central-1' }, async (lab) => {
  const vpcId = await createVpc(lab, '10.13.0.0/16');
  const front = await createSubnet(lab, vpcId, '10.13.1.0/24', 'b', 'front');
  const back = await createSubnet(lab, vpcId, '10.13.2.0/24', 'b', 'back');
  const service = await createGroup(lab, vpcId, 'service', [tcp(8080, '10.13.0.0/16')]);

  const host = await launch(lab, 'dual-homed', {
    InstanceType: 'm5.large',
    NetworkInterfaces: [
      { DeviceIndex: 0, SubnetId: front, Groups: [service], Description: 'front' },
      { DeviceIndex: 1, SubnetId: back, Groups: [service], Description: 'back' },
    ],
  });
  const [eth0, eth1] = [eniAt(host, 0), eniAt(host, 1)];
  const frontClient = await launch(lab, 'front-client', { SubnetId: front });
  const backClient = await launch(lab, 'back-client', { SubnetId: back });

  say(`Built ${vpcId}: ${host.InstanceId} with eth0 ${eth0.PrivateIpAddress} in the front subnet and eth1 ${eth1.PrivateIpAddress} in the back subnet`);
  say(`  (both in ${lab.region}b, group service: tcp/8080 from the VPC); a client in each subnet.`);
  say('Probes (tcp/8080):');
  await check(lab, `front client ${frontClient.PrivateIpAddress} → ${eth0.PrivateIpAddress}`, { from: frontClient.InstanceId!, to: eth0.PrivateIpAddress!, port: 8080 }, {
    delivered: true,
    instanceId: host.InstanceId,
    networkInterfaceId: eth0.NetworkInterfaceId,
    deviceIndex: 0,
  });
  await check(lab, `back client ${backClient.PrivateIpAddress} → ${eth1.PrivateIpAddress}`, { from: backClient.InstanceId!, to: eth1.PrivateIpAddress!, port: 8080 }, {
    delivered: true,
    instanceId: host.InstanceId,
    networkInterfaceId: eth1.NetworkInterfaceId,
    deviceIndex: 1,
  });
  conclude(`one instance serves both subnets, each on its own interface (eth0 front, eth1 back).`);
});
