/**
 * EC2's request throttling (AWS: "Request throttling for the Amazon EC2 API"; reference §9):
 * every account has, in every region, one token bucket per API action. A request takes one
 * token; a bucket refills continuously at its rate (a float, tokens per second) up to its
 * capacity; a request that finds its bucket empty is refused with RequestLimitExceeded before
 * the action runs. Bucket sizes depend on the action's category; both can be overridden.
 *
 * The per-instance *resource* buckets of RunInstances/StartInstances/StopInstances/
 * TerminateInstances are not modelled.
 */

export interface TokenBucketSettings {
  /** The most tokens the bucket holds (AWS: "bucket maximum capacity"); it starts full. */
  capacity: number;
  /** Tokens added per second (AWS: "bucket refill rate"); may be fractional. */
  refillRate: number;
}

export const THROTTLE_CATEGORIES = [
  'nonMutating',
  'unfilteredNonMutating',
  'mutating',
  'resourceIntensive',
  'networkInterface',
  'tags',
  'runInstances',
  'terminateInstances',
] as const;

export type ThrottleCategory = (typeof THROTTLE_CATEGORIES)[number];

/** The request-token buckets AWS documents, by category. */
export const AWS_REQUEST_BUCKETS: Readonly<Record<ThrottleCategory, Readonly<TokenBucketSettings>>> = {
  nonMutating: { capacity: 100, refillRate: 20 },
  unfilteredNonMutating: { capacity: 50, refillRate: 10 },
  mutating: { capacity: 50, refillRate: 5 },
  resourceIntensive: { capacity: 50, refillRate: 5 },
  networkInterface: { capacity: 100, refillRate: 5 },
  tags: { capacity: 100, refillRate: 10 },
  runInstances: { capacity: 5, refillRate: 2 },
  terminateInstances: { capacity: 100, refillRate: 5 },
};

/** Overrides on top of AWS's buckets: per category, and per action (which wins). */
export interface ThrottleConfig {
  categories?: Partial<Record<ThrottleCategory, TokenBucketSettings>>;
  actions?: Record<string, TokenBucketSettings>;
}

const RESOURCE_INTENSIVE = new Set([
  'AcceptVpcPeeringConnection',
  'AuthorizeSecurityGroupIngress',
  'CancelSpotInstanceRequests',
  'CreateKeyPair',
  'CreateVpcPeeringConnection',
  'DeleteVpcPeeringConnection',
  'RejectVpcPeeringConnection',
  'RevokeSecurityGroupIngress',
  'RequestSpotInstances',
]);

const NETWORK_INTERFACE = new Set([
  'CreateNetworkInterface',
  'DeleteNetworkInterface',
  'ModifyNetworkInterfaceAttribute',
  'AssignPrivateIpAddresses',
  'UnassignPrivateIpAddresses',
  'AssignIpv6Addresses',
]);

/** AWS: these draw from a smaller bucket when called with neither filters nor pagination. */
const LISTING_EVERYTHING = new Set([
  'DescribeInstances',
  'DescribeInstanceStatus',
  'DescribeNetworkInterfaces',
  'DescribeSecurityGroups',
  'DescribeSnapshots',
  'DescribeSpotInstanceRequests',
  'DescribeVolumes',
]);

/**
 * Parameters that narrow a listing: filters, pagination, and explicit ids or names (a call that
 * names its resources does not list everything). Anything else (DryRun, IncludeAllInstances…)
 * leaves the call "unfiltered and unpaginated".
 */
const NARROWING = /^(Filter\.|MaxResults$|NextToken$|[A-Za-z]*Id\.\d|GroupName\.\d)/;

const NON_MUTATING = /^(Describe|Get|List|Search)/;

/** The bucket category of one call, given its Query parameters. */
export function throttleCategory(action: string, params: Iterable<readonly [string, string]> = []): ThrottleCategory {
  if (RESOURCE_INTENSIVE.has(action)) return 'resourceIntensive';
  if (NETWORK_INTERFACE.has(action)) return 'networkInterface';
  if (action === 'CreateTags' || action === 'DeleteTags') return 'tags';
  if (action === 'RunInstances' || action === 'StartInstances') return 'runInstances';
  if (action === 'TerminateInstances') return 'terminateInstances';
  if (!NON_MUTATING.test(action)) return 'mutating';
  if (LISTING_EVERYTHING.has(action) && ![...params].some(([name]) => NARROWING.test(name))) return 'unfilteredNonMutating';
  return 'nonMutating';
}

/** One token bucket. Time is passed in (ms, any monotonic origin), so tests need no sleeps. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly settings: Readonly<TokenBucketSettings>,
    now: number,
  ) {
    this.tokens = settings.capacity;
    this.updatedAt = now;
  }

  /** Tokens available at `now` (fractional while refilling). */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** Takes one token if there is one; false (and nothing taken) if the bucket is empty. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(now: number) {
    // A clock that steps back must not mint tokens, nor leave the bucket stuck in the future.
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.tokens = Math.min(this.settings.capacity, this.tokens + elapsed * this.settings.refillRate);
    this.updatedAt = now;
  }
}

export interface ThrottledCall {
  account: string;
  region: string;
  action: string;
  /** The call's Query parameters (to tell an unfiltered listing). */
  params?: Iterable<readonly [string, string]>;
}

/** Token buckets kept elsewhere, shared by several server processes (a shared store's). */
export interface SharedTokenBuckets {
  take(key: string, capacity: number, refillRate: number): Promise<boolean>;
}

/**
 * Every account's and region's buckets, created on first use: in this process, or in `shared`
 * buckets (the PostgreSQL store's) that every node of one database draws from.
 */
export class RequestThrottle {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly categories: Record<ThrottleCategory, TokenBucketSettings>;
  private readonly actions: ReadonlyMap<string, TokenBucketSettings>;

  constructor(
    config: ThrottleConfig = {},
    private readonly clock: () => number = () => performance.now(),
    private readonly shared?: SharedTokenBuckets,
  ) {
    this.categories = { ...AWS_REQUEST_BUCKETS, ...config.categories };
    this.actions = new Map(Object.entries(config.actions ?? {}));
  }

  /** The bucket settings a call draws from, and the key of its bucket within the account and region. */
  bucketFor(action: string, params?: Iterable<readonly [string, string]>): { key: string; settings: TokenBucketSettings } {
    const own = this.actions.get(action);
    if (own) return { key: action, settings: own };
    const category = throttleCategory(action, params);
    return { key: category === 'unfilteredNonMutating' ? `${action} (unfiltered)` : action, settings: this.categories[category] };
  }

  /** Takes a token for the call; false when its bucket is empty (the call must be refused). */
  admit(call: ThrottledCall): boolean | Promise<boolean> {
    const { key, settings } = this.bucketFor(call.action, call.params);
    const id = `${call.account}\u0000${call.region}\u0000${key}`;
    // PostgreSQL keeps no NUL in text: the shared key separates with '/' (no account, region or bucket key holds one).
    if (this.shared) return this.shared.take(`${call.account}/${call.region}/${key}`, settings.capacity, settings.refillRate);
    const now = this.clock();
    let bucket = this.buckets.get(id);
    if (!bucket) {
      bucket = new TokenBucket(settings, now);
      this.buckets.set(id, bucket);
    }
    return bucket.take(now);
  }
}

/** Validates a throttle configuration (a `--throttle-config` file or the library object). */
export function throttleConfig(value: unknown, source: string): ThrottleConfig {
  if (!isObject(value)) throw new Error(`${source}: expected an object with "categories" and/or "actions"`);
  for (const key of Object.keys(value)) {
    if (key !== 'categories' && key !== 'actions') throw new Error(`${source}: unknown field "${key}" (expected "categories" or "actions")`);
  }
  const out: ThrottleConfig = {};
  if (value.categories !== undefined) {
    if (!isObject(value.categories)) throw new Error(`${source}: "categories" must be an object`);
    const categories: Partial<Record<ThrottleCategory, TokenBucketSettings>> = {};
    for (const [name, settings] of Object.entries(value.categories)) {
      if (!(THROTTLE_CATEGORIES as readonly string[]).includes(name)) {
        throw new Error(`${source}: unknown category "${name}" (one of ${THROTTLE_CATEGORIES.join(', ')})`);
      }
      categories[name as ThrottleCategory] = bucketSettings(settings, `${source}: categories.${name}`);
    }
    out.categories = categories;
  }
  if (value.actions !== undefined) {
    if (!isObject(value.actions)) throw new Error(`${source}: "actions" must be an object`);
    const actions: Record<string, TokenBucketSettings> = {};
    for (const [name, settings] of Object.entries(value.actions)) {
      if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) throw new Error(`${source}: "${name}" is not an action name`);
      actions[name] = bucketSettings(settings, `${source}: actions.${name}`);
    }
    out.actions = actions;
  }
  return out;
}

function bucketSettings(value: unknown, where: string): TokenBucketSettings {
  if (!isObject(value)) throw new Error(`${where} must be {"capacity": N, "refillRate": R}`);
  for (const key of Object.keys(value)) {
    if (key !== 'capacity' && key !== 'refillRate') throw new Error(`${where}: unknown field "${key}"`);
  }
  const { capacity, refillRate } = value;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1) throw new Error(`${where}: capacity must be a whole number ≥ 1`);
  if (typeof refillRate !== 'number' || !Number.isFinite(refillRate) || refillRate <= 0) {
    throw new Error(`${where}: refillRate must be a number of tokens per second > 0`);
  }
  return { capacity, refillRate };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
