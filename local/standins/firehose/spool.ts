/**
 * Durable buffers. Each object Firehose will write is first a segment file
 * `<dir>/spool/<stream>/<seq>-<firstArrivalMs>.seg`: one frame per accepted put, fsync'd (group
 * commit) before the put is answered, deleted once the object is in S3. Frame: 4-byte big-endian
 * length, 4-byte CRC-32, then the records concatenated as they were sent. A crash can only tear
 * the last frame, which was never acknowledged; recovery drops it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { AppendLog } from '../storage/append-log';

export function encodeFrame(payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** The payloads of every whole, intact frame, stopping at the first torn or corrupt one. */
export function decodeFrames(file: Buffer): Buffer[] {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= file.length) {
    const length = file.readUInt32BE(offset);
    const checksum = file.readUInt32BE(offset + 4);
    const end = offset + 8 + length;
    if (end > file.length) break;
    const payload = file.subarray(offset + 8, end);
    if (crc32(payload) !== checksum) break;
    payloads.push(payload);
    offset = end;
  }
  return payloads;
}

export class Segment {
  readonly chunks: Buffer[] = [];
  bytes = 0;
  records = 0;

  private constructor(
    readonly path: string,
    readonly seq: number,
    readonly firstArrivalAt: number,
    private readonly log: AppendLog | undefined,
  ) {}

  static create(streamDir: string, seq: number, firstArrivalAt: number): Segment {
    const path = join(streamDir, `${String(seq).padStart(12, '0')}-${firstArrivalAt}.seg`);
    return new Segment(path, seq, firstArrivalAt, new AppendLog(path, { mode: 'truncate' }));
  }

  /** A segment left on disk by an earlier run: read back, already sealed. */
  static async recover(path: string): Promise<Segment | undefined> {
    const match = /(\d+)-(\d+)\.seg$/.exec(path);
    if (!match) return undefined;
    const segment = new Segment(path, Number(match[1]), Number(match[2]), undefined);
    for (const payload of decodeFrames(await readFile(path))) {
      segment.chunks.push(payload);
      segment.bytes += payload.length;
    }
    return segment;
  }

  /** Appends one put's records; resolves once they are on disk. */
  append(records: readonly Buffer[]): Promise<void> {
    const payload = Buffer.concat(records);
    this.chunks.push(payload);
    this.bytes += payload.length;
    this.records += records.length;
    if (!this.log) throw new Error(`segment ${this.path} is sealed`);
    this.log.append(encodeFrame(payload));
    return this.log.sync();
  }

  content(): Buffer {
    return Buffer.concat(this.chunks);
  }

  async seal(): Promise<void> {
    await this.log?.close();
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }

  abandon(): void {
    this.log?.abandon();
  }
}

/** Segments of one stream left by an earlier run, oldest first, and the next free sequence number. */
export async function recoverStream(streamDir: string): Promise<{ segments: Segment[]; nextSeq: number }> {
  await mkdir(streamDir, { recursive: true });
  const names = (await readdir(streamDir)).filter((name) => name.endsWith('.seg')).sort();
  const segments: Segment[] = [];
  for (const name of names) {
    const segment = await Segment.recover(join(streamDir, name));
    if (!segment) continue;
    if (segment.bytes === 0) await segment.remove();
    else segments.push(segment);
  }
  const highest = Math.max(0, ...names.map((name) => Number.parseInt(name, 10)).filter(Number.isFinite));
  return { segments, nextSeq: highest + 1 };
}

export async function spoolStreams(spoolDir: string): Promise<string[]> {
  if (!existsSync(spoolDir)) return [];
  return (await readdir(spoolDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
}
