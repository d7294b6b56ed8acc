// Facts about the host a spawn plan needs: are we root, and who is `nobody`. Read once.

import { readFileSync } from 'node:fs';

export interface HostInfo {
  readonly isRoot: boolean;
  readonly nobody: { readonly uid: number; readonly gid: number };
}

let cached: HostInfo | undefined;

function lookup(file: string, name: string): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === name && fields[2] !== undefined) return Number(fields[2]);
    }
  } catch {
    // no such file: fall back to the conventional ids
  }
  return undefined;
}

export function hostInfo(): HostInfo {
  if (cached !== undefined) return cached;
  const uid = lookup('/etc/passwd', 'nobody') ?? 65534;
  const gid = lookup('/etc/group', 'nogroup') ?? lookup('/etc/group', 'nobody') ?? uid;
  cached = { isRoot: process.getuid?.() === 0, nobody: { uid, gid } };
  return cached;
}
