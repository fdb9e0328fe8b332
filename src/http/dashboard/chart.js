// The dashboard's two charts, drawn by hand so the page needs no chart library and works offline:
// drawLineChart, the hit-rate history on <canvas>, and drawCurveChart, the sizing advisor's predicted
// hit ratio against capacity as SVG (a few points per line, and its elements can be inspected in tests).

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

// The SVG namespace: a name, not an address; nothing is fetched from it.
const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes; `text` goes in as a text node, never as markup (render.js uses it too). */
function svgEl(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/**
 * Redraws `svg` as a chart of y (percent, 0-100) against x on a log-2 axis, so 0.25x, 0.5x, 1x, 2x
 * and 4x of a capacity are evenly spaced. `series`: [{ label, color, dashed, points: [[x, y]] }], drawn in order (later on top);
 * `marker`: { x, y, label }, a dot with a label (the current point); `xLabel(x)` names a tick.
 */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
function drawCurveChart(svg, { series, marker, xLabel = (v) => String(v) }) {
  // Fixed viewBox units: the SVG scales to its box, so nothing is measured and resizing needs no redraw.
  const width = 360;
  const height = 180;
  // Room for a five-digit capacity centred under the first and last points.
  const pad = { left: 44, right: 24, top: 12, bottom: 34 };
  const xs = [...new Set(series.flatMap((s) => s.points.map(([px]) => px)))].sort((a, b) => a - b);
  if (xs.length === 0) {
    svg.replaceChildren();
    return;
  }
  const lo = Math.log2(xs[0]);
  const hi = Math.log2(xs[xs.length - 1]);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (v) => pad.left + (hi === lo ? plotW / 2 : ((Math.log2(v) - lo) / (hi - lo)) * plotW);
  const y = (v) => pad.top + (1 - Math.min(100, Math.max(0, v)) / 100) * plotH;
  const round = (v) => Math.round(v * 10) / 10;

  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  const parts = [];
  for (let i = 0; i <= 4; i++) {
    const py = round(y(i * 25));
    parts.push(
      svgEl('line', { class: 'grid', x1: pad.left, x2: pad.left + plotW, y1: py, y2: py }),
      svgEl(
        'text',
        { class: 'axis', x: pad.left - 6, y: py, 'text-anchor': 'end', 'dominant-baseline': 'middle' },
        `${i * 25}%`,
      ),
    );
  }
  for (const v of xs) {
    const lines = xLabel(v).split('\n');
    lines.forEach((line, i) =>
      parts.push(
        svgEl(
          'text',
          { class: 'axis', x: round(x(v)), y: pad.top + plotH + 14 + i * 12, 'text-anchor': 'middle' },
          line,
        ),
      ),
    );
  }
  for (const s of series) {
    const line = svgEl('polyline', {
      class: 'curve',
      fill: 'none',
      stroke: s.color,
      'stroke-width': 2,
      'stroke-linejoin': 'round',
      points: s.points.map(([px, py]) => `${round(x(px))},${round(y(py))}`).join(' '),
    });
    if (s.dashed) line.setAttribute('stroke-dasharray', '5 4');
    line.dataset.series = s.label;
    line.append(svgEl('title', {}, s.label));
    parts.push(line);
    for (const [px, py] of s.points) {
      parts.push(
        svgEl('circle', { class: 'curve-point', cx: round(x(px)), cy: round(y(py)), r: 2.5, fill: s.color }),
      );
    }
  }
  if (marker) {
    const dot = svgEl('circle', { class: 'marker', cx: round(x(marker.x)), cy: round(y(marker.y)), r: 5 });
    dot.append(svgEl('title', {}, marker.label));
    parts.push(dot);
  }
  svg.replaceChildren(...parts);
}
