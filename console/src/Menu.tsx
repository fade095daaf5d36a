/**
 * The menus of cards, instances and subnets: a popover list of actions, driven by the keyboard as
 * well as the mouse (arrows, Home/End, Enter, Escape), with "Move to…" / "Attach to…" as a second
 * view listing the instances.
 */
import { useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useActions, type MenuTarget } from './actions';
import { copyText } from './api';
import { movableTargets, nameOf, type TopologyIndex } from './model';

interface Item {
  label: string;
  hint?: string;
  run?: () => void;
  /** Keeps the menu open (switching views). */
  stay?: boolean;
  disabled?: boolean;
  testId?: string;
}

export function Menu({ target, anchor, index, onClose }: { target: MenuTarget; anchor: HTMLElement; index: TopologyIndex; onClose: () => void }) {
  const actions = useActions();
  const [view, setView] = useState<string>(('view' in target && target.view) || 'main');
  const ref = useRef<HTMLDivElement>(null);
  const [position, setPosition] = useState<{ left: number; top: number }>({ left: 0, top: 0 });

  const close = (refocus = true) => {
    onClose();
    if (refocus && anchor.isConnected) anchor.focus();
  };

  let title = '';
  let items: Item[] = [];
  if (target.kind === 'network-interface') {
    const eni = index.interfaces.get(target.id);
    if (!eni) {
      items = [{ label: 'This interface no longer exists', disabled: true }];
    } else if (view === 'move') {
      const holder = eni.Attachment?.InstanceId;
      title = `${holder ? 'Move' : 'Attach'} ${target.id} to…`;
      const zone = index.subnets.get(eni.SubnetId ?? '')?.AvailabilityZone ?? eni.AvailabilityZone;
      items = movableTargets(index)
        .filter((i) => i.InstanceId !== holder)
        .map((i) => {
          const count = index.interfacesByInstance.get(i.InstanceId!)?.length ?? 0;
          const limit = index.topology.instanceTypes[i.InstanceType ?? '']?.maximumNetworkInterfaces ?? '?';
          const otherZone = i.Placement?.AvailabilityZone !== zone;
          return {
            label: `${nameOf(i) ? `${nameOf(i)} ` : ''}${i.InstanceId}`,
            hint: `${i.Placement?.AvailabilityZone} · ${i.InstanceType} · ${count}/${limit} ENIs${otherZone ? ' · other AZ' : ''}`,
            run: () => actions.move(target.id, i.InstanceId!),
            testId: `move-to-${i.InstanceId}`,
          };
        });
      if (!items.length) items = [{ label: 'No other instance', disabled: true }];
      items.push({ label: '← Back', run: () => setView('main'), stay: true });
    } else {
      title = target.id;
      const attached = Boolean(eni.Attachment);
      const primaryAddress = eni.PrivateIpAddress ?? eni.PrivateIpAddresses?.[0]?.PrivateIpAddress;
      items = [
        { label: 'Details', run: () => actions.select({ kind: 'network-interface', id: target.id }) },
        attached
          ? { label: 'Move to…', run: () => setView('move'), stay: true, testId: 'menu-move' }
          : { label: 'Attach to…', run: () => setView('move'), stay: true, testId: 'menu-attach' },
        attached ? { label: 'Detach', run: () => actions.detach(target.id), testId: 'menu-detach' } : { label: 'Delete…', run: () => actions.openDialog({ kind: 'delete-interface', eniId: target.id }), testId: 'menu-delete' },
        { label: 'Associate Elastic IP…', run: () => actions.openDialog({ kind: 'elastic-ip', eniId: target.id }), testId: 'menu-eip' },
        ...(eni.PrivateIpAddresses ?? [])
          .filter((p) => p.Association?.AssociationId)
          .map((p) => ({ label: `Disassociate ${p.Association!.PublicIp}`, run: () => actions.disassociateElasticIp(target.id, p.Association!.AssociationId!) })),
        { label: 'Edit security groups…', run: () => actions.openDialog({ kind: 'security-groups', eniId: target.id }), testId: 'menu-groups' },
        { label: 'Trace traffic from here', run: () => actions.traceFrom(target.id) },
        ...(primaryAddress ? [{ label: `Trace traffic to ${primaryAddress}`, run: () => actions.traceTo(primaryAddress) }] : []),
        { label: 'Copy ID', run: () => void copyText(target.id) },
      ];
    }
  } else if (target.kind === 'instance') {
    const instance = index.instances.get(target.id);
    const impaired = index.health.get(target.id) === 'impaired';
    if (view === 'attach') {
      title = `Attach to ${target.id}…`;
      const zone = instance?.Placement?.AvailabilityZone;
      const available = [...index.interfaces.values()].filter((n) => !n.Attachment);
      items = available
        .sort((a, b) => Number(a.AvailabilityZone !== zone) - Number(b.AvailabilityZone !== zone))
        .map((n) => ({
          label: n.NetworkInterfaceId!,
          hint: `${n.PrivateIpAddress} · ${n.AvailabilityZone}${n.AvailabilityZone !== zone ? ' · other AZ' : ''}${n.Description ? ` · ${n.Description}` : ''}`,
          run: () => actions.move(n.NetworkInterfaceId!, target.id),
        }));
      if (!items.length) items = [{ label: 'No available interface', disabled: true }];
      items.push({ label: '← Back', run: () => setView('main'), stay: true });
    } else {
      title = target.id;
      items = [
        { label: 'Details', run: () => actions.select({ kind: 'instance', id: target.id }) },
        impaired
          ? { label: 'Recover instance', run: () => actions.failInstance(target.id, 'recover'), testId: 'menu-recover' }
          : { label: 'Fail instance (fault injection)', run: () => actions.failInstance(target.id, 'fail'), testId: 'menu-fail' },
        { label: 'Attach an interface…', run: () => setView('attach'), stay: true },
        { label: 'Trace traffic from here', run: () => actions.traceFrom(target.id) },
        { label: 'Copy ID', run: () => void copyText(target.id) },
      ];
      if (!instance) items = [{ label: 'This instance no longer exists', disabled: true }];
    }
  } else {
    title = target.id;
    items = [
      { label: 'Details', run: () => actions.select({ kind: 'subnet', id: target.id }) },
      { label: 'Create network interface…', run: () => actions.openDialog({ kind: 'create-interface', subnetId: target.id }), testId: 'menu-create-eni' },
      { label: 'Copy ID', run: () => void copyText(target.id) },
    ];
  }

  useLayoutEffect(() => {
    const rect = anchor.getBoundingClientRect();
    const menu = ref.current;
    const width = menu?.offsetWidth ?? 260;
    const height = menu?.offsetHeight ?? 200;
    setPosition({
      left: Math.max(4, Math.min(rect.left, window.innerWidth - width - 8)),
      top: rect.bottom + height + 4 > window.innerHeight ? Math.max(4, rect.top - height - 4) : rect.bottom + 4,
    });
  }, [anchor, view]);

  useEffect(() => {
    ref.current?.querySelector<HTMLButtonElement>('[role=menuitem]:not([disabled])')?.focus();
  }, [view]);

  useEffect(() => {
    const outside = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node) && !anchor.contains(e.target as Node)) close(false);
    };
    document.addEventListener('mousedown', outside);
    return () => document.removeEventListener('mousedown', outside);
  });

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const buttons = [...(ref.current?.querySelectorAll<HTMLButtonElement>('[role=menuitem]:not([disabled])') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const focus = (i: number) => buttons[(i + buttons.length) % buttons.length]?.focus();
    if (e.key === 'ArrowDown') focus(at + 1);
    else if (e.key === 'ArrowUp') focus(at - 1);
    else if (e.key === 'Home') focus(0);
    else if (e.key === 'End') focus(buttons.length - 1);
    else if (e.key === 'Escape' || (e.key === 'ArrowLeft' && view !== 'main')) {
      if (view !== 'main' && e.key === 'ArrowLeft') setView('main');
      else close();
    } else if (e.key === 'Tab') close(false);
    else return;
    e.preventDefault();
    e.stopPropagation();
  };

  return (
    <div className="menu" ref={ref} role="menu" aria-label={title} style={{ left: position.left, top: position.top }} onKeyDown={onKeyDown}>
      {title && <div className="menu-title">{title}</div>}
      {items.map((item, i) => (
        <button
          key={`${view}-${i}`}
          type="button"
          role="menuitem"
          disabled={item.disabled}
          data-testid={item.testId}
          onClick={() => {
            item.run?.();
            if (!item.stay) close(false);
          }}
        >
          <span className="label">{item.label}</span>
          {item.hint && <span className="hint">{item.hint}</span>}
        </button>
      ))}
    </div>
  );
}
