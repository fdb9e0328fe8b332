// Number, size and duration formatting for the dashboard, in one place so every cell reads alike.
// Inlined into the page before render.js, which uses the `fmt` namespace.

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- used by the files inlined after this one
const fmt = (() => {
  const intFmt = new Intl.NumberFormat('en-US');
  const fmtInt = (n) => (Number.isFinite(n) ? intFmt.format(Math.round(n)) : '–');
  const fmtPct = (n) => (Number.isFinite(n) ? `${n.toFixed(1)}%` : '–');
  const fmtRate = (n) => (Number.isFinite(n) ? (n >= 100 ? fmtInt(n) : n.toFixed(1)) : '–');

  function fmtBytes(n) {
    if (!Number.isFinite(n)) return '–';
    const units = ['B', 'KB', 'MB', 'GB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
  }

  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return 'no expiry';
    if (!Number.isFinite(ms)) return '–';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
    const parts = (big, bigUnit, small, smallUnit) =>
      small > 0 ? `${big} ${bigUnit} ${small} ${smallUnit}` : `${big} ${bigUnit}`;
    if (ms < 3_600_000) return parts(Math.floor(ms / 60_000), 'min', Math.floor((ms % 60_000) / 1000), 's');
    if (ms < 86_400_000)
      return parts(Math.floor(ms / 3_600_000), 'h', Math.floor((ms % 3_600_000) / 60_000), 'min');
    return parts(Math.floor(ms / 86_400_000), 'd', Math.floor((ms % 86_400_000) / 3_600_000), 'h');
  }

  function fmtMs(v) {
    return Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : '–';
  }

  return { int: fmtInt, pct: fmtPct, rate: fmtRate, bytes: fmtBytes, duration: fmtDuration, ms: fmtMs };
})();
