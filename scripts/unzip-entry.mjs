#!/usr/bin/env node
/**
 * Extracts one file from a zip archive, so that scripts/helm.sh needs no `unzip`:
 *
 *   node scripts/unzip-entry.mjs ARCHIVE ENTRY DEST
 *
 * Reads the central directory, then inflates the entry (stored or deflated) and
 * checks its size and CRC-32. Enough for the archives Weft's scripts open; not a
 * general zip tool (no zip64, no encryption, no multi-disk archives).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import zlib from 'node:zlib';

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const CENTRAL_FILE_HEADER = 0x02014b50;
const LOCAL_FILE_HEADER = 0x04034b50;

function fail(message) {
  console.error(`unzip-entry: ${message}`);
  process.exit(1);
}

function findEndOfCentralDirectory(zip) {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const earliest = Math.max(0, zip.length - 22 - 0xffff);
  for (let offset = zip.length - 22; offset >= earliest; offset--) {
    if (zip.readUInt32LE(offset) === END_OF_CENTRAL_DIRECTORY) return offset;
  }
  return fail('not a zip archive (no end of central directory record)');
}

function extract(zip, wanted) {
  const end = findEndOfCentralDirectory(zip);
  const entries = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  for (let i = 0; i < entries; i++) {
    if (zip.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) fail('corrupt central directory');
    const method = zip.readUInt16LE(offset + 10);
    const crc = zip.readUInt32LE(offset + 16);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const size = zip.readUInt32LE(offset + 24);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const localOffset = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (name !== wanted) continue;

    if (zip.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER) fail(`corrupt local header of ${name}`);
    const dataStart = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    let content;
    if (method === 0) content = data;
    else if (method === 8) content = zlib.inflateRawSync(data);
    else fail(`${name} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (content.length !== size) fail(`${name}: expected ${size} bytes, got ${content.length}`);
    // zlib.crc32 exists from Node.js 20.15 on; the size check above still holds without it.
    if (typeof zlib.crc32 === 'function' && zlib.crc32(content) !== crc) fail(`${name}: CRC-32 mismatch`);
    return content;
  }
  return fail(`no entry named ${wanted}`);
}

const [archive, entry, dest] = process.argv.slice(2);
if (archive === undefined || entry === undefined || dest === undefined) {
  fail('usage: node scripts/unzip-entry.mjs ARCHIVE ENTRY DEST');
}
writeFileSync(dest, extract(readFileSync(archive), entry), { mode: 0o755 });
