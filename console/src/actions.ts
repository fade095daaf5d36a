/**
 * What a component can ask the console to do. One stable object (React context), so that the
 * memoised cards of a large picture do not re-render when the console's state changes.
 */
import { createContext, useContext } from 'react';
import type { ApiFailure } from './api';
import type { MovePhase } from './operations';
import type { Selection } from './model';

export type MenuTarget =
  | { kind: 'network-interface'; id: string; view?: 'main' | 'move' }
  | { kind: 'instance'; id: string; view?: 'main' | 'attach' }
  | { kind: 'subnet'; id: string };

export type DialogState =
  | { kind: 'credentials'; reason?: string }
  | { kind: 'create-interface'; subnetId: string }
  | { kind: 'security-groups'; eniId: string }
  | { kind: 'elastic-ip'; eniId: string }
  | { kind: 'delete-interface'; eniId: string };

/** What a card or box shows about an operation in progress or refused. */
export interface Notice {
  phase?: MovePhase | 'working' | 'done';
  text?: string;
  error?: ApiFailure;
}

export interface ConsoleActions {
  select(selection: Selection | null): void;
  openMenu(target: MenuTarget, anchor: HTMLElement): void;
  openDialog(dialog: DialogState): void;
  move(eniId: string, instanceId: string): void;
  detach(eniId: string): void;
  failInstance(instanceId: string, action: 'fail' | 'recover'): void;
  disassociateElasticIp(eniId: string, associationId: string): void;
  toggleCollapsed(id: string): void;
  dismissNotice(id: string): void;
  startDrag(eniId: string): void;
  endDrag(): void;
  traceFrom(source: string): void;
  traceTo(address: string): void;
}

export const ActionsContext = createContext<ConsoleActions | null>(null);

export function useActions(): ConsoleActions {
  const actions = useContext(ActionsContext);
  if (!actions) throw new Error('useActions outside the console');
  return actions;
}
