import { Decompress } from 'fzstd';
import { ImageError } from '../errors.js';

/**
 * Largest zstd window accepted: 128 MiB, the reference decoder's default limit
 * (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27). The decoder allocates the window up front, so a frame that
 * declares a larger one is a memory bomb and is refused before it reaches the decoder.
 */
const MAX_ZSTD_WINDOW = 1 << 27;

const S_MAGIC = 0;
const S_FRAME_HEADER = 1;
const S_BLOCK_HEADER = 2;
const S_SKIP = 3;
const S_SKIPPABLE_SIZE = 4;

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Walks the frame structure of a zstd stream (frame headers, block headers, skippable frames)
 * without decoding it, to refuse dictionaries, reserved bits and oversized windows before the
 * decoder sees them, and to notice a stream that stops inside a frame.
 */
class ZstdFrameGuard {
  private state = S_MAGIC;
  private readonly head = Buffer.alloc(18);
  private fill = 0;
  private need = 4;
  private skip = 0;
  private checksum = 0;
  private afterSkip = S_BLOCK_HEADER;
  private frames = 0;

  constructor(
    private readonly label: string,
    private readonly maxWindow = MAX_ZSTD_WINDOW,
  ) {}

  private fail(what: string): never {
    throw new ImageError('ERR_IMAGE_LAYER_INVALID', `${this.label} is not valid zstd: ${what}`, {
      hint: 'the layer is corrupt or crafted; copy the image again',
    });
  }

  write(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === S_SKIP) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.state = this.afterSkip;
        continue;
      }
      const n = Math.min(this.need - this.fill, chunk.length - i);
      this.head.set(chunk.subarray(i, i + n), this.fill);
      this.fill += n;
      i += n;
      if (this.fill < this.need) continue;
      this.step();
    }
  }

  private step(): void {
    const h = this.head;
    switch (this.state) {
      case S_MAGIC: {
        const magic = h.readUInt32LE(0);
        this.fill = 0;
        if (magic === ZSTD_MAGIC) {
          this.state = S_FRAME_HEADER;
          this.need = 1;
        } else if ((magic & 0xfffffff0) === 0x184d2a50) {
          this.state = S_SKIPPABLE_SIZE;
          this.need = 4;
        } else {
          this.fail(
            this.frames === 0 ? 'no zstd magic number' : 'garbage after the last zstd frame',
          );
        }
        return;
      }
      case S_SKIPPABLE_SIZE: {
        this.skip = h.readUInt32LE(0);
        this.fill = 0;
        this.need = 4;
        this.afterSkip = S_MAGIC;
        this.state = this.skip === 0 ? S_MAGIC : S_SKIP;
        this.frames++;
        return;
      }
      case S_FRAME_HEADER: {
        const fhd = h[0] as number;
        const fcsFlag = fhd >> 6;
        const single = (fhd >> 5) & 1;
        const dictFlag = fhd & 3;
        if (fhd & 8) this.fail('a reserved frame header bit is set');
        const dictBytes = [0, 1, 2, 4][dictFlag] as number;
        const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag] as number;
        const total = 1 + (single ? 0 : 1) + dictBytes + fcsBytes;
        if (this.need < total) {
          this.need = total;
          return;
        }
        let off = 1;
        let window = 0;
        if (!single) {
          const wd = h[off++] as number;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        }
        let dict = 0;
        for (let k = 0; k < dictBytes; k++) dict += (h[off + k] as number) * 2 ** (8 * k);
        off += dictBytes;
        if (dict !== 0) this.fail(`the frame needs dictionary ${dict}, which a layer cannot have`);
        if (single) {
          let fcs = 0;
          for (let k = 0; k < fcsBytes; k++) fcs += (h[off + k] as number) * 2 ** (8 * k);
          if (fcsBytes === 2) fcs += 256;
          window = fcs;
        }
        if (window > this.maxWindow) {
          this.fail(
            `a frame asks for a ${window}-byte window, over the ${this.maxWindow}-byte limit`,
          );
        }
        this.checksum = (fhd >> 2) & 1;
        this.state = S_BLOCK_HEADER;
        this.fill = 0;
        this.need = 3;
        this.frames++;
        return;
      }
      case S_BLOCK_HEADER: {
        const bh = (h[0] as number) | ((h[1] as number) << 8) | ((h[2] as number) << 16);
        const last = bh & 1;
        const type = (bh >> 1) & 3;
        const size = bh >>> 3;
        if (type === 3) this.fail('a block has the reserved type');
        if (size > 128 << 10) this.fail(`a block is ${size} bytes, over the 128 KiB maximum`);
        const body = type === 1 ? 1 : size;
        const tail = last ? this.checksum * 4 : 0;
        this.fill = 0;
        this.need = last ? 4 : 3;
        this.afterSkip = last ? S_MAGIC : S_BLOCK_HEADER;
        this.skip = body + tail;
        this.state = this.skip > 0 ? S_SKIP : this.afterSkip;
        return;
      }
    }
  }

  /** Call at the end of the stream: throws when it stopped inside a frame (or held none). */
  end(): void {
    if (this.state !== S_MAGIC || this.fill !== 0)
      this.fail('the stream ends inside a frame (truncated)');
    if (this.frames === 0) this.fail('the stream holds no frame');
  }
}

function decoderError(label: string, error: unknown): ImageError {
  return new ImageError(
    'ERR_IMAGE_LAYER_INVALID',
    `${label} is not valid zstd: ${(error as Error)?.message ?? error}`,
    { hint: 'the layer is corrupt or truncated; copy the image again', cause: error },
  );
}

/**
 * A pipeline stage that decompresses a zstd stream (with fzstd, a pure-JS decoder: Node 20 has
 * no zstd), after `ZstdFrameGuard` checked each frame header.
 */
export function zstdDecompressor(
  label: string,
): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (source) {
    const guard = new ZstdFrameGuard(label);
    let out: Buffer[] = [];
    const decoder = new Decompress((data) => {
      if (data.length > 0) out.push(Buffer.from(data));
    });
    for await (const chunk of source) {
      guard.write(chunk);
      try {
        decoder.push(chunk, false);
      } catch (error) {
        throw decoderError(label, error);
      }
      if (out.length > 0) {
        const ready = out;
        out = [];
        for (const b of ready) yield b;
      }
    }
    guard.end();
    try {
      decoder.push(new Uint8Array(0), true);
    } catch (error) {
      throw decoderError(label, error);
    }
    for (const b of out) yield b;
  };
}
