/** EC2's request token buckets (src/api/ec2/throttle.ts), with time passed in: no sleeps. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AWS_REQUEST_BUCKETS, RequestThrottle, TokenBucket, throttleCategory, throttleConfig, type ThrottledCall } from '../../src/api/ec2/throttle.ts';

/** A throttle whose clock the test moves. */
function clocked(config = {}) {
  let now = 1_000;
  const throttle = new RequestThrottle(config, () => now);
  return {
    throttle,
    advance: (ms: number) => (now += ms),
    /** How many of `n` immediate calls get through. */
    burst: (n: number, call: ThrottledCall = { account: '111111111111', region: 'us-east-1', action: 'DescribeVpcs' }) =>
      Array.from({ length: n }, () => throttle.admit(call)).filter(Boolean).length,
  };
}

describe('a token bucket', () => {
  test('starts full, gives one token per request and refuses when empty, without taking', () => {
    const bucket = new TokenBucket({ capacity: 3, refillRate: 1 }, 0);
    assert.deepEqual([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)], [true, true, true, false]);
    assert.equal(bucket.available(0), 0);
  });

  test('refills continuously at a fractional rate, up to its capacity', () => {
    const bucket = new TokenBucket({ capacity: 4, refillRate: 0.3 }, 0);
    for (let i = 0; i < 4; i++) assert.ok(bucket.take(0));
    assert.equal(bucket.take(3_000), false, '0.9 tokens after 3 s is not a whole token');
    assert.ok(Math.abs(bucket.available(3_000) - 0.9) < 1e-9);
    assert.equal(bucket.take(3_400), true, '1.02 tokens after 3.4 s');
    assert.equal(bucket.available(1_000_000), 4, 'never above capacity');
  });

  test('a clock stepping back neither mints tokens nor stalls the bucket', () => {
    const bucket = new TokenBucket({ capacity: 1, refillRate: 1 }, 10_000);
    assert.ok(bucket.take(10_000));
    assert.equal(bucket.take(5_000), false);
    assert.equal(bucket.take(5_500), false);
    assert.equal(bucket.take(6_000), true, 'refills from the last reading, one second later');
  });
});

describe('categories (AWS "Request throttling for the Amazon EC2 API")', () => {
  test('each action falls in its documented category', () => {
    const expected: Record<string, string> = {
      DescribeVpcs: 'nonMutating',
      DescribeSubnets: 'nonMutating',
      DescribeInstanceTypes: 'nonMutating',
      GetConsoleOutput: 'nonMutating',
      CreateVpc: 'mutating',
      AttachNetworkInterface: 'mutating',
      AssociateAddress: 'mutating',
      StopInstances: 'mutating',
      AuthorizeSecurityGroupIngress: 'resourceIntensive',
      RevokeSecurityGroupIngress: 'resourceIntensive',
      CreateKeyPair: 'resourceIntensive',
      AuthorizeSecurityGroupEgress: 'mutating',
      CreateNetworkInterface: 'networkInterface',
      DeleteNetworkInterface: 'networkInterface',
      ModifyNetworkInterfaceAttribute: 'networkInterface',
      AssignPrivateIpAddresses: 'networkInterface',
      UnassignPrivateIpAddresses: 'networkInterface',
      AssignIpv6Addresses: 'networkInterface',
      UnassignIpv6Addresses: 'mutating',
      CreateTags: 'tags',
      DeleteTags: 'tags',
      RunInstances: 'runInstances',
      StartInstances: 'runInstances',
      TerminateInstances: 'terminateInstances',
    };
    for (const [action, category] of Object.entries(expected)) {
      assert.equal(throttleCategory(action, [['Filter.1.Name', 'x']]), category, action);
    }
  });

  test('DescribeInstances, DescribeInstanceStatus, DescribeNetworkInterfaces and DescribeSecurityGroups listing everything use the smaller bucket', () => {
    for (const action of ['DescribeInstances', 'DescribeInstanceStatus', 'DescribeNetworkInterfaces', 'DescribeSecurityGroups']) {
      assert.equal(throttleCategory(action, [['Action', action], ['Version', '2016-11-15'], ['DryRun', 'false']]), 'unfilteredNonMutating', action);
      for (const narrowing of ['Filter.1.Name', 'MaxResults', 'NextToken', 'InstanceId.1', 'NetworkInterfaceId.1', 'GroupId.1', 'GroupName.1']) {
        assert.equal(throttleCategory(action, [[narrowing, 'x']]), 'nonMutating', `${action} with ${narrowing}`);
      }
    }
    assert.equal(throttleCategory('DescribeVpcs', []), 'nonMutating', 'other Describe actions have no such bucket');
  });

  test('the AWS figures', () => {
    assert.deepEqual(AWS_REQUEST_BUCKETS, {
      nonMutating: { capacity: 100, refillRate: 20 },
      unfilteredNonMutating: { capacity: 50, refillRate: 10 },
      mutating: { capacity: 50, refillRate: 5 },
      resourceIntensive: { capacity: 50, refillRate: 5 },
      networkInterface: { capacity: 100, refillRate: 5 },
      tags: { capacity: 100, refillRate: 10 },
      runInstances: { capacity: 5, refillRate: 2 },
      terminateInstances: { capacity: 100, refillRate: 5 },
    });
  });
});

describe('the request throttle', () => {
  test('a non-mutating action gets 100 at once, then 20 a second', () => {
    const t = clocked();
    assert.equal(t.burst(150), 100);
    t.advance(1_000);
    assert.equal(t.burst(50), 20);
    t.advance(250);
    assert.equal(t.burst(50), 5);
  });

  test('RunInstances gets 5 at once, then 2 a second', () => {
    const t = clocked();
    const run = { account: '111111111111', region: 'us-east-1', action: 'RunInstances' };
    assert.equal(t.burst(10, run), 5);
    t.advance(1_000);
    assert.equal(t.burst(10, run), 2);
  });

  test('every action has its own bucket, in every account and every region', () => {
    const t = clocked({ categories: { nonMutating: { capacity: 2, refillRate: 1 } } });
    const call = { account: '111111111111', region: 'us-east-1', action: 'DescribeVpcs' };
    assert.equal(t.burst(5, call), 2);
    assert.equal(t.burst(5, { ...call, action: 'DescribeSubnets' }), 2);
    assert.equal(t.burst(5, { ...call, account: '222222222222' }), 2);
    assert.equal(t.burst(5, { ...call, region: 'eu-west-1' }), 2);
    assert.equal(t.burst(5, call), 0);
  });

  test('an unfiltered listing draws from its own, smaller bucket', () => {
    const t = clocked();
    const call = { account: '111111111111', region: 'us-east-1', action: 'DescribeNetworkInterfaces' };
    assert.equal(t.burst(80, { ...call, params: [] }), 50);
    assert.equal(t.burst(120, { ...call, params: [['Filter.1.Name', 'vpc-id']] }), 100);
  });

  test('an action override wins over its category', () => {
    const t = clocked({ categories: { nonMutating: { capacity: 7, refillRate: 1 } }, actions: { DescribeVpcs: { capacity: 2, refillRate: 20 } } });
    assert.equal(t.burst(5), 2);
    t.advance(50);
    assert.equal(t.burst(5), 1);
    assert.equal(t.burst(9, { account: '111111111111', region: 'us-east-1', action: 'DescribeSubnets' }), 7);
  });
});

describe('throttle configuration', () => {
  test('categories and actions with capacity and refill rate', () => {
    const config = { categories: { mutating: { capacity: 10, refillRate: 0.5 } }, actions: { DescribeVpcs: { capacity: 2, refillRate: 20 } } };
    assert.deepEqual(throttleConfig(config, 'file.json'), config);
    assert.deepEqual(throttleConfig({}, 'file.json'), {});
  });

  test('anything else is refused with the place of the mistake', () => {
    const bad: [unknown, RegExp][] = [
      [[], /expected an object/],
      [{ buckets: {} }, /unknown field "buckets"/],
      [{ categories: { slow: { capacity: 1, refillRate: 1 } } }, /unknown category "slow"/],
      [{ categories: { mutating: { capacity: 0, refillRate: 1 } } }, /categories\.mutating: capacity/],
      [{ actions: { DescribeVpcs: { capacity: 2 } } }, /actions\.DescribeVpcs: refillRate/],
      [{ actions: { DescribeVpcs: { capacity: 2, refillRate: 0 } } }, /refillRate/],
      [{ actions: { DescribeVpcs: { capacity: 2, refillRate: 1, burst: 3 } } }, /unknown field "burst"/],
      [{ actions: { 'describe-vpcs': { capacity: 2, refillRate: 1 } } }, /not an action name/],
    ];
    for (const [value, message] of bad) assert.throws(() => throttleConfig(value, 'file.json'), message);
  });
});
