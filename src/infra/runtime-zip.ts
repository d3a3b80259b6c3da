import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { FanoutError } from '../errors.js';

/** The runtime function's code: a zip holding `index.mjs`, named by the SHA-256 of the zip. */
export interface RuntimeZip {
  bytes: Uint8Array;
  sha256: string;
}

/** One file to put in a zip. */
export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const here = fileURLToPath(import.meta.url);
/** The Lambda handler sits beside this module: `.ts` when running from source, `.js` from dist. */
export const RUNTIME_ENTRY = join(dirname(here), `function-handler${extname(here)}`);
/** Fanout's own dependencies (src/infra or dist/infra is two levels below the package root). */
const PACKAGE_NODE_MODULES = join(dirname(here), '..', '..', 'node_modules');

/**
 * Bundles the Lambda handler into one ES module and zips it as `index.mjs` (handler `index.handler`).
 * The zip is byte-for-byte reproducible, so an unchanged runtime keeps its key and deploys as a no-op.
 * @throws {FanoutError} when the handler is missing or does not bundle.
 */
export async function buildRuntimeZip(entry: string = RUNTIME_ENTRY): Promise<RuntimeZip> {
  try {
    await access(entry);
  } catch {
    throw new FanoutError(`runtime handler not found at ${entry}; is the package built?`);
  }
  let code: Uint8Array;
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      outfile: 'index.mjs',
      platform: 'node',
      format: 'esm',
      target: 'node22',
      conditions: ['source'],
      // A driver in the function runs shipped bundles: it never bundles a job file, so never loads esbuild.
      external: ['esbuild'],
      // The SDK is bundled too: the one in the nodejs22.x runtime lags ours and lacks @aws-sdk/lib-storage.
      // Packages resolve from Fanout's own dependencies wherever the entry file sits.
      nodePaths: [PACKAGE_NODE_MODULES],
      logLevel: 'silent',
      legalComments: 'none',
      // CommonJS dependencies inside an ES module still need `require` for Node built-ins.
      banner: {
        js: "import { createRequire as __fanoutCreateRequire } from 'node:module'; const require = __fanoutCreateRequire(import.meta.url);",
      },
    });
    const out = result.outputFiles[0];
    if (!out) throw new Error('esbuild produced no output');
    code = out.contents;
  } catch (err) {
    const first = (err as { errors?: { text: string }[] }).errors?.[0];
    throw new FanoutError(`cannot bundle the runtime handler ${entry}: ${first?.text ?? String(err)}`, {
      cause: err,
    });
  }
  const bytes = zipFiles([{ name: 'index.mjs', data: code }]);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

// 1980-01-01 00:00 in DOS format: a fixed time keeps the zip (and its SHA-256) reproducible.
const DOS_TIME = 0;
const DOS_DATE = (1 << 5) | 1;
const UTF8_NAMES = 0x0800;
const DEFLATE = 8;

/**
 * Writes a deflated zip of the given files: just what Lambda reads (no zip64, no extra fields).
 * @example zipFiles([{ name: 'index.mjs', data: code }])
 */
export function zipFiles(files: readonly ZipEntry[]): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const packed = deflateRawSync(file.data, { level: 9 });
    const crc = crc32(file.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(file.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the external attributes are modes
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(DEFLATE, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(file.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // Extra, comment, disk and internal attributes stay 0; the file is readable by everyone (0644).
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, directory, end]));
}
