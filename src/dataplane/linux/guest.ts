/**
 * `--guest-network ec2-net-utils`: each instance runs the real thing Amazon Linux 2023 runs to
 * configure its network — systemd-networkd (DHCP from the VPC's DHCP server) and Amazon's
 * amazon-ec2-net-utils (policy routing for every interface, from the metadata service) — in its own
 * network namespace and a private mount namespace: its own `/run` (networkd's state, runtime
 * `.network` files, the D-Bus socket that `networkctl reload` uses), `/sys` read-only as in a
 * container (networkd then does not wait for udev), and an image's `/usr/lib/systemd/network`
 * whose `80-ec2.network` also matches the plane's NIC driver (`veth`, where AWS has `ena`).
 * The plane plays udev and systemd: when a device arrives or leaves, it runs what
 * `policy-routes@.service` runs, and the `refresh-policy-routes@.timer` schedule.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { runCommand } from './kernel.ts';

/** The guest's init process carries this name in its command line (`exec` finds the guest by it). */
export const GUEST_INIT = 'eni-local-guest';

const NET_UTILS = '/usr/bin/setup-policy-routes';
const NETWORKD = '/lib/systemd/systemd-networkd';

/** What the guest needs on the host: Debian's amazon-ec2-net-utils, systemd-networkd and dbus-daemon. */
export function missingGuestCommands(): string[] {
  const programs = [
    [NET_UTILS, 'amazon-ec2-net-utils'],
    [NETWORKD, 'systemd'],
    ['/usr/bin/dbus-daemon', 'dbus-daemon'],
    ['/usr/bin/nsenter', 'util-linux'],
  ] as const;
  return programs.filter(([path]) => !executable(path)).map(([path, pkg]) => `${path} (Debian: ${pkg})`);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The guest's boot: a private /run, /sys read-only, the image's network configuration, the
 * system bus, then networkd; its logs go to /run/eni-local/guest.log inside the guest.
 */
const BOOT = String.raw`
set -e
mount --make-rprivate /
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/eni-local/image-network /run/eni-local/etc-network /run/dbus /run/systemd/network
exec >>/run/eni-local/guest.log 2>&1
mount -o remount,bind,ro /sys
cp -a /usr/lib/systemd/network/. /run/eni-local/image-network/
sed -i -E 's/^(Driver=.*\bena\b.*)$/\1 veth/' /run/eni-local/image-network/80-ec2.network
mount --bind /run/eni-local/image-network /usr/lib/systemd/network
mount --bind /run/eni-local/etc-network /etc/systemd/network
dbus-daemon --system --nofork --nopidfile --nosyslog &
for i in $(seq 100); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.05; done
SYSTEMD_LOG_TARGET=console ${NETWORKD} &
wait
`;

/** The pid of a namespace's guest init, if one runs there. */
export async function guestPid(namespace: string): Promise<number | undefined> {
  const pids = await runCommand('ip', ['netns', 'pids', namespace]);
  for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes(GUEST_INIT)) return Number(pid);
    } catch {
      // gone
    }
  }
  return undefined;
}

/** The command line that runs `command` inside the guest: its network and its mount namespace. */
export function inGuest(pid: number, command: readonly string[]): string[] {
  return ['nsenter', `--target=${pid}`, '--mount', '--net', '--', ...command];
}

export interface GuestLog {
  warn(detail: object, message: string): void;
}

const REFRESH_FIRST_MS = 30_000;
const REFRESH_EVERY_MS = 60_000;
const REFRESH_JITTER_MS = 5_000;

/** The ec2-net-utils guests of one plane: boots them, and plays udev and systemd for their devices. */
export class Ec2NetUtilsGuests {
  private readonly pids = new Map<string, number>();
  /** One queue per guest: its hooks run one after another, as systemd runs a unit's jobs. */
  private readonly queues = new Map<string, Promise<void>>();
  /** Per guest, its devices with their refresh timers. */
  private readonly devices = new Map<string, Map<string, NodeJS.Timeout>>();
  private stopped = false;

  constructor(private readonly log: GuestLog) {}

  /** Boots the guest of an instance namespace (or, unless the namespace is `fresh`, finds the one a previous process booted). */
  async boot(namespace: string, fresh = false): Promise<void> {
    if (this.pids.has(namespace)) return;
    const existing = fresh ? undefined : await guestPid(namespace);
    if (existing) {
      this.pids.set(namespace, existing);
      return;
    }
    const child = spawn('ip', ['netns', 'exec', namespace, 'unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', BOOT, GUEST_INIT], {
      stdio: 'ignore',
      detached: true,
    });
    child.unref();
    child.on('error', (error) => this.log.warn({ namespace, error: error.message }, 'the guest did not boot'));
    // `ip netns exec` and `unshare` exec the shell: the child's pid is the guest init's.
    if (child.pid) this.pids.set(namespace, child.pid);
  }

  /** A device arrived in the guest (udev `add`): `policy-routes@DEVICE.service` starts, and its refresh timer. */
  plug(namespace: string, device: string): void {
    const devices = this.devices.get(namespace) ?? new Map<string, NodeJS.Timeout>();
    this.devices.set(namespace, devices);
    clearTimeout(devices.get(device));
    this.enqueue(namespace, device, ['start', 'cleanup'], { EC2_IF_INITIAL_SETUP: 'true' });
    const refresh = (delay: number) => {
      const timer = setTimeout(() => {
        this.enqueue(namespace, device, ['start', 'cleanup'], {}).then(() => {
          if (devices.get(device) === timer && !this.stopped) refresh(REFRESH_EVERY_MS + Math.random() * REFRESH_JITTER_MS);
        });
      }, delay);
      timer.unref();
      devices.set(device, timer);
    };
    refresh(REFRESH_FIRST_MS + Math.random() * REFRESH_JITTER_MS);
  }

  /** A device left the guest (udev `remove`): the unit stops, and its timer. */
  unplug(namespace: string, device: string): void {
    const devices = this.devices.get(namespace);
    if (!devices?.has(device)) return;
    clearTimeout(devices.get(device));
    devices.delete(device);
    this.enqueue(namespace, device, ['stop', 'cleanup'], {});
  }

  /** Whether the guest has a device (was plugged and not unplugged since). */
  has(namespace: string, device: string): boolean {
    return this.devices.get(namespace)?.has(device) ?? false;
  }

  /** Every plugged device, as `NAMESPACE DEVICE`. */
  devicesPlugged(): string[] {
    return [...this.devices].flatMap(([namespace, devices]) => [...devices.keys()].map((device) => `${namespace} ${device}`));
  }

  /** The namespace is going away: its processes end with it. */
  forget(namespace: string): void {
    for (const timer of this.devices.get(namespace)?.values() ?? []) clearTimeout(timer);
    this.devices.delete(namespace);
    this.pids.delete(namespace);
    this.queues.delete(namespace);
  }

  stop(): void {
    this.stopped = true;
    for (const namespace of [...this.devices.keys()]) this.forget(namespace);
  }

  private enqueue(namespace: string, device: string, verbs: string[], env: Record<string, string>): Promise<void> {
    const previous = this.queues.get(namespace) ?? Promise.resolve();
    const next = previous.then(async () => {
      const pid = this.pids.get(namespace);
      if (!pid || this.stopped) return;
      for (const verb of verbs) {
        const result = await runCommand('env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...inGuest(pid, [NET_UTILS, device, verb])]);
        if (result.code !== 0) this.log.warn({ namespace, device, verb, code: result.code, stderr: result.stderr.trim() }, 'ec2-net-utils failed in the guest');
      }
    });
    this.queues.set(namespace, next);
    return next;
  }
}
