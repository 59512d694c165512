/**
 * The in-kernel forwarder's building blocks that need no privileges: the eBPF assembler's encoding
 * (Linux instruction-set.rst), the RFC 1624 checksum differences the rules carry, and the reasons
 * the forwarder gives when it cannot be used.
 */
import assert from 'node:assert/strict';
import { Assembler, FP, R0, R1, R2 } from '../../../media/relay/kernel/asm';
import { KernelForwarder } from '../../../media/relay/kernel/forwarder';
import { forwarderProgram } from '../../../media/relay/kernel/program';
import { checksumDiff } from '../../../media/relay/kernel/rules';

/** RFC 1071 Internet checksum of `data` (big-endian words), as the header carries it. */
function internetChecksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i += 2) sum += (data[i]! << 8) | (data[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The kernel's csum_replace_by_diff on a checksum field as it lies in memory (little-endian host). */
function replaceByDiff(fieldBigEndian: number, diff: number): number {
  const inMemory = ((fieldBigEndian & 0xff) << 8) | (fieldBigEndian >>> 8); // the u16 a little-endian host reads
  let sum = diff + (~inMemory & 0xffff);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const folded = ~sum & 0xffff;
  return ((folded & 0xff) << 8) | (folded >>> 8);
}

describe('in-kernel forwarder: assembler, checksums, availability', () => {
  it('encodes instructions as the kernel reads them and resolves jumps', () => {
    const code = new Assembler().movImm(R0, -1).jumpImm('eq', R1, 0, 'end').load(4, R2, R1, 76).store(8, FP, -16, R2).label('end').exit().assemble();
    assert.equal(Buffer.from(code).toString('hex'), [
      'b7000000ffffffff', // mov r0, -1
      '1501020000000000', // if r1 == 0 goto +2
      '6112' + '4c00' + '00000000', // r2 = *(u32 *)(r1 + 76)
      '7b2a' + 'f0ff' + '00000000', // *(u64 *)(r10 - 16) = r2
      '9500000000000000', // exit
    ].join(''));
    assert.throws(() => new Assembler().jumpImm('eq', R0, 0, 'nowhere').assemble(), /undefined label nowhere/);
    assert.throws(() => new Assembler().label('x').label('x'), /defined twice/);
    assert.equal(forwarderProgram(3).length % 8, 0);
  });

  it('carries checksum differences that give the checksum of the rewritten header (RFC 1624)', () => {
    const ip = Buffer.from('4500003c1c4640004011' + '0000' + '0a000002' + '7f000001', 'hex');
    ip.writeUInt16BE(internetChecksum(ip), 10);
    const rewritten = Buffer.from(ip);
    Buffer.from('7f0000050a090807', 'hex').copy(rewritten, 12);
    const diff = checksumDiff(ip.subarray(12, 20), rewritten.subarray(12, 20));
    const updated = replaceByDiff(ip.readUInt16BE(10), diff);
    rewritten.writeUInt16BE(0, 10);
    assert.equal(updated, internetChecksum(rewritten));
    // Ports (a UDP header's first four octets) the same way, and a no-op change is a no-op.
    const ports = Buffer.from('75309c40', 'hex');
    const newPorts = Buffer.from('c3500fa1', 'hex');
    const udp = Buffer.concat([ports, Buffer.from('0010', 'hex'), Buffer.alloc(2), Buffer.from('deadbeefcafe0102', 'hex')]);
    const field = internetChecksum(udp);
    const udp2 = Buffer.concat([newPorts, udp.subarray(4)]);
    assert.equal(replaceByDiff(field, checksumDiff(ports, newPorts)), internetChecksum(udp2));
    assert.equal(replaceByDiff(field, checksumDiff(ports, ports)), field);
  });

  it('says why it cannot be used rather than throwing', () => {
    assert.match(String(KernelForwarder.open('0.0.0.0', 16)), /not one IPv4 address/);
    assert.match(String(KernelForwarder.open('::1', 16)), /not one IPv4 address/);
    assert.match(String(KernelForwarder.open('192.0.2.77', 16)), /no interface has 192\.0\.2\.77/);
  });
});
