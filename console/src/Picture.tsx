/**
 * The topology as a picture: each VPC a box, its Availability Zones as columns, subnets in them,
 * instances in subnets with their interfaces as cards (device index order), and each subnet's
 * available interfaces in its tray. Cards are memoised: a refetch re-renders only what changed.
 */
import { memo, useState, type DragEvent, type KeyboardEvent } from 'react';
import type { Instance, NetworkInterface, Subnet, Vpc } from '@aws-sdk/client-ec2';
import { useActions, type Notice } from './actions';
import { interfaceMatches, nameOf, zonesOf, type Selection, type TopologyIndex } from './model';

export const DRAG_TYPE = 'application/x-eni-id';

export interface PathMarks {
  source?: string;
  destination?: string;
  /** Components the path crosses between the two, in order (internet gateways). */
  via?: string[];
  delivered?: boolean;
}

export interface PictureProps {
  index: TopologyIndex;
  selection: Selection | null;
  notices: Record<string, Notice>;
  collapsed: ReadonlySet<string>;
  query: string;
  dragging: { eniId: string; zone?: string } | null;
  marks: PathMarks;
}

const isSelected = (selection: Selection | null, kind: Selection['kind'], id: string) =>
  selection !== null && selection.kind === kind && 'id' in selection && selection.id === id;

export function Picture(props: PictureProps) {
  const { index } = props;
  const actions = useActions();
  const vpcs = [...index.vpcs.values()].sort((a, b) => Number(b.IsDefault ?? false) - Number(a.IsDefault ?? false) || (nameOf(a) ?? a.VpcId!).localeCompare(nameOf(b) ?? b.VpcId!));
  const internetMark = props.marks.source === 'internet' ? 'source' : props.marks.destination === 'internet' ? 'destination' : undefined;
  return (
    <div className="picture">
      <button
        type="button"
        className={`internet-node${internetMark ? ` path-${internetMark === 'source' ? 'start' : 'end'}` : ''}`}
        data-node="internet"
        onClick={() => actions.select({ kind: 'internet' })}
        title="The internet: a traffic source, reached through internet gateways"
      >
        Internet
      </button>
      {vpcs.length === 0 && (
        <p className="empty">
          No VPCs in {index.topology.region} for {index.topology.account ? `account ${index.topology.account}` : 'these credentials'} yet.
        </p>
      )}
      {vpcs.map((vpc) => (
        <VpcBox key={vpc.VpcId} vpc={vpc} {...props} />
      ))}
    </div>
  );
}

function CollapseButton({ id, collapsed, label }: { id: string; collapsed: boolean; label: string }) {
  const actions = useActions();
  return (
    <button type="button" className="collapse" aria-expanded={!collapsed} aria-label={`${collapsed ? 'Expand' : 'Collapse'} ${label}`} onClick={() => actions.toggleCollapsed(id)}>
      {collapsed ? '▸' : '▾'}
    </button>
  );
}

function VpcBox({ vpc, ...props }: PictureProps & { vpc: Vpc }) {
  const { index, collapsed } = props;
  const actions = useActions();
  const id = vpc.VpcId!;
  const isCollapsed = collapsed.has(id);
  const subnets = index.subnetsByVpc.get(id) ?? [];
  const gateways = index.gatewaysByVpc.get(id) ?? [];
  const counts = countOf(index, subnets);
  return (
    <section className={`vpc${isSelected(props.selection, 'vpc', id) ? ' selected' : ''}`} data-vpc-id={id} aria-label={`VPC ${id}`}>
      <header className="vpc-head">
        <CollapseButton id={id} collapsed={isCollapsed} label={`VPC ${id}`} />
        <button type="button" className="title" onClick={() => actions.select({ kind: 'vpc', id })}>
          <strong>{nameOf(vpc) ?? (vpc.IsDefault ? 'default VPC' : 'VPC')}</strong> <code>{id}</code> <span className="cidr">{vpc.CidrBlock}</span>
        </button>
        {gateways.map((g) => (
          <span key={g.InternetGatewayId} className={`chip gateway${props.marks.via?.includes(g.InternetGatewayId!) ? ' path-via' : ''}`} data-igw-id={g.InternetGatewayId} title="Internet gateway attached">
            ⇅ {g.InternetGatewayId}
          </span>
        ))}
        <span className="summary">
          {plural(subnets.length, 'subnet')} · {plural(counts.instances, 'instance')} · {plural(counts.interfaces, 'interface')}
        </span>
      </header>
      {!isCollapsed && (
        <div className="zones">
          {zonesOf(index, id).map((zone) => (
            <div className="zone" key={zone} data-zone={zone}>
              <h3 className="zone-head">{zone}</h3>
              {subnets
                .filter((s) => s.AvailabilityZone === zone)
                .sort((a, b) => (a.CidrBlock ?? '').localeCompare(b.CidrBlock ?? '', undefined, { numeric: true }))
                .map((subnet) => (
                  <SubnetBox key={subnet.SubnetId} subnet={subnet} {...props} />
                ))}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

function countOf(index: TopologyIndex, subnets: Subnet[]) {
  let instances = 0;
  let interfaces = 0;
  for (const s of subnets) {
    const here = index.instancesBySubnet.get(s.SubnetId!) ?? [];
    instances += here.length;
    interfaces += (index.trayBySubnet.get(s.SubnetId!) ?? []).length;
    for (const i of here) interfaces += (index.interfacesByInstance.get(i.InstanceId!) ?? []).length;
  }
  return { instances, interfaces };
}

function SubnetBox({ subnet, ...props }: PictureProps & { subnet: Subnet }) {
  const { index, collapsed } = props;
  const actions = useActions();
  const id = subnet.SubnetId!;
  const isCollapsed = collapsed.has(id);
  const instances = index.instancesBySubnet.get(id) ?? [];
  const tray = index.trayBySubnet.get(id) ?? [];
  const counts = countOf(index, [subnet]);
  const notice = props.notices[id];
  return (
    <section className={`subnet${isSelected(props.selection, 'subnet', id) ? ' selected' : ''}`} data-subnet-id={id} aria-label={`Subnet ${id}`}>
      <header className="subnet-head">
        <CollapseButton id={id} collapsed={isCollapsed} label={`subnet ${id}`} />
        <button type="button" className="title" onClick={() => actions.select({ kind: 'subnet', id })}>
          <strong>{nameOf(subnet) ?? (subnet.DefaultForAz ? 'default subnet' : 'subnet')}</strong> <code>{id}</code> <span className="cidr">{subnet.CidrBlock}</span>
        </button>
        <span className="summary" title="AvailableIpAddressCount">
          {subnet.AvailableIpAddressCount} free
        </span>
        <button type="button" className="menu-button" aria-label={`Actions for subnet ${id}`} aria-haspopup="menu" onClick={(e) => actions.openMenu({ kind: 'subnet', id }, e.currentTarget)}>
          ⋯
        </button>
      </header>
      <NoticeLine id={id} notice={notice} />
      {isCollapsed ? (
        <p className="collapsed-summary">
          {plural(counts.instances, 'instance')} · {plural(counts.interfaces, 'interface')} ({tray.length} available)
        </p>
      ) : (
        <div className="subnet-body">
          {instances.map((instance) => (
            <InstanceBox key={instance.InstanceId} instance={instance} subnetId={id} {...props} />
          ))}
          {tray.length > 0 && (
            <div className="tray" aria-label={`Available interfaces of ${id}`}>
              <h4>Available interfaces</h4>
              <div className="cards">
                {tray.map((eni) => (
                  <CardOf key={eni.NetworkInterfaceId} eni={eni} {...props} />
                ))}
              </div>
            </div>
          )}
          {instances.length === 0 && tray.length === 0 && <p className="empty">empty</p>}
        </div>
      )}
    </section>
  );
}

function InstanceBox({ instance, subnetId, ...props }: PictureProps & { instance: Instance; subnetId: string }) {
  const { index, dragging } = props;
  const actions = useActions();
  const [over, setOver] = useState(false);
  const id = instance.InstanceId!;
  const interfaces = index.interfacesByInstance.get(id) ?? [];
  const health = index.health.get(id);
  const limit = index.topology.instanceTypes[instance.InstanceType ?? '']?.maximumNetworkInterfaces;
  const zone = instance.Placement?.AvailabilityZone;
  const otherZone = dragging?.zone !== undefined && zone !== dragging.zone;
  const state = instance.State?.Name ?? 'unknown';
  const notice = props.notices[id];
  const accepts = (e: DragEvent) => e.dataTransfer.types.includes(DRAG_TYPE);
  const mark = props.marks.destination && interfaces.some((n) => n.NetworkInterfaceId === props.marks.destination) ? ' path-end-instance' : '';
  const classes = [
    'instance',
    `state-${state}`,
    health === 'impaired' ? 'impaired' : '',
    isSelected(props.selection, 'instance', id) ? 'selected' : '',
    over ? (otherZone ? 'drop-over drop-warn' : 'drop-over') : dragging ? (otherZone ? 'drop-warn' : 'drop-ok') : '',
    props.marks.source === id ? 'path-start' : '',
  ]
    .filter(Boolean)
    .join(' ');
  return (
    <section
      className={classes + mark}
      // Room for up to three cards a row; more wrap.
      style={{ width: 16 + Math.min(3, Math.max(1, interfaces.length)) * 218 }}
      data-instance-id={id}
      aria-label={`Instance ${id}`}
      onDragOver={(e) => {
        if (!accepts(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'move';
        if (!over) setOver(true);
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={(e) => {
        setOver(false);
        const eniId = e.dataTransfer.getData(DRAG_TYPE);
        if (!eniId) return;
        e.preventDefault();
        actions.endDrag();
        actions.move(eniId, id);
      }}
    >
      <header className="instance-head">
        <div className="head-row">
          <button type="button" className="title" onClick={() => actions.select({ kind: 'instance', id })}>
            <strong>{nameOf(instance) ?? 'instance'}</strong> <code>{id}</code>
          </button>
          <button type="button" className="menu-button" aria-label={`Actions for instance ${id}`} aria-haspopup="menu" onClick={(e) => actions.openMenu({ kind: 'instance', id }, e.currentTarget)}>
            ⋯
          </button>
        </div>
        <div className="chips">
          <span className="chip">{instance.InstanceType}</span>
          <span className={`chip state ${state}`}>{state}</span>
          {health === 'impaired' && <span className="chip impaired-chip">impaired</span>}
          <span className="chip" title="interfaces attached / the instance type's maximum">
            {interfaces.length}/{limit ?? '?'} ENIs
          </span>
        </div>
      </header>
      {dragging && otherZone && <p className="drop-hint">other Availability Zone ({zone})</p>}
      <NoticeLine id={id} notice={notice} />
      <div className="cards">
        {interfaces.map((eni) => (
          <CardOf key={eni.NetworkInterfaceId} eni={eni} holderSubnetId={subnetId} {...props} />
        ))}
      </div>
    </section>
  );
}

/** Computes the card's plain props, so that the memoised card compares cheaply. */
function CardOf({ eni, holderSubnetId, ...props }: PictureProps & { eni: NetworkInterface; holderSubnetId?: string }) {
  const id = eni.NetworkInterfaceId!;
  const groups = (eni.Groups ?? []).map((g) => props.index.groupNames.get(g.GroupId ?? '') ?? g.GroupName ?? g.GroupId).join(', ');
  const mark = props.marks.destination === id ? 'destination' : props.marks.source === id ? 'source' : undefined;
  return (
    <EniCard
      eni={eni}
      groups={groups}
      otherSubnet={holderSubnetId !== undefined && eni.SubnetId !== holderSubnetId ? eni.SubnetId : undefined}
      selected={isSelected(props.selection, 'network-interface', id)}
      dimmed={!interfaceMatches(eni, props.query, props.index.groupNames)}
      notice={props.notices[id]}
      mark={mark}
      delivered={mark === 'destination' ? props.marks.delivered : undefined}
      dragged={props.dragging?.eniId === id}
    />
  );
}

interface EniCardProps {
  eni: NetworkInterface;
  groups: string;
  otherSubnet?: string;
  selected: boolean;
  dimmed: boolean;
  notice?: Notice;
  mark?: 'source' | 'destination';
  delivered?: boolean;
  dragged: boolean;
}

const PHASE_TEXT: Record<string, string> = {
  detaching: 'detaching…',
  waiting: 'waiting until available…',
  attaching: 'attaching…',
  attached: 'attached ✓',
  restoring: 'refused: putting it back…',
  working: 'working…',
  done: 'done ✓',
};

export const EniCard = memo(function EniCard({ eni, groups, otherSubnet, selected, dimmed, notice, mark, delivered, dragged }: EniCardProps) {
  const actions = useActions();
  const id = eni.NetworkInterfaceId!;
  const attachment = eni.Attachment;
  const primary = eni.PrivateIpAddresses?.find((p) => p.Primary) ?? eni.PrivateIpAddresses?.[0];
  const secondary = (eni.PrivateIpAddresses?.length ?? 1) - 1;
  const publics = (eni.PrivateIpAddresses ?? []).filter((p) => p.Association?.PublicIp);
  const status = attachment?.Status && attachment.Status !== 'attached' ? attachment.Status : eni.Status;
  const name = nameOf({ Tags: eni.TagSet });
  const classes = [
    'eni-card',
    `status-${status}`,
    selected ? 'selected' : '',
    dimmed ? 'dimmed' : '',
    mark === 'destination' ? `path-end ${delivered ? 'delivered' : 'dropped'}` : '',
    mark === 'source' ? 'path-start' : '',
    dragged ? 'dragged' : '',
    notice?.phase && notice.phase !== 'done' && notice.phase !== 'attached' ? 'busy' : '',
    notice?.error ? 'refused' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      actions.select({ kind: 'network-interface', id });
    } else if (e.key === 'm' || e.key === 'M') {
      e.preventDefault();
      actions.select({ kind: 'network-interface', id });
      actions.openMenu({ kind: 'network-interface', id, view: 'move' }, e.currentTarget);
    } else if (e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey)) {
      e.preventDefault();
      actions.openMenu({ kind: 'network-interface', id }, e.currentTarget);
    }
  };
  return (
    <div
      className={classes}
      data-eni-id={id}
      data-device-index={attachment?.DeviceIndex}
      role="group"
      aria-label={`Network interface ${id}${attachment ? ` at device index ${attachment.DeviceIndex} of ${attachment.InstanceId}` : ', available'}`}
      aria-keyshortcuts="Enter M Shift+F10"
      tabIndex={0}
      draggable
      onDragStart={(e) => {
        e.dataTransfer.setData(DRAG_TYPE, id);
        e.dataTransfer.setData('text/plain', id);
        e.dataTransfer.effectAllowed = 'move';
        actions.startDrag(id);
      }}
      onDragEnd={() => actions.endDrag()}
      onClick={(e) => {
        if ((e.target as HTMLElement).closest('button')) return;
        actions.select({ kind: 'network-interface', id });
      }}
      onKeyDown={onKeyDown}
    >
      <div className="eni-head">
        <span className="device" title="device index">{attachment ? `#${attachment.DeviceIndex}` : '—'}</span>
        <code className="eni-id">{id}</code>
        <button type="button" className="menu-button" aria-label={`Actions for ${id}`} aria-haspopup="menu" onClick={(e) => actions.openMenu({ kind: 'network-interface', id }, e.currentTarget)}>
          ⋯
        </button>
      </div>
      {name && <div className="eni-name">{name}</div>}
      <div className="eni-line addr" title="private IPv4 addresses">
        {primary?.PrivateIpAddress}
        {secondary > 0 && <span className="more"> +{secondary}</span>}
        {(eni.Ipv6Addresses?.length ?? 0) > 0 && <span className="more"> · {eni.Ipv6Addresses!.length} IPv6</span>}
      </div>
      {/* Each public address beside the private address it maps to (an EIP may be on a secondary one). */}
      {publics.map((p) => (
        <div key={p.PrivateIpAddress} className="eni-line public" data-private-address={p.PrivateIpAddress} title={`${p.Association?.AllocationId ? 'Elastic IP' : 'public IPv4'} of ${p.PrivateIpAddress}${p.Primary ? ' (primary)' : ' (secondary)'}`}>
          <span className="private">{p.PrivateIpAddress}</span> → {p.Association?.AllocationId ? 'EIP ' : 'public '}
          {p.Association?.PublicIp}
        </div>
      ))}
      <div className="eni-line groups" title="security groups">
        {groups}
      </div>
      <div className="eni-line mac" title="MAC address">
        {eni.MacAddress}
        {status !== 'in-use' && <span className={`status ${status}`}> {status}</span>}
      </div>
      {eni.Description && (
        <div className="eni-line desc" title="description">
          {eni.Description}
        </div>
      )}
      {otherSubnet && <div className="eni-line note">subnet {otherSubnet}</div>}
      <NoticeLine id={id} notice={notice} />
    </div>
  );
});

function NoticeLine({ id, notice }: { id: string; notice?: Notice }) {
  const actions = useActions();
  if (!notice) return null;
  if (notice.error) {
    return (
      <div className="notice error" role="alert" data-error-code={notice.error.code}>
        {notice.text && <div className="notice-what">{notice.text}</div>}
        <strong className="code">{notice.error.code}</strong> <span className="message">{notice.error.message}</span>
        <button type="button" className="dismiss" aria-label="Dismiss" onClick={() => actions.dismissNotice(id)}>
          ×
        </button>
      </div>
    );
  }
  return (
    <div className={`notice phase-${notice.phase}`} role="status" data-phase={notice.phase}>
      {notice.text ?? PHASE_TEXT[notice.phase ?? 'working']}
    </div>
  );
}
