import type { FileInfo, RelayClient } from 'relay-client';
import { h, describe } from './dom.js';

export const formatSize = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1024 / 1024).toFixed(1)} MB`;

/**
 * A message's files: images inline from their thumbnails (a click opens the full image), any other
 * file as a chip with its name, size and a download link. The URLs are the signed ones the
 * message row carries (the server's origin: the CSP's img-src 'self').
 */
export function attachmentsView(files: readonly FileInfo[]): HTMLElement | null {
  if (files.length === 0) return null;
  return h('div', { class: 'attachments' }, files.map((f) => f.thumbnailUrl
    ? h('a', { class: 'attachment image', href: f.url, target: '_blank', rel: 'noopener', title: f.name },
        h('img', { src: f.thumbnailUrl, alt: f.name, width: thumbWidth(f), height: thumbHeight(f), loading: 'lazy' }))
    : h('a', { class: 'attachment chip', href: f.url, download: f.name, title: `Download ${f.name}` },
        h('span', { class: 'file-name' }, f.name),
        h('span', { class: 'file-size' }, formatSize(f.size)))));
}

// The thumbnail's box (at most 320x320, the server's size), so the list does not jump as images load.
const scale = (f: FileInfo): number => Math.min(1, 320 / Math.max(f.width ?? 320, f.height ?? 320));
const thumbWidth = (f: FileInfo): number => Math.round((f.width ?? 320) * scale(f));
const thumbHeight = (f: FileInfo): number => Math.round((f.height ?? 320) * scale(f));

interface Upload {
  file: File;
  ctl: AbortController;
  loaded: number;
  done?: FileInfo;
  error?: string;
  el: HTMLElement;
}

/**
 * Files being attached to the next message: each uploads at once, with a progress bar and a
 * cancel button; a refused one (too big, over quota) says why in its place until dismissed.
 */
export class UploadTray {
  readonly root = h('ul', { class: 'uploads', 'aria-label': 'Attachments', hidden: true });
  private uploads: Upload[] = [];

  constructor(private readonly client: RelayClient, private readonly onChange: () => void) {}

  add(files: Iterable<File>): void {
    for (const file of files) {
      const up: Upload = { file, ctl: new AbortController(), loaded: 0, el: h('li') };
      this.uploads.push(up);
      this.client.uploadFile(file, file.name || 'pasted-file', {
        signal: up.ctl.signal,
        onProgress: (p) => { up.loaded = p.loaded; this.draw(up); },
      }).then((info) => { up.done = info; this.draw(up); this.onChange(); }, (err: unknown) => {
        if (up.ctl.signal.aborted) return;
        up.error = describe(err);
        this.draw(up);
        this.onChange();
      });
      this.draw(up);
    }
    this.render();
  }

  /** Uploads still on their way (a send waits for none: it is refused until they finish). */
  get busy(): boolean { return this.uploads.some((u) => !u.done && !u.error); }
  get ready(): FileInfo[] { return this.uploads.flatMap((u) => (u.done ? [u.done] : [])); }

  clear(): void {
    for (const u of this.uploads) if (!u.done && !u.error) u.ctl.abort();
    this.uploads = [];
    this.render();
  }

  private remove(up: Upload): void {
    up.ctl.abort();
    this.uploads = this.uploads.filter((u) => u !== up);
    this.render();
    this.onChange();
  }

  private render(): void {
    this.root.replaceChildren(...this.uploads.map((u) => u.el));
    this.root.hidden = this.uploads.length === 0;
  }

  private draw(up: Upload): void {
    const state = up.error ? 'failed' : up.done ? 'done' : 'uploading';
    up.el.className = `upload ${state}`;
    up.el.replaceChildren(
      h('span', { class: 'file-name' }, up.file.name || 'pasted-file'),
      h('span', { class: 'file-size' }, formatSize(up.file.size)),
      up.error
        ? h('span', { class: 'upload-error', role: 'alert' }, up.error)
        : h('progress', { max: Math.max(up.file.size, 1), value: up.done ? Math.max(up.file.size, 1) : up.loaded, 'aria-label': `Uploading ${up.file.name}` }),
      h('button', { type: 'button', class: 'small', 'aria-label': `${up.done || up.error ? 'Remove' : 'Cancel'} ${up.file.name}`,
        onclick: () => this.remove(up) }, up.done || up.error ? 'Remove' : 'Cancel'));
  }
}

/** Files the user dropped or pasted (what a DataTransfer holds as files). */
export const filesOf = (dt: DataTransfer | null): File[] => (dt ? [...dt.files] : []);
