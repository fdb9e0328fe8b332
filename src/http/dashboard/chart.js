// A small time-series line chart on <canvas>, for the dashboard's hit-rate history. Drawn by hand
// (about a hundred lines) so the page needs no chart library and works offline.
// Exposes one global, drawLineChart(canvas, options), used by app.js.

/** Colours for series, in order; twelve distinct ones, as many as the demo has caches. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
const CHART_COLORS = [
  '#2f6fed',
  '#1f9d63',
  '#d9822b',
  '#8e4ec6',
  '#d14343',
  '#0e9aa7',
  '#b5892e',
  '#5b6478',
  '#e05fa0',
  '#6aa84f',
  '#3d85c6',
  '#a61c00',
];

/**
 * Draws series of [timeMs, value|null] points (null leaves a gap) between xMin and xMax, with the
 * y axis fixed to [yMin, yMax]. Sizes the backing store for the device pixel ratio so lines stay sharp.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
function drawLineChart(canvas, { series, xMin, xMax, yMin = 0, yMax = 100, yFormat = (v) => `${v}%` }) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const pad = { left: 44, right: 12, top: 10, bottom: 24 };
  const plotW = Math.max(1, width - pad.left - pad.right);
  const plotH = Math.max(1, height - pad.top - pad.bottom);
  const x = (t) => pad.left + ((t - xMin) / Math.max(1, xMax - xMin)) * plotW;
  const y = (v) => pad.top + (1 - (v - yMin) / (yMax - yMin)) * plotH;

  // Grid and y labels.
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#6b7385';
  ctx.strokeStyle = '#eceef3';
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    const py = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, py);
    ctx.lineTo(pad.left + plotW, py);
    ctx.stroke();
    ctx.fillText(yFormat(v), pad.left - 6, py);
  }

  // Time labels: how long ago, at a step that suits the span.
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const spanS = (xMax - xMin) / 1000;
  const stepS = spanS <= 120 ? 15 : spanS <= 360 ? 60 : 120;
  for (let ago = 0; ago <= spanS; ago += stepS) {
    const label =
      ago === 0
        ? 'now'
        : ago < 60
          ? `-${ago}s`
          : `-${Math.floor(ago / 60)}m${ago % 60 ? ` ${ago % 60}s` : ''}`;
    ctx.fillText(label, x(xMax - ago * 1000), pad.top + plotH + 6);
  }

  // Series: a line through consecutive non-null points, plus a dot on the latest value.
  ctx.lineWidth = 2;
  ctx.lineJoin = 'round';
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.fillStyle = s.color;
    ctx.beginPath();
    let drawing = false;
    let last;
    for (const [t, v] of s.points) {
      if (v === null || t < xMin) {
        drawing = false;
        continue;
      }
      const px = x(t);
      const py = y(Math.min(yMax, Math.max(yMin, v)));
      if (drawing) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      drawing = true;
      last = [px, py];
    }
    ctx.stroke();
    if (last) {
      ctx.beginPath();
      ctx.arc(last[0], last[1], 3, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}
