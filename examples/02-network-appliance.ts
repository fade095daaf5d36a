/**
 * Use case 2 — a network appliance (firewall, NAT or proxy instance).
 *
 * The client subnet's route table sends everything that is not local (0.0.0.0/0) to the
 * appliance's interface. An interface drops traffic that is not addressed to one of its own
 * addresses while its source/destination check is on (AWS's default); turned off, the appliance
 * receives the clients' traffic for any destination.
 *
 *   npx tsx examples/02-network-appliance.ts
 */
import { AssociateRouteTableCommand, CreateRouteCommand, CreateRouteTableCommand, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { check, conclude, createGroup, createSubnet, createVpc, describeEni, launch, runExample, say, tagged } from './lib.ts';

await runExample({ name: '02-network-appliance', title: 'Network appliance', region: 'eu-west-2' }, async (lab) => {
  const CLIENT_CIDR = '10.12.1.0/24';
  const DESTINATION = '198.51.100.20';
  const vpcId = await createVpc(lab, '10.12.0.0/16');
  const clients = await createSubnet(lab, vpcId, CLIENT_CIDR, 'a', 'clients');
  const appliances = await createSubnet(lab, vpcId, '10.12.2.0/24', 'a', 'appliances');
  // The appliance accepts every protocol from the clients; the clients keep AWS's default group.
  const applianceGroup = await createGroup(lab, vpcId, 'appliance', [{ IpProtocol: '-1', IpRanges: [{ CidrIp: CLIENT_CIDR }] }]);
  const appliance = await launch(lab, 'appliance', { SubnetId: appliances, SecurityGroupIds: [applianceGroup] });
  const applianceEni = appliance.NetworkInterfaces![0].NetworkInterfaceId!;
  const client = await launch(lab, 'client', { SubnetId: clients });

  // The clients' route table: 0.0.0.0/0 → the appliance's interface.
  const { RouteTable } = await lab.ec2.send(new CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: tagged(lab, 'route-table', 'clients') }));
  await lab.ec2.send(new CreateRouteCommand({ RouteTableId: RouteTable!.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', NetworkInterfaceId: applianceEni }));
  await lab.ec2.send(new AssociateRouteTableCommand({ RouteTableId: RouteTable!.RouteTableId, SubnetId: clients }));

  say(`Built ${vpcId}: client ${client.InstanceId} (${client.PrivateIpAddress}) in ${CLIENT_CIDR}, whose route table sends 0.0.0.0/0`);
  say(`  to ${applianceEni}, eth0 of the appliance ${appliance.InstanceId} (${appliance.PrivateIpAddress}).`);
  const flow = { from: client.InstanceId!, to: DESTINATION, port: 443 };
  say(`Probes (client → ${DESTINATION}:443):`);
  say(`  source/destination check of ${applianceEni}: ${(await describeEni(lab, applianceEni)).SourceDestCheck}`);
  await check(lab, 'with the check on', flow, { delivered: false, reason: 'source-dest-check' });

  await lab.ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: applianceEni, SourceDestCheck: { Value: false } }));
  say(`  ModifyNetworkInterfaceAttribute SourceDestCheck=false → now ${(await describeEni(lab, applianceEni)).SourceDestCheck}`);
  await check(lab, 'with the check off', flow, { delivered: true, kind: 'appliance', instanceId: appliance.InstanceId, networkInterfaceId: applianceEni });
  conclude('a route can send traffic to an appliance interface, which accepts it only once its source/destination check is off.');
});
