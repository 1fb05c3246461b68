// A hand-written SVG bar chart: server CPU µs per request, GET /me and POST /login side by
// side (each panel on its own scale), a bar per variant at its median, whiskers min–max.

const escape = (text) =>
  String(text).replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );

/** An axis for 0…value: a round tick step (1, 2, 2.5 or 5 × 10^k) and at most 5 ticks. */
function axis(value) {
  if (!(value > 0)) return { max: 1, step: 0.25 };
  const raw = value / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return { max: Math.ceil(value / step - 1e-9) * step, step };
}

/**
 * rows: [{ label, kind: 'bare' | 'strongroom' | 'other', me: {median,min,max}, login: {...} }]
 */
export function cpuChart(rows, { title, subtitle }) {
  const longest = Math.max(...rows.map((row) => row.label.length));
  const labelWidth = Math.max(200, Math.ceil(longest * 7.4) + 24);
  const panelWidth = 330;
  const gap = 40;
  const rowHeight = 24;
  const top = 92;
  const width = labelWidth + 2 * panelWidth + gap + 30;
  const height = top + rows.length * rowHeight + 40;
  const colours = { bare: '#9aa0a6', strongroom: '#1a73e8', other: '#e8710a' };
  const panels = [
    { key: 'me', title: 'GET /me (authenticated read)', x: labelWidth },
    { key: 'login', title: 'POST /login (new session)', x: labelWidth + panelWidth + gap },
  ];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="600">${escape(title)}</text>`,
    `<text x="16" y="42" fill="#5f6368">${escape(subtitle)}</text>`,
  ];
  let legendX = 16;
  for (const [kind, text] of [
    ['strongroom', 'Strongroom'],
    ['other', 'other libraries'],
    ['bare', 'bare framework (no sessions)'],
  ]) {
    out.push(
      `<rect x="${legendX}" y="50" width="10" height="10" fill="${colours[kind]}" rx="2"/>`,
      `<text x="${legendX + 14}" y="59" fill="#5f6368">${escape(text)}</text>`,
    );
    legendX += 28 + text.length * 6.6;
  }
  for (const panel of panels) {
    const values = rows.flatMap((row) => [row[panel.key]?.max, row[panel.key]?.median]);
    const { max, step } = axis(Math.max(0, ...values.filter((v) => Number.isFinite(v))));
    const scale = (v) => (v / max) * (panelWidth - 60);
    out.push(
      `<text x="${panel.x}" y="${top - 18}" font-weight="600">${escape(panel.title)}</text>`,
    );
    for (let t = 0; t <= Math.round(max / step); t++) {
      const value = t * step;
      const x = panel.x + scale(value);
      out.push(
        `<line x1="${x.toFixed(1)}" y1="${top - 8}" x2="${x.toFixed(1)}" y2="${top + rows.length * rowHeight}" stroke="#e0e0e0"/>`,
        `<text x="${x.toFixed(1)}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#5f6368">${+value.toPrecision(3)}</text>`,
      );
    }
    out.push(
      `<text x="${panel.x + (panelWidth - 60) / 2}" y="${top + rows.length * rowHeight + 32}" text-anchor="middle" fill="#5f6368">server CPU µs per request</text>`,
    );
    rows.forEach((row, index) => {
      const stats = row[panel.key];
      const y = top + index * rowHeight;
      if (!stats || !Number.isFinite(stats.median)) {
        out.push(`<text x="${panel.x + 4}" y="${y + 15}" fill="#9aa0a6">n/a</text>`);
        return;
      }
      const w = Math.max(1, scale(stats.median));
      out.push(
        `<rect x="${panel.x}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${colours[row.kind]}" rx="2"/>`,
      );
      if (Number.isFinite(stats.min) && stats.max > stats.min) {
        const x1 = panel.x + scale(stats.min);
        const x2 = panel.x + scale(stats.max);
        const mid = y + rowHeight / 2;
        out.push(
          `<path d="M${x1.toFixed(1)} ${mid}H${x2.toFixed(1)}M${x1.toFixed(1)} ${mid - 4}V${mid + 4}M${x2.toFixed(1)} ${mid - 4}V${mid + 4}" stroke="#202124" stroke-width="1"/>`,
        );
      }
      const labelX = panel.x + Math.max(w, scale(stats.max ?? stats.median)) + 5;
      out.push(
        `<text x="${labelX.toFixed(1)}" y="${y + 16}" fill="#202124">${stats.median >= 100 ? stats.median.toFixed(0) : stats.median.toFixed(1)}</text>`,
      );
    });
  }
  rows.forEach((row, index) => {
    const y = top + index * rowHeight;
    if (index % 2 === 1)
      out.splice(
        2,
        0,
        `<rect x="8" y="${y}" width="${width - 16}" height="${rowHeight}" fill="#f8f9fa"/>`,
      );
    out.push(
      `<text x="${labelWidth - 12}" y="${y + 16}" text-anchor="end"${row.kind === 'strongroom' ? ' font-weight="600"' : ''} fill="#202124">${escape(row.label)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
