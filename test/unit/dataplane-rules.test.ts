import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cidrContains, decideNetworkAcl, longestPrefixMatch, matchSecurityGroupRule, protocolNumber } from '../../src/dataplane/rules.ts';

const rule = (over: Partial<Parameters<typeof matchSecurityGroupRule>[0][number]>) => ({
  id: 'sgr-1', group_id: 'sg-1', ip_protocol: 'tcp', from_port: 22, to_port: 22, cidr_ipv4: null, cidr_ipv6: null, referenced_group_id: null, prefix_list_id: null, ...over,
});

test('protocol names and numbers are the same protocols', () => {
  assert.equal(protocolNumber('tcp'), 6);
  assert.equal(protocolNumber('6'), 6);
  assert.equal(protocolNumber('-1'), -1);
  assert.equal(protocolNumber('ICMP'), 1);
  assert.ok(Number.isNaN(protocolNumber('bogus')));
});

test('CIDR containment never crosses address families', () => {
  assert.ok(cidrContains('10.0.0.0/16', '10.0.255.1'));
  assert.ok(!cidrContains('10.0.0.0/16', '10.1.0.1'));
  assert.ok(cidrContains('2001:db8::/32', '2001:db8:1::5'));
  assert.ok(!cidrContains('0.0.0.0/0', '2001:db8::1'));
  assert.ok(!cidrContains(null, '10.0.0.1'));
});

test('a security group rule matches by protocol, port range and CIDR or referenced group', () => {
  const ssh = rule({ cidr_ipv4: '10.0.0.0/24' });
  const peer = { address: '10.0.0.9', groupIds: [] };
  assert.equal(matchSecurityGroupRule([ssh], peer, { protocol: 6, port: 22 }), ssh);
  assert.equal(matchSecurityGroupRule([ssh], peer, { protocol: 6, port: 23 }), undefined);
  assert.equal(matchSecurityGroupRule([ssh], peer, { protocol: 17, port: 22 }), undefined);
  assert.equal(matchSecurityGroupRule([ssh], { address: '10.0.1.9', groupIds: [] }, { protocol: 6, port: 22 }), undefined);
  const fromGroup = rule({ ip_protocol: '-1', from_port: null, to_port: null, referenced_group_id: 'sg-web' });
  assert.equal(matchSecurityGroupRule([fromGroup], { address: '10.9.9.9', groupIds: ['sg-web'] }, { protocol: 17, port: 53 }), fromGroup);
  assert.equal(matchSecurityGroupRule([fromGroup], { address: '10.9.9.9', groupIds: ['sg-db'] }, { protocol: 17, port: 53 }), undefined);
});

test('a rule that references a prefix list matches the addresses of its entries', () => {
  const fromList = rule({ prefix_list_id: 'pl-1' });
  const lists = new Map([['pl-1', ['10.8.0.0/16', '192.0.2.0/24']]]);
  assert.equal(matchSecurityGroupRule([fromList], { address: '192.0.2.7', groupIds: [] }, { protocol: 6, port: 22 }, lists), fromList);
  assert.equal(matchSecurityGroupRule([fromList], { address: '10.9.0.1', groupIds: [] }, { protocol: 6, port: 22 }, lists), undefined);
  assert.equal(matchSecurityGroupRule([fromList], { address: '192.0.2.7', groupIds: [] }, { protocol: 6, port: 22 }), undefined, 'an unknown list matches nothing');
});

test('network ACL entries decide in rule-number order and end in the * deny', () => {
  const entries = [
    { rule_number: 200, protocol: '-1', rule_action: 'allow', cidr_block: '0.0.0.0/0', ipv6_cidr_block: null, port_from: null, port_to: null, icmp_type: null },
    { rule_number: 100, protocol: '6', rule_action: 'deny', cidr_block: '10.0.0.0/8', ipv6_cidr_block: null, port_from: 22, port_to: 22, icmp_type: null },
    { rule_number: 32767, protocol: '-1', rule_action: 'deny', cidr_block: '0.0.0.0/0', ipv6_cidr_block: null, port_from: null, port_to: null, icmp_type: null },
  ];
  assert.deepEqual(decideNetworkAcl(entries, '10.1.1.1', { protocol: 6, port: 22 }), { allow: false, ruleNumber: 100 });
  assert.deepEqual(decideNetworkAcl(entries, '10.1.1.1', { protocol: 6, port: 80 }), { allow: true, ruleNumber: 200 });
  assert.deepEqual(decideNetworkAcl(entries.slice(1), '192.168.0.1', { protocol: 6, port: 80 }), { allow: false, ruleNumber: '*' });
  assert.deepEqual(decideNetworkAcl(entries, '2001:db8::1', { protocol: 6, port: 80 }), { allow: false, ruleNumber: '*' });
});

test('routes are chosen by longest prefix', () => {
  const routes = [{ destination: '0.0.0.0/0', t: 'igw' }, { destination: '10.0.0.0/16', t: 'local' }, { destination: '10.0.5.0/24', t: 'eni' }];
  assert.equal(longestPrefixMatch(routes, '10.0.5.7')!.t, 'eni');
  assert.equal(longestPrefixMatch(routes, '10.0.6.7')!.t, 'local');
  assert.equal(longestPrefixMatch(routes, '8.8.8.8')!.t, 'igw');
  assert.equal(longestPrefixMatch(routes.slice(1), '8.8.8.8'), undefined);
});
