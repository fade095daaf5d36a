/**
 * Use case 6 — a multi-interface application (a web tier in front of a database).
 *
 * The web server has a front interface in the public subnet (group web-front: tcp/80 from
 * anywhere, with an Elastic IP) and a back interface in a private subnet (group web-back). The
 * database, in a subnet of its own without a route to the internet, lets in tcp/5432 only from
 * members of web-back: a security-group reference, so only the back interface may talk to it.
 *
 *   npx tsx examples/06-multi-interface.ts
 */
import { AllocateAddressCommand, AssociateAddressCommand } from '@aws-sdk/client-ec2';
import { check, conclude, connectToInternet, createGroup, createSubnet, createVpc, eniAt, launch, runExample, say, tagged, tcp } from './lib.ts';

await runExample({ name: '06-multi-interface', title: 'Multi-interface application', region: 'ca-central-1' }, async (lab) => {
  const vpcId = await createVpc(lab, '10.16.0.0/16');
  const publicSubnet = await createSubnet(lab, vpcId, '10.16.1.0/24', 'a', 'public');
  const privateSubnet = await createSubnet(lab, vpcId, '10.16.2.0/24', 'a', 'private');
  const databaseSubnet = await createSubnet(lab, vpcId, '10.16.3.0/24', 'a', 'database');
  await connectToInternet(lab, vpcId, [publicSubnet]);
  const webFront = await createGroup(lab, vpcId, 'web-front', [tcp(80, '0.0.0.0/0')]);
  const webBack = await createGroup(lab, vpcId, 'web-back', []);
  const database = await createGroup(lab, vpcId, 'database', [tcp(5432, { group: webBack })]);

  const web = await launch(lab, 'web', {
    InstanceType: 'm5.large',
    NetworkInterfaces: [
      { DeviceIndex: 0, SubnetId: publicSubnet, Groups: [webFront], Description: 'front' },
      { DeviceIndex: 1, SubnetId: privateSubnet, Groups: [webBack], Description: 'back' },
    ],
  });
  const [front, back] = [eniAt(web, 0), eniAt(web, 1)];
  const eip = await lab.ec2.send(new AllocateAddressCommand({ Domain: 'vpc', TagSpecifications: tagged(lab, 'elastic-ip', 'web') }));
  // The instance has two interfaces: the Elastic IP goes to the front one by its id.
  await lab.ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, NetworkInterfaceId: front.NetworkInterfaceId }));
  const db = await launch(lab, 'database', { SubnetId: databaseSubnet, SecurityGroupIds: [database] });
  const dbAddress = db.PrivateIpAddress!;

  say(`Built ${vpcId}: web ${web.InstanceId} with front ${front.PrivateIpAddress} (public subnet, web-front, Elastic IP ${eip.PublicIp})`);
  say(`  and back ${back.PrivateIpAddress} (private subnet, web-back); database ${db.InstanceId} at ${dbAddress} (group database: tcp/5432 from web-back).`);
  say('Probes:');
  await check(lab, `internet → ${eip.PublicIp}:80`, { from: 'internet', to: eip.PublicIp!, port: 80 }, { delivered: true, instanceId: web.InstanceId, deviceIndex: 0 });
  await check(lab, `web back → database ${dbAddress}:5432`, { from: back.NetworkInterfaceId!, to: dbAddress, port: 5432 }, { delivered: true, instanceId: db.InstanceId });
  await check(lab, `web front → database ${dbAddress}:5432`, { from: front.NetworkInterfaceId!, to: dbAddress, port: 5432 }, { delivered: false, reason: 'sg-ingress-denied' });
  // A private address is not reachable from the internet at all.
  await check(lab, `internet → database ${dbAddress}:5432`, { from: 'internet', to: dbAddress, port: 5432 }, { delivered: false, reason: 'no-route' });
  conclude('the public serves on the front interface; only the back interface reaches the database.');
});
