import { ImageError, q } from '../errors.js';

/** Entry types the reader hands on; everything else in a tar is refused. */
type TarEntryType = 'file' | 'link' | 'symlink' | 'dir' | 'char' | 'block' | 'fifo';

/** One archive member, after PAX (`x`) and GNU (`L`/`K`) overrides were merged. */
export interface TarEntry {
  type: TarEntryType;
  /** The member name as stored (not cleaned). */
  name: string;
  /** Link target (symlinks) or target member name (hardlinks). */
  linkname: string;
  /** Permission bits including setuid/setgid/sticky (`& 0o7777`). */
  mode: number;
  uid: number;
  gid: number;
  /** Data bytes that follow (0 except for `file`). */
  size: number;
  /** Modification time in seconds (may be fractional or negative). */
  mtime: number;
  /** Number of extended attributes in the PAX header (not applied). */
  xattrs: number;
}

/** Receives entries synchronously, in archive order. */
export interface TarHandler {
  /** Every entry. For `file` entries, `data` then `end` follow. */
  entry(entry: TarEntry): void;
  /** A slice of the current file's data; only valid during the call. */
  data(chunk: Buffer): void;
  /** The current file's data is complete. */
  end(): void;
}

/** Largest PAX or GNU long-name header accepted. */
const MAX_META_BYTES = 1 << 20;

const BLOCK = 512;
const S_HEADER = 0;
const S_DATA = 1;
const S_SKIP = 2;
const S_META = 3;
const S_ZERO1 = 4;
const S_END = 5;

const META_PAX = 1;
const META_GLOBAL = 2;
const META_LONGNAME = 3;
const META_LONGLINK = 4;

const ZERO_BLOCK = Buffer.alloc(BLOCK);
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

interface Pending {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  xattrs: number;
  longName?: string;
  longLink?: string;
  /** A PAX `x` or GNU `L`/`K` header was read; its member must follow. */
  forMember?: boolean;
}

/**
 * A streaming tar reader: feed it chunks with `write`, call `end` at EOF. Supports ustar (with
 * prefix), GNU long names and links (`L`/`K`), PAX `x` records (path, linkpath, size, uid, gid,
 * mtime) and skips PAX `g` global headers as metadata. Header checksums are verified, base-256
 * numbers read. An archive that stops inside a header or a member's data is an error; one that
 * stops cleanly after a member (without its end-of-archive marker, or even without the last
 * member's padding) is complete, as GNU tar and Go's archive/tar read it. Bytes after the marker are ignored (the caller still hashes
 * them for the diff_id).
 */
export class TarReader {
  private state = S_HEADER;
  private readonly hdr = Buffer.alloc(BLOCK);
  private hdrFill = 0;
  private remaining = 0;
  private padding = 0;
  private metaKind = 0;
  private metaBuf: Buffer = ZERO_BLOCK;
  private metaFill = 0;
  private pending: Pending = { xattrs: 0 };
  private offset = 0;
  private entryName = '';

  constructor(
    private readonly handler: TarHandler,
    /** Names the archive in messages, e.g. `layer sha256:...`. */
    private readonly label: string,
  ) {}

  /** True once the end-of-archive marker was read. */
  get ended(): boolean {
    return this.state === S_END || this.state === S_ZERO1;
  }

  write(chunk: Buffer): void {
    let off = 0;
    const len = chunk.length;
    while (off < len) {
      switch (this.state) {
        case S_HEADER:
        case S_ZERO1: {
          if (this.hdrFill === 0 && len - off >= BLOCK) {
            const at = off;
            off += BLOCK;
            this.offset += BLOCK;
            this.header(chunk, at);
          } else {
            const n = Math.min(BLOCK - this.hdrFill, len - off);
            chunk.copy(this.hdr, this.hdrFill, off, off + n);
            this.hdrFill += n;
            off += n;
            this.offset += n;
            if (this.hdrFill < BLOCK) return;
            this.hdrFill = 0;
            this.header(this.hdr, 0);
          }
          break;
        }
        case S_DATA: {
          const n = Math.min(this.remaining, len - off);
          this.handler.data(chunk.subarray(off, off + n));
          off += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.handler.end();
            this.afterData();
          }
          break;
        }
        case S_SKIP: {
          const n = Math.min(this.remaining, len - off);
          off += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = S_HEADER;
          break;
        }
        case S_META: {
          const n = Math.min(this.remaining, len - off);
          chunk.copy(this.metaBuf, this.metaFill, off, off + n);
          this.metaFill += n;
          off += n;
          this.offset += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.meta();
            this.afterData();
          }
          break;
        }
        default:
          return; // S_END: ignore whatever follows the end-of-archive marker
      }
    }
  }

  /** Call at EOF: throws unless the archive ended properly. */
  end(): void {
    if (this.state === S_END || (this.state === S_ZERO1 && this.hdrFill === 0)) return;
    if ((this.state === S_HEADER && this.hdrFill === 0) || this.state === S_SKIP) {
      // The stream stops at a member boundary without the end-of-archive marker, perhaps even
      // without the last member's padding (umoci 0.4.7's `insert` writes such layers; GNU tar
      // and Go's archive/tar accept them). The layer's digest was verified, so this is its true
      // end -- unless a PAX or GNU long-name header was read for a member that never came.
      if (this.pending.forMember)
        throw this.fail(`is truncated after a ${this.entryName} (its member is missing)`);
      return;
    }
    if (this.state === S_DATA || this.state === S_META) {
      throw this.fail(`is truncated in the data of ${q(this.entryName)}`);
    }
    throw this.fail('is truncated in a header');
  }

  private fail(
    what: string,
    code:
      | 'ERR_IMAGE_LAYER_INVALID'
      | 'ERR_IMAGE_LAYER_UNSUPPORTED'
      | 'ERR_IMAGE_LIMIT' = 'ERR_IMAGE_LAYER_INVALID',
  ): ImageError {
    return new ImageError(code, `${this.label}: tar archive ${what} (at byte ${this.offset})`, {
      hint:
        code === 'ERR_IMAGE_LAYER_UNSUPPORTED'
          ? 'rebuild the image with a standard tool (docker, buildah, umoci)'
          : 'the layer is corrupt or crafted; do not use this image',
    });
  }

  private afterData(): void {
    if (this.padding > 0) {
      this.remaining = this.padding;
      this.padding = 0;
      this.state = S_SKIP;
    } else {
      this.state = S_HEADER;
    }
  }

  private header(b: Buffer, o: number): void {
    if (b.compare(ZERO_BLOCK, 0, BLOCK, o, o + BLOCK) === 0) {
      this.state = this.state === S_ZERO1 ? S_END : S_ZERO1;
      return;
    }
    if (this.state === S_ZERO1) throw this.fail('has a zero block followed by a header');

    // Checksum: the field counts as spaces; accept the unsigned or the (historic) signed sum.
    let unsigned = 0;
    let signed = 0;
    for (let i = 0; i < BLOCK; i++) {
      const c = i >= 148 && i < 156 ? 0x20 : (b[o + i] as number);
      unsigned += c;
      signed += c > 127 ? c - 256 : c;
    }
    const chk = this.num(b, o + 148, 8, 'checksum');
    if (chk !== unsigned && chk !== signed) throw this.fail('has a header with a bad checksum');

    const typeflag = b[o + 156] as number;
    const ustar =
      b[o + 257] === 0x75 &&
      b[o + 258] === 0x73 &&
      b[o + 259] === 0x74 &&
      b[o + 260] === 0x61 &&
      b[o + 261] === 0x72;
    const posix = ustar && b[o + 262] === 0 && b[o + 263] === 0x30 && b[o + 264] === 0x30;

    const size = this.num(b, o + 124, 12, 'size');

    // Metadata headers.
    if (
      typeflag === 0x78 /* x */ ||
      typeflag === 0x67 /* g */ ||
      typeflag === 0x4c /* L */ ||
      typeflag === 0x4b /* K */
    ) {
      if (size > MAX_META_BYTES)
        throw this.fail(
          `has a ${String.fromCharCode(typeflag)} header of ${size} bytes (limit ${MAX_META_BYTES})`,
          'ERR_IMAGE_LIMIT',
        );
      this.metaKind =
        typeflag === 0x78
          ? META_PAX
          : typeflag === 0x67
            ? META_GLOBAL
            : typeflag === 0x4c
              ? META_LONGNAME
              : META_LONGLINK;
      this.metaBuf = Buffer.allocUnsafe(size);
      this.metaFill = 0;
      this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
      this.entryName = `${String.fromCharCode(typeflag)} header`;
      if (size === 0) {
        this.meta();
        this.afterData();
      } else {
        this.remaining = size;
        this.state = S_META;
      }
      return;
    }

    let name = this.str(b, o, 100, 'name');
    if (posix) {
      const prefix = this.str(b, o + 345, 155, 'name prefix');
      if (prefix !== '') name = `${prefix}/${name}`;
    }
    let linkname = this.str(b, o + 157, 100, 'link name');
    let type: TarEntryType;
    switch (typeflag) {
      case 0x00:
        type = name.endsWith('/') ? 'dir' : 'file';
        break;
      case 0x30:
      case 0x37:
        type = 'file';
        break;
      case 0x31:
        type = 'link';
        break;
      case 0x32:
        type = 'symlink';
        break;
      case 0x33:
        type = 'char';
        break;
      case 0x34:
        type = 'block';
        break;
      case 0x35:
        type = 'dir';
        break;
      case 0x36:
        type = 'fifo';
        break;
      case 0x53:
        throw this.fail(
          `has a GNU sparse file ${q(name)}, which is not supported`,
          'ERR_IMAGE_LAYER_UNSUPPORTED',
        );
      default:
        throw this.fail(
          `has entry ${q(name)} of unsupported type ${q(String.fromCharCode(typeflag))}`,
          'ERR_IMAGE_LAYER_UNSUPPORTED',
        );
    }

    const p = this.pending;
    this.pending = { xattrs: 0 };
    if (p.path !== undefined) name = p.path;
    if (p.longName !== undefined) name = p.longName;
    if (p.linkpath !== undefined) linkname = p.linkpath;
    if (p.longLink !== undefined) linkname = p.longLink;
    const dataSize = type === 'file' ? (p.size ?? size) : 0;

    const entry: TarEntry = {
      type,
      name,
      linkname,
      mode: this.num(b, o + 100, 8, 'mode') & 0o7777,
      uid: p.uid ?? this.num(b, o + 108, 8, 'uid'),
      gid: p.gid ?? this.num(b, o + 116, 8, 'gid'),
      size: dataSize,
      mtime: p.mtime ?? this.num(b, o + 136, 12, 'mtime'),
      xattrs: p.xattrs,
    };
    this.entryName = name;
    this.handler.entry(entry);
    if (type === 'file') {
      this.padding = (BLOCK - (dataSize % BLOCK)) % BLOCK;
      if (dataSize === 0) {
        this.handler.end();
        this.afterData();
      } else {
        this.remaining = dataSize;
        this.state = S_DATA;
      }
    } else {
      this.state = S_HEADER;
    }
  }

  private meta(): void {
    const buf = this.metaBuf.subarray(0, this.metaFill);
    this.metaBuf = ZERO_BLOCK;
    if (this.metaKind !== META_GLOBAL) this.pending.forMember = true;
    switch (this.metaKind) {
      case META_LONGNAME:
        this.pending.longName = this.str(buf, 0, buf.length, 'GNU long name');
        break;
      case META_LONGLINK:
        this.pending.longLink = this.str(buf, 0, buf.length, 'GNU long link name');
        break;
      case META_GLOBAL:
        this.pax(buf, false); // validated, then ignored: global headers are metadata only
        break;
      default:
        this.pax(buf, true);
    }
  }

  private pax(buf: Buffer, apply: boolean): void {
    let off = 0;
    while (off < buf.length) {
      const sp = buf.indexOf(0x20, off);
      if (sp < 0 || sp - off > 12) throw this.fail('has a malformed PAX record');
      let len = 0;
      for (let i = off; i < sp; i++) {
        const c = buf[i] as number;
        if (c < 0x30 || c > 0x39) throw this.fail('has a malformed PAX record length');
        len = len * 10 + (c - 0x30);
      }
      const end = off + len;
      if (sp === off || len <= sp - off + 2 || end > buf.length || buf[end - 1] !== 0x0a) {
        throw this.fail('has a malformed PAX record');
      }
      const eq = buf.indexOf(0x3d, sp + 1);
      if (eq < 0 || eq >= end - 1 || eq === sp + 1)
        throw this.fail('has a PAX record without a key');
      const key = this.decode(buf, sp + 1, eq, 'PAX key');
      if (apply) this.paxRecord(key, buf, eq + 1, end - 1);
      off = end;
    }
  }

  private paxRecord(key: string, buf: Buffer, start: number, end: number): void {
    const p = this.pending;
    switch (key) {
      case 'path':
      case 'linkpath': {
        const value = this.decode(buf, start, end, `PAX ${key}`);
        if (value.includes('\0')) throw this.fail(`has a PAX ${key} containing a NUL byte`);
        if (value === '') delete p[key];
        else p[key] = value;
        return;
      }
      case 'size':
      case 'uid':
      case 'gid': {
        const value = buf.toString('latin1', start, end);
        if (!/^[0-9]{1,16}$/.test(value)) throw this.fail(`has an invalid PAX ${key} ${q(value)}`);
        const n = Number(value);
        if (!Number.isSafeInteger(n)) throw this.fail(`has an out-of-range PAX ${key}`);
        p[key] = n;
        return;
      }
      case 'mtime': {
        const value = buf.toString('latin1', start, end);
        if (!/^-?[0-9]{1,16}(\.[0-9]{0,18})?$/.test(value))
          throw this.fail(`has an invalid PAX mtime ${q(value)}`);
        p.mtime = Number(value);
        return;
      }
      default:
        if (key.startsWith('GNU.sparse.'))
          throw this.fail(
            'has a GNU sparse file (PAX), which is not supported',
            'ERR_IMAGE_LAYER_UNSUPPORTED',
          );
        if (key.startsWith('SCHILY.xattr.') || key.startsWith('LIBARCHIVE.xattr.')) p.xattrs++;
      // atime, ctime, uname, gname, comment, charset, hdrcharset, vendor keys: ignored
    }
  }

  /** A NUL-terminated string field. */
  private str(b: Buffer, o: number, n: number, what: string): string {
    let end = b.indexOf(0, o);
    if (end < 0 || end > o + n) end = o + n;
    return this.decode(b, o, end, what);
  }

  private decode(b: Buffer, start: number, end: number, what: string): string {
    const s = b.toString('utf8', start, end);
    if (s.includes('\uFFFD')) {
      try {
        utf8Strict.decode(b.subarray(start, end));
      } catch {
        throw this.fail(`has a ${what} that is not valid UTF-8`);
      }
    }
    return s;
  }

  /** An octal or base-256 numeric field. */
  private num(b: Buffer, o: number, n: number, what: string): number {
    const first = b[o] as number;
    if (first & 0x80) {
      // base-256, two's complement when 0x40 is set
      const negative = (first & 0x40) !== 0;
      let v = (negative ? first ^ 0xff : first & 0x7f) & 0x7f;
      for (let i = 1; i < n; i++) {
        const c = b[o + i] as number;
        v = v * 256 + (negative ? c ^ 0xff : c);
        if (v > Number.MAX_SAFE_INTEGER) throw this.fail(`has an out-of-range ${what} field`);
      }
      return negative ? -(v + 1) : v;
    }
    let i = o;
    const end = o + n;
    while (i < end && (b[i] === 0x20 || b[i] === 0)) i++;
    let v = 0;
    let digits = 0;
    for (; i < end; i++) {
      const c = b[i] as number;
      if (c === 0x20 || c === 0) break;
      if (c < 0x30 || c > 0x37) throw this.fail(`has an invalid ${what} field`);
      v = v * 8 + (c - 0x30);
      digits++;
    }
    for (; i < end; i++) {
      const c = b[i] as number;
      if (c !== 0x20 && c !== 0) throw this.fail(`has an invalid ${what} field`);
    }
    if (digits === 0 && what === 'checksum') throw this.fail('has a header with an empty checksum');
    return v;
  }
}
