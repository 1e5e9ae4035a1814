// A deliberately naive transcription of docs/ring.md, sharing no code with the package:
// hash with createHash, build the sorted vnode list with plain arrays, walk it per lookup.
// Property tests compare the package against it.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';

export interface ReferenceMember {
  id: string;
  weight?: number | undefined;
  zone?: string | undefined;
  host?: string | undefined;
}

interface Vnode {
  token: number;
  id: string;
  index: number;
  zone: string;
  host: string;
}

/** The host an id names: what precedes a final `:digits`, else the id itself. */
function referenceHost(id: string): string {
  const match = /^(.+):([0-9]+)$/s.exec(id);
  return match ? (match[1] as string) : id;
}

export function referenceToken(data: string | Uint8Array): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return createHash('sha256').update(bytes).digest().readUIntBE(0, 6);
}

/** Returns a lookup `(key, n) => ids` for the ring the spec defines. */
export function referenceRing(
  members: readonly ReferenceMember[],
  vnodesPerWeight: number,
): (key: string | Uint8Array, n: number) => string[] {
  const vnodes: Vnode[] = [];
  for (const member of members) {
    const count = Math.max(1, Math.round((member.weight ?? 1) * vnodesPerWeight));
    for (let index = 0; index < count; index++) {
      vnodes.push({
        token: referenceToken(`${member.id}#${index}`),
        id: member.id,
        index,
        zone: member.zone ?? '',
        host: member.host ?? referenceHost(member.id),
      });
    }
  }
  vnodes.sort(
    (a, b) =>
      a.token - b.token ||
      Buffer.compare(Buffer.from(a.id, 'utf8'), Buffer.from(b.id, 'utf8')) ||
      a.index - b.index,
  );
  return (key, n) => {
    const t = referenceToken(key);
    let start = vnodes.findIndex((v) => v.token >= t);
    if (start < 0) start = 0;
    const walk = [...vnodes.slice(start), ...vnodes.slice(0, start)];
    const picked: string[] = [];
    const zones = new Set<string>();
    const hosts = new Set<string>();
    const pick = (v: Vnode): void => {
      picked.push(v.id);
      zones.add(v.zone);
      hosts.add(v.host);
    };
    const distinctZones = new Set(vnodes.map((v) => v.zone)).size;
    const distinctHosts = new Set(vnodes.map((v) => v.host)).size;
    if (distinctZones > 1) {
      for (const v of walk) {
        if (picked.length < n && !zones.has(v.zone) && !picked.includes(v.id)) pick(v);
      }
    }
    if (distinctHosts > 1) {
      for (const v of walk) {
        if (picked.length < n && !hosts.has(v.host) && !picked.includes(v.id)) pick(v);
      }
    }
    for (const v of walk) {
      if (picked.length < n && !picked.includes(v.id)) picked.push(v.id);
    }
    return picked;
  };
}
