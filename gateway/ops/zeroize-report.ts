/**
 * The text report `ciphergate zeroize` prints: what was (or, in a dry run, would be) erased, with
 * path, size and passes; what could not be, with the reason. Paths are printed with control
 * characters escaped (a file name could otherwise forge report lines); contents never appear.
 */
import { escapeControl } from '../log/logger';
import type { ZeroizeReport } from './zeroize';

export function formatZeroizeReport(report: ZeroizeReport): string[] {
  const lines: string[] = [];
  const method = report.passes === 3 ? '3 passes: zeros, ones, zeros, fsync after each' : '1 pass of zeros (NIST SP 800-88 Clear)';
  lines.push(`${report.dryRun ? 'Dry run, nothing is changed' : 'Zeroize'}: dataDir ${show(report.dataDir)} (${method})`);
  lines.push(`gateway: ${gatewayLine(report)}`);

  if (report.dryRun) {
    if (report.planned.length === 0) lines.push('nothing to erase');
    for (const t of report.planned) {
      const what = t.kind === 'file' ? `${t.size} bytes` : t.kind === 'link' ? 'symbolic link (removed, not followed)' : 'special file (removed)';
      lines.push(`would erase  ${t.category.padEnd(14)} ${show(t.path)}  ${what}`);
    }
  } else {
    for (const e of report.erased) {
      const what = e.kind === 'file' ? `${e.bytes} bytes, ${e.passes} passes` : e.kind === 'directory' ? 'directory removed' : `${e.kind} removed`;
      lines.push(`erased       ${e.category.padEnd(14)} ${show(e.path)}  ${what}${e.note === undefined ? '' : ` (${e.note})`}`);
    }
  }
  for (const f of report.failed) lines.push(`NOT ERASED   ${f.category.padEnd(14)} ${show(f.path)}: ${f.reason}`);
  for (const n of report.notes) lines.push(`note: ${show(n)}`);

  const files = report.erased.filter((e) => e.kind === 'file');
  const bytes = files.reduce((sum, e) => sum + e.bytes, 0);
  const seconds = (report.elapsedMs / 1000).toFixed(2);
  if (report.dryRun) {
    lines.push(`${report.planned.length} target(s); run without --dry-run to erase them.`);
  } else if (report.erased.length === 0 && report.failed.length === 0) {
    lines.push('Nothing left to erase.');
  } else {
    lines.push(`${files.length} file(s), ${formatBytes(bytes)} overwritten ${report.passes}x in ${seconds} s; ` +
      (report.ok ? 'nothing remains.' : `${report.failed.length} item(s) NOT erased (listed above).`));
  }
  return lines;
}

function gatewayLine(report: ZeroizeReport): string {
  const g = report.gateway;
  switch (g.outcome) {
    case 'not-running': return 'not running';
    case 'running': return `running as pid ${g.pid} (would be stopped: SIGTERM, then SIGKILL)`;
    case 'stopped': return `pid ${g.pid ?? '?'} stopped (SIGTERM) in ${(g.elapsedMs / 1000).toFixed(2)} s`;
    case 'killed': return `pid ${g.pid ?? '?'} killed (SIGKILL after the SIGTERM wait)`;
    case 'failed': return `pid ${g.pid ?? '?'} could NOT be stopped: ${g.reason ?? 'unknown'}`;
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

function show(text: string): string {
  return escapeControl(text);
}
