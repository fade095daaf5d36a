import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ec2Error } from '../../src/cloud/errors.ts';
import {
  canonicalIpv4Cidr,
  canonicalIpv6Cidr,
  normaliseProtocol,
  permissionsOf,
  portRange,
  requestedRules,
  ruleKey,
  ruleText,
  type RuleFields,
} from '../../src/cloud/security-groups.ts';

/** Asserts that fn throws the EC2 error code. */
function throwsCode(fn: () => unknown, code: string) {
  assert.throws(fn, (e: unknown) => e instanceof Ec2Error && e.code === code, `expected ${code}`);
}

const rule = (over: Partial<RuleFields>): RuleFields => ({
  ip_protocol: 'tcp',
  from_port: 22,
  to_port: 22,
  cidr_ipv4: null,
  cidr_ipv6: null,
  referenced_group_id: null,
  prefix_list_id: null,
  ...over,
});

describe('protocol normalisation', () => {
  test('names in any case, numbers with a name answered by name, other numbers kept', () => {
    assert.equal(normaliseProtocol('tcp'), 'tcp');
    assert.equal(normaliseProtocol('UDP'), 'udp');
    assert.equal(normaliseProtocol('6'), 'tcp');
    assert.equal(normaliseProtocol('17'), 'udp');
    assert.equal(normaliseProtocol('1'), 'icmp');
    assert.equal(normaliseProtocol('58'), 'icmpv6');
    assert.equal(normaliseProtocol('-1'), '-1');
    assert.equal(normaliseProtocol('050'), '50');
    assert.equal(normaliseProtocol('0'), '0');
    assert.equal(normaliseProtocol('255'), '255');
  });

  test('all, unknown names, numbers above 255 and a missing protocol are InvalidParameterValue', () => {
    for (const p of ['all', 'gre', '256', '-2', '', undefined]) throwsCode(() => normaliseProtocol(p), 'InvalidParameterValue');
  });
});

describe('port ranges', () => {
  test('tcp and udp keep their range; -1 and other numbers cover every port', () => {
    assert.deepEqual(portRange('tcp', 0, 65535), { from_port: 0, to_port: 65535 });
    assert.deepEqual(portRange('udp', 53, 53), { from_port: 53, to_port: 53 });
    assert.deepEqual(portRange('-1', 1, 2), { from_port: null, to_port: null });
    assert.deepEqual(portRange('50', undefined, undefined), { from_port: null, to_port: null });
  });

  test('tcp/udp: both ports, in range, in order', () => {
    throwsCode(() => portRange('tcp', undefined, 22), 'InvalidParameterValue');
    throwsCode(() => portRange('udp', 22, undefined), 'InvalidParameterValue');
    throwsCode(() => portRange('tcp', -1, 22), 'InvalidPermission.Malformed');
    throwsCode(() => portRange('tcp', 1, 65536), 'InvalidPermission.Malformed');
    throwsCode(() => portRange('tcp', 23, 22), 'InvalidParameterValue');
  });

  test('icmp: type and code from -1 to 255, a code needs a type; icmpv6 may omit both', () => {
    assert.deepEqual(portRange('icmp', 8, 0), { from_port: 8, to_port: 0 });
    assert.deepEqual(portRange('icmp', 3, -1), { from_port: 3, to_port: -1 });
    assert.deepEqual(portRange('icmpv6', undefined, undefined), { from_port: -1, to_port: -1 });
    throwsCode(() => portRange('icmp', undefined, undefined), 'InvalidParameterValue');
    throwsCode(() => portRange('icmpv6', 128, undefined), 'InvalidParameterValue');
    throwsCode(() => portRange('icmp', 256, 0), 'InvalidParameterValue');
    throwsCode(() => portRange('icmp', 0, 256), 'InvalidParameterValue');
    throwsCode(() => portRange('icmp', -1, 0), 'InvalidParameterValue');
  });
});

describe('CIDRs', () => {
  test('IPv4: host bits cleared; anything else is InvalidParameterValue', () => {
    assert.equal(canonicalIpv4Cidr('10.0.0.28/29'), '10.0.0.24/29');
    assert.equal(canonicalIpv4Cidr('0.0.0.0/0'), '0.0.0.0/0');
    assert.equal(canonicalIpv4Cidr('192.0.2.7/32'), '192.0.2.7/32');
    for (const c of ['10.0.0.0/33', '10.0.0.0', '10.0.0/8', '::/0', '']) throwsCode(() => canonicalIpv4Cidr(c), 'InvalidParameterValue');
  });

  test('IPv6: network address, compressed, lower case', () => {
    assert.equal(canonicalIpv6Cidr('2001:DB8:0:0:1::5/64'), '2001:db8::/64');
    assert.equal(canonicalIpv6Cidr('::/0'), '::/0');
    assert.equal(canonicalIpv6Cidr('2001:db8::1/128'), '2001:db8::1/128');
    for (const c of ['2001:db8::/129', '10.0.0.0/8', 'fe80::1%eth0/64', '2001:db8::']) throwsCode(() => canonicalIpv6Cidr(c), 'InvalidParameterValue');
  });
});

describe('IpPermissions to rules', () => {
  test('one rule per CIDR, IPv6 CIDR, prefix list and group, each with its description', () => {
    const rules = requestedRules([
      {
        IpProtocol: '6',
        FromPort: 443,
        ToPort: 443,
        IpRanges: [{ CidrIp: '10.0.0.1/8', Description: 'a' }],
        Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }],
        PrefixListIds: [{ PrefixListId: 'pl-63a5400a', Description: '' }],
        UserIdGroupPairs: [{ GroupId: 'sg-0123456789abcdef0' }],
      },
    ]);
    assert.deepEqual(
      rules.map((r) => [r.ip_protocol, r.from_port, r.to_port, r.peer.kind, r.description]),
      [
        ['tcp', 443, 443, 'ipv4', 'a'],
        ['tcp', 443, 443, 'ipv6', null],
        ['tcp', 443, 443, 'prefix-list', null],
        ['tcp', 443, 443, 'group', null],
      ],
    );
    assert.deepEqual(rules[0].peer, { kind: 'ipv4', cidr: '10.0.0.0/8' });
  });

  test('a permission without peers adds nothing; a pair naming no group, a missing CIDR or a bad prefix list is refused', () => {
    assert.deepEqual(requestedRules([{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1 }]), []);
    throwsCode(() => requestedRules([{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, UserIdGroupPairs: [{}] }]), 'MissingParameter');
    throwsCode(() => requestedRules([{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{}] }]), 'MissingParameter');
    throwsCode(() => requestedRules([{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, PrefixListIds: [{ PrefixListId: 'sg-63a5400a' }] }]), 'InvalidParameterValue');
  });

  test('rule descriptions: up to 255 characters of AWS’s set', () => {
    const withDescription = (Description: string) => () =>
      requestedRules([{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0', Description }] }]);
    withDescription('ok: a-z A-Z 0-9 ._-:/()#,@[]+=&;{}!$*')();
    throwsCode(withDescription('x'.repeat(256)), 'InvalidParameterValue');
    throwsCode(withDescription('quote"'), 'InvalidParameterValue');
  });
});

describe('the legacy flat members', () => {
  test('CidrIp with protocol and ports becomes one permission', () => {
    assert.deepEqual(permissionsOf({ CidrIp: '10.0.0.0/8', IpProtocol: 'tcp', FromPort: 1, ToPort: 2 }, 'ingress'), [
      { IpProtocol: 'tcp', FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: '10.0.0.0/8' }] },
    ]);
  });

  test('a source group grants all ICMP, TCP and UDP', () => {
    const permissions = permissionsOf({ SourceSecurityGroupName: 'web', SourceSecurityGroupOwnerId: '000000000000' }, 'ingress');
    assert.deepEqual(permissions.map((p) => [p.IpProtocol, p.FromPort, p.ToPort]), [['icmp', -1, -1], ['tcp', 0, 65535], ['udp', 0, 65535]]);
    assert.deepEqual(permissions[0].UserIdGroupPairs, [{ GroupName: 'web', UserId: '000000000000' }]);
  });

  test('no mixing with IpPermissions or with a source group; not for egress; a source is needed', () => {
    throwsCode(() => permissionsOf({ CidrIp: '10.0.0.0/8', IpPermissions: [{ IpProtocol: '-1' }] }, 'ingress'), 'InvalidParameterCombination');
    throwsCode(() => permissionsOf({ SourceSecurityGroupName: 'web', FromPort: 1 }, 'ingress'), 'InvalidParameterCombination');
    throwsCode(() => permissionsOf({ CidrIp: '10.0.0.0/8', IpProtocol: '-1' }, 'egress'), 'InvalidParameterValue');
    throwsCode(() => permissionsOf({ IpProtocol: 'tcp', FromPort: 1, ToPort: 1 }, 'ingress'), 'MissingParameter');
    throwsCode(() => permissionsOf({ SourceSecurityGroupOwnerId: '000000000000' }, 'ingress'), 'MissingParameter');
    assert.deepEqual(permissionsOf({ IpPermissions: [{ IpProtocol: '-1' }] }, 'egress'), [{ IpProtocol: '-1' }]);
  });
});

describe('rule identity', () => {
  test('the key ignores nothing of the match; the text names it as AWS does', () => {
    assert.notEqual(ruleKey(rule({ cidr_ipv4: '10.0.0.0/8' })), ruleKey(rule({ cidr_ipv6: '10.0.0.0/8' })));
    assert.notEqual(ruleKey(rule({ from_port: 22, to_port: 23 })), ruleKey(rule({ from_port: 22, to_port: 22 })));
    assert.equal(ruleText(rule({ cidr_ipv4: '0.0.0.0/0' })), 'peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW');
    assert.equal(
      ruleText(rule({ ip_protocol: 'icmp', from_port: -1, to_port: -1, cidr_ipv4: '10.0.0.0/24' })),
      'peer: 10.0.0.0/24, ICMP, type: ALL, code: ALL, ALLOW',
    );
    assert.equal(ruleText(rule({ ip_protocol: '-1', from_port: null, to_port: null, referenced_group_id: 'sg-1' })), 'peer: sg-1, ALL, ALLOW');
  });
});
