#!/usr/bin/env node
/* global require, process, console, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS script: it runs before tsc */
/**
 * Builds the optional native addons with the node-gyp that npm bundles, against the headers of the
 * running node (--nodedir: never a download), each only when its .node file is missing or older
 * than its sources: the SRTP addon (media/srtp/native), the in-kernel media forwarder's bpf(2)
 * wrappers (media/relay/kernel/native) and the relay threads' batched UDP I/O
 * (media/relay/io/native). It never fails the build: on any fault it prints one warning line naming
 * it and exits 0, and the gateway runs without that addon (SRTP on the TypeScript transforms; media
 * relayed in user space only; media sockets on Node's dgram).
 * Part of `npm run build`; plain Node JS so it runs before or without tsc.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const ADDONS = [
  { dir: path.join(ROOT, 'media', 'srtp', 'native'), name: 'ciphergate_srtp', without: 'SRTP uses the TypeScript transforms' },
  { dir: path.join(ROOT, 'media', 'relay', 'kernel', 'native'), name: 'ciphergate_kfwd', without: 'media is relayed in user space only' },
  // The socket addon compiles the SRTP addon's sources in too (its fast path uses the same sessions).
  {
    dir: path.join(ROOT, 'media', 'relay', 'io', 'native'),
    name: 'ciphergate_udpio',
    without: "media sockets use Node's dgram",
    also: [path.join(ROOT, 'media', 'srtp', 'native')],
  },
];
/** A cold build takes about 2 s here; this only stops a hung compiler. */
const BUILD_TIMEOUT_MS = 5 * 60 * 1000;

class Fault extends Error {}

/** Newest modification time of binding.gyp and src/* of `dir`, and of src/* of the `also` directories. */
function newestSource(dir, also = []) {
  const files = [path.join(dir, 'binding.gyp')];
  for (const d of [dir, ...also]) for (const name of fs.readdirSync(path.join(d, 'src'))) files.push(path.join(d, 'src', name));
  return Math.max(...files.map((f) => fs.statSync(f).mtimeMs));
}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** npm's own node-gyp: the one npm names in scripts, else the copy beside npm in node's prefix. */
function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  if (process.env.npm_execpath) candidates.push(path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  candidates.push(path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = candidates.find(isFile);
  if (!found) throw new Fault("npm's node-gyp not found");
  return found;
}

/** The directory above include/node of the running node (e.g. /usr for /usr/bin/node). */
function findNodeDir() {
  const dir = path.resolve(path.dirname(process.execPath), '..');
  if (!isFile(path.join(dir, 'include', 'node', 'node_api.h'))) throw new Fault(`node headers not found in ${path.join(dir, 'include', 'node')}`);
  if (!isFile(path.join(dir, 'include', 'node', 'openssl', 'evp.h'))) throw new Fault(`node's OpenSSL headers not found in ${path.join(dir, 'include', 'node', 'openssl')}`);
  return dir;
}

/** The most telling line of a failed build: the first compiler error, else node-gyp's error message. */
function faultLine(output) {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const line =
    lines.find((l) => / error: /.test(l)) ||
    lines.find((l) => l.startsWith('gyp ERR! stack Error:')) ||
    lines.filter((l) => l.startsWith('gyp ERR!')).pop() ||
    lines.pop() ||
    'no output';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function build(dir, target, also) {
  if (isFile(target) && fs.statSync(target).mtimeMs >= newestSource(dir, also)) return null; // up to date
  const gyp = findNodeGyp();
  const nodedir = findNodeDir();
  const started = Date.now();
  const run = spawnSync(process.execPath, [gyp, 'rebuild', '--release', `--nodedir=${nodedir}`], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: BUILD_TIMEOUT_MS,
    env: { ...process.env, npm_config_nodedir: nodedir },
  });
  if (run.error) throw new Fault(`node-gyp did not run: ${run.error.message}`);
  if (run.status !== 0) throw new Fault(`node-gyp rebuild failed (${run.signal || `exit ${run.status}`}): ${faultLine(`${run.stdout}\n${run.stderr}`)}`);
  if (!isFile(target)) throw new Fault(`node-gyp succeeded but ${path.relative(ROOT, target)} is missing`);
  // A quick load check, so a broken addon is reported here rather than found by the loader.
  const addon = { exports: {} };
  try {
    process.dlopen(addon, target);
  } catch (err) {
    throw new Fault(`the built addon does not load: ${err.message}`);
  }
  return Date.now() - started;
}

for (const addon of ADDONS) {
  const target = path.join(addon.dir, 'build', 'Release', `${addon.name}.node`);
  try {
    const ms = build(addon.dir, target, addon.also);
    if (ms !== null) console.log(`build-native: built ${path.relative(ROOT, target)} in ${(ms / 1000).toFixed(1)} s`);
  } catch (err) {
    const fault = err instanceof Fault ? err.message : `unexpected error: ${err && err.message ? err.message : String(err)}`;
    fs.rmSync(target, { force: true }); // a stale addon must not outlive the sources it was built from
    console.warn(`build-native: warning: ${addon.name} addon not built (${fault}); ${addon.without}`);
  }
}
process.exitCode = 0;
