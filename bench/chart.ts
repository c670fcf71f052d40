// bench/results.svg: simulated time under EC2's throttling against resource count, log-log.

export interface Series {
  label: string;
  color: string;
  points: { resources: number; seconds: number }[];
}

const WIDTH = 720;
const HEIGHT = 420;
const MARGIN = { left: 80, right: 30, top: 50, bottom: 60 };

export function renderChart(title: string, series: Series[]): string {
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => Math.log10(p.resources));
  const ys = all.map((p) => Math.log10(Math.max(p.seconds, 0.1)));
  const [xMin, xMax] = [Math.floor(Math.min(...xs)), Math.ceil(Math.max(...xs))];
  const [yMin, yMax] = [Math.floor(Math.min(...ys)), Math.ceil(Math.max(...ys))];
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (v: number) => MARGIN.left + ((Math.log10(v) - xMin) / (xMax - xMin || 1)) * plotW;
  const y = (v: number) =>
    MARGIN.top + plotH - ((Math.log10(Math.max(v, 0.1)) - yMin) / (yMax - yMin || 1)) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">${title}</text>`,
  ];
  for (let e = xMin; e <= xMax; e++) {
    const px = x(10 ** e);
    parts.push(`<line x1="${px}" y1="${MARGIN.top}" x2="${px}" y2="${MARGIN.top + plotH}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${px}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${(10 ** e).toLocaleString("en-US")}</text>`,
    );
  }
  for (let e = yMin; e <= yMax; e++) {
    const py = y(10 ** e);
    parts.push(`<line x1="${MARGIN.left}" y1="${py}" x2="${MARGIN.left + plotW}" y2="${py}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${MARGIN.left - 8}" y="${py + 4}" text-anchor="end">${10 ** e >= 1 ? (10 ** e).toLocaleString("en-US") : 10 ** e} s</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 15}" text-anchor="middle">resources (snapshots + 10% AMIs), log scale</text>`,
  );
  parts.push(
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">simulated seconds under EC2 throttling, log scale</text>`,
  );
  series.forEach((s, i) => {
    const path = s.points
      .map((p, j) => `${j === 0 ? "M" : "L"}${x(p.resources).toFixed(1)},${y(p.seconds).toFixed(1)}`)
      .join(" ");
    parts.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2.5"/>`);
    for (const p of s.points) {
      parts.push(
        `<circle cx="${x(p.resources).toFixed(1)}" cy="${y(p.seconds).toFixed(1)}" r="4" fill="${s.color}"/>`,
      );
      parts.push(
        `<text x="${(x(p.resources) + 6).toFixed(1)}" y="${(y(p.seconds) - 8).toFixed(1)}" fill="${s.color}">${p.seconds < 10 ? p.seconds.toFixed(1) : Math.round(p.seconds).toLocaleString("en-US")} s</text>`,
      );
    }
    parts.push(
      `<rect x="${MARGIN.left + 12}" y="${MARGIN.top + 10 + i * 20}" width="14" height="4" fill="${s.color}"/>`,
    );
    parts.push(`<text x="${MARGIN.left + 32}" y="${MARGIN.top + 16 + i * 20}">${s.label}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
