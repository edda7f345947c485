/**
 * A small tar writer for tests (ustar + PAX + GNU long names), able to write malformed
 * archives on purpose. Not part of the package.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

export interface TarSpec {
  name: string;
  type?: EntryType;
  data?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** PAX `x` records written before this entry. */
  pax?: Record<string, string>;
  /** Write the name as a GNU `L` long-name header instead. */
  gnuLongName?: boolean;
  /** Write the link name as a GNU `K` header. */
  gnuLongLink?: boolean;
  /** Name stored in the ustar header (default: `name`, or a placeholder when it does not fit). */
  headerName?: string;
  /** Raw typeflag character, overriding `type`. */
  typeflag?: string;
  /** Corrupt the checksum. */
  badChecksum?: boolean;
}

const TYPEFLAG: Record<EntryType, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

function octal(buf: Buffer, off: number, len: number, value: number): void {
  const s = value.toString(8).padStart(len - 1, '0');
  buf.write(s, off, len - 1, 'latin1');
  buf[off + len - 1] = 0;
}

function header(opts: {
  name: string;
  typeflag: string;
  size: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  badChecksum?: boolean;
}): Buffer {
  const b = Buffer.alloc(512);
  const name = Buffer.from(opts.name);
  if (name.length > 100) throw new Error(`tar-writer: header name too long: ${opts.name}`);
  name.copy(b, 0);
  octal(b, 100, 8, opts.mode ?? 0o644);
  octal(b, 108, 8, opts.uid ?? 0);
  octal(b, 116, 8, opts.gid ?? 0);
  octal(b, 124, 12, opts.size);
  octal(b, 136, 12, opts.mtime ?? 1_700_000_000);
  b.write(opts.typeflag, 156, 1, 'latin1');
  const link = Buffer.from(opts.linkname ?? '');
  if (link.length > 100) throw new Error('tar-writer: link name too long');
  link.copy(b, 157);
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write('root', 265, 'latin1');
  b.write('root', 297, 'latin1');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i] as number;
  if (opts.badChecksum) sum += 1;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return b;
}

function pad(data: Buffer): Buffer {
  const rest = data.length % 512;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - rest)]);
}

export function paxData(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    const bodyLen = Buffer.byteLength(body);
    let len = bodyLen + 1;
    while (String(len).length + bodyLen !== len) len = String(len).length + bodyLen;
    parts.push(Buffer.from(`${len}${body}`));
  }
  return Buffer.concat(parts);
}

export function entryBlocks(spec: TarSpec): Buffer {
  const out: Buffer[] = [];
  const type = spec.type ?? 'file';
  const data = spec.data === undefined ? Buffer.alloc(0) : Buffer.from(spec.data);
  const pax: Record<string, string> = { ...(spec.pax ?? {}) };
  let headerName = spec.headerName ?? spec.name;
  let linkname = spec.linkname ?? '';
  if (spec.gnuLongName) {
    const long = Buffer.concat([Buffer.from(spec.name), Buffer.alloc(1)]);
    out.push(header({ name: '././@LongLink', typeflag: 'L', size: long.length }), pad(long));
    if (spec.headerName === undefined) headerName = 'gnu-placeholder';
  } else if (Buffer.byteLength(headerName) > 100) {
    pax.path = spec.name;
    headerName = 'pax-placeholder';
  }
  if (spec.gnuLongLink) {
    const long = Buffer.concat([Buffer.from(linkname), Buffer.alloc(1)]);
    out.push(header({ name: '././@LongLink', typeflag: 'K', size: long.length }), pad(long));
    linkname = 'gnu-link-placeholder';
  } else if (Buffer.byteLength(linkname) > 100) {
    pax.linkpath = linkname;
    linkname = '';
  }
  if (Object.keys(pax).length > 0) {
    const pd = paxData(pax);
    out.push(header({ name: 'PaxHeaders/x', typeflag: 'x', size: pd.length }), pad(pd));
  }
  out.push(
    header({
      name: headerName,
      typeflag: spec.typeflag ?? TYPEFLAG[type],
      size: type === 'file' ? data.length : 0,
      mode: spec.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      uid: spec.uid ?? 0,
      gid: spec.gid ?? 0,
      mtime: spec.mtime ?? 1_700_000_000,
      linkname,
      badChecksum: spec.badChecksum ?? false,
    }),
  );
  if (type === 'file' && data.length > 0) out.push(pad(data));
  return Buffer.concat(out);
}

/** A PAX global header block with these records. */
export function globalHeader(records: Record<string, string>): Buffer {
  const pd = paxData(records);
  return Buffer.concat([
    header({ name: 'pax_global_header', typeflag: 'g', size: pd.length }),
    pad(pd),
  ]);
}

/** The tar archive of `specs` (raw Buffers are inserted verbatim), with the two-block trailer unless `trailer: false`. */
export function makeTar(
  specs: ReadonlyArray<TarSpec | Buffer>,
  opts: { trailer?: boolean } = {},
): Buffer {
  const parts = specs.map((s) => (Buffer.isBuffer(s) ? s : entryBlocks(s)));
  if (opts.trailer !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
