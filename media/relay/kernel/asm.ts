/**
 * A small eBPF assembler (Linux Documentation/bpf/standardization/instruction-set.rst): the
 * instructions the forwarder (program.ts) uses, with named jump targets resolved on `assemble()`.
 * It exists so that the program needs no BPF toolchain (clang/llc) on the machine that runs the
 * gateway; the kernel's verifier checks whatever it produces before it runs.
 */

/** eBPF registers: r0 return value, r1–r5 helper arguments, r6–r9 callee-saved, r10 frame pointer. */
export const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5, R6 = 6, R7 = 7, R8 = 8, R9 = 9, FP = 10;

export type Size = 1 | 2 | 4 | 8;
type Jump = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

const SIZE: Record<Size, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };
const JUMP: Record<Jump, number> = { eq: 0x10, gt: 0x20, ge: 0x30, ne: 0x50, lt: 0xa0, le: 0xb0 };
const LDX = 0x01, ST = 0x02, STX = 0x03, JMP = 0x05, ALU64 = 0x07;
const MEM = 0x60, ATOMIC = 0xc0, K = 0x00, X = 0x08;
const ADD = 0x00, SUB = 0x10, AND = 0x50, MOV = 0xb0;
const CALL = 0x80, EXIT = 0x90;
/** BPF_LD | BPF_DW | BPF_IMM, and its source marker for "imm is a map's file descriptor". */
const LD_IMM64 = 0x18, PSEUDO_MAP_FD = 1;

interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** A jump's target, resolved to `off` by assemble(). */
  target?: string;
}

export class Assembler {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();

  private emit(code: number, dst: number, src: number, off: number, imm: number, target?: string): this {
    this.insns.push({ code, dst, src, off, imm, target });
    return this;
  }

  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  /** dst = src */
  mov(dst: number, src: number): this { return this.emit(ALU64 | MOV | X, dst, src, 0, 0); }
  /** dst = imm (sign-extended 32-bit) */
  movImm(dst: number, imm: number): this { return this.emit(ALU64 | MOV | K, dst, 0, 0, imm); }
  addImm(dst: number, imm: number): this { return this.emit(ALU64 | ADD | K, dst, 0, 0, imm); }
  sub(dst: number, src: number): this { return this.emit(ALU64 | SUB | X, dst, src, 0, 0); }
  andImm(dst: number, imm: number): this { return this.emit(ALU64 | AND | K, dst, 0, 0, imm); }
  /** dst = *(size *)(src + off) */
  load(size: Size, dst: number, src: number, off: number): this { return this.emit(LDX | MEM | SIZE[size], dst, src, off, 0); }
  /** *(size *)(dst + off) = src */
  store(size: Size, dst: number, off: number, src: number): this { return this.emit(STX | MEM | SIZE[size], dst, src, off, 0); }
  /** *(size *)(dst + off) = imm */
  storeImm(size: Size, dst: number, off: number, imm: number): this { return this.emit(ST | MEM | SIZE[size], dst, 0, off, imm); }
  /** *(u64 *)(dst + off) += src, atomically (BPF_ATOMIC | BPF_ADD). */
  atomicAdd64(dst: number, off: number, src: number): this { return this.emit(STX | ATOMIC | SIZE[8], dst, src, off, ADD); }
  /** dst = the map whose descriptor is `fd` (a two-slot instruction). */
  loadMap(dst: number, fd: number): this {
    this.emit(LD_IMM64, dst, PSEUDO_MAP_FD, 0, fd);
    return this.emit(0, 0, 0, 0, 0);
  }
  jumpImm(op: Jump, dst: number, imm: number, target: string): this { return this.emit(JMP | JUMP[op] | K, dst, 0, 0, imm, target); }
  jumpReg(op: Jump, dst: number, src: number, target: string): this { return this.emit(JMP | JUMP[op] | X, dst, src, 0, 0, target); }
  call(helper: number): this { return this.emit(JMP | CALL, 0, 0, 0, helper); }
  exit(): this { return this.emit(JMP | EXIT, 0, 0, 0, 0); }

  /** The program as the kernel takes it: 8 octets per instruction, little-endian (x86-64, arm64). */
  assemble(): Uint8Array {
    const out = Buffer.alloc(this.insns.length * 8);
    this.insns.forEach((insn, i) => {
      let off = insn.off;
      if (insn.target !== undefined) {
        const at = this.labels.get(insn.target);
        if (at === undefined) throw new Error(`jump to undefined label ${insn.target}`);
        off = at - (i + 1);
      }
      out[i * 8] = insn.code;
      out[i * 8 + 1] = (insn.src << 4) | insn.dst;
      out.writeInt16LE(off, i * 8 + 2);
      out.writeInt32LE(insn.imm, i * 8 + 4);
    });
    return out;
  }
}
