import type { GroupMember, RelayClient, Role } from 'relay-client';
import { h } from './dom.js';

interface Props {
  groupId: number;
  members: GroupMember[];
  me: number;
  myRole: Role;
  client: RelayClient;
  hidden: boolean;
  onError(err: unknown): void;
  onChanged(): void;
}

/** The member list with roles; owners and admins get the actions their role allows (PROTOCOL.md v1.1). */
export function membersPanel(p: Props): HTMLElement {
  const act = (work: Promise<unknown>): void => { work.then(() => p.onChanged(), p.onError); };
  const rename = h('input', { type: 'text', 'aria-label': 'New group name', placeholder: 'Rename group', maxlength: 100 });
  const canManage = p.myRole === 'owner' || p.myRole === 'admin';
  return h('section', { class: 'members', 'aria-label': 'Members', hidden: p.hidden },
    h('h3', {}, `Members (${p.members.length})`),
    h('ul', {}, p.members.map((m) => {
      const name = [m.firstName, m.lastName].filter(Boolean).join(' ') + (m.userId === p.me ? ' (you)' : '');
      const buttons: HTMLElement[] = [];
      if (p.myRole === 'owner' && m.role !== 'owner') {
        const to = m.role === 'admin' ? 'member' : 'admin';
        buttons.push(h('button', { type: 'button', class: 'small', onclick: () => act(p.client.setMemberRole(p.groupId, m.userId, to)) },
          to === 'admin' ? 'Make admin' : 'Make member'));
      }
      // Nobody removes the owner; only the owner removes an admin.
      if (canManage && m.userId !== p.me && m.role !== 'owner' && (m.role === 'member' || p.myRole === 'owner')) {
        buttons.push(h('button', { type: 'button', class: 'small danger', onclick: () => act(p.client.removeFromGroup(p.groupId, m.userId)) }, 'Remove'));
      }
      return h('li', { 'data-member': m.userId }, h('span', { class: 'name' }, name), h('span', { class: `role ${m.role}` }, m.role), ...buttons);
    })),
    canManage ? h('form', { class: 'row', onsubmit: (ev: Event) => {
      ev.preventDefault();
      const name = rename.value.trim();
      if (name) act(p.client.renameGroup(p.groupId, name).then(() => { rename.value = ''; }));
    } }, rename, h('button', { type: 'submit', class: 'small' }, 'Rename')) : null);
}
