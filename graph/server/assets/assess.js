// The assessment page: one composite (ranked by points or score, in classes) drawn as a table and four
// charts, all from the public GraphQL API. The view's state is the query string. Each chart's data is
// exactly the API's numbers (the browser test reads them back from the charts).
'use strict';

const Q = {
  schemes: `{ schemes { code name rankBy classes } }`,
  composite: `query($in: CompositeInput!) { composite(input: $in) { rankBy
    indicators { indicator { code name } }
    entries { class { code } region { code name } score points rank tier
      breakdown { indicator { code } points contribution }
      departments { department earned } } } }`,
  robustness: `query($in: CompositeInput!) { robustness(input: $in, runs: 500, seed: 1) {
    entries { class { code } region { code name } nominalRank medianRank p05Rank p95Rank } } }`,
  history: `query($in: CompositeInput!, $from: Int!) { compositeHistory(input: $in, from: $from) { years
    regions { region { code name } years { year rank } } } }`,
};

const form = document.getElementById('controls');
const status = document.getElementById('status');
const tokenInput = document.getElementById('token');
const tokenKey = 'pacesetter:token';
tokenInput.value = sessionStorage.getItem(tokenKey) || '';
const charts = {
  breakdown: echarts.init(document.getElementById('breakdown-chart')),
  departments: echarts.init(document.getElementById('departments-chart')),
  robustness: echarts.init(document.getElementById('robustness-chart')),
  history: echarts.init(document.getElementById('history-chart')),
};
window.assessCharts = charts; // for the browser test, which reads the numbers back

async function gql(query, variables) {
  const h = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (tokenInput.value.trim()) h.Authorization = `Bearer ${tokenInput.value.trim()}`;
  const res = await fetch('/graphql', { method: 'POST', headers: h, body: JSON.stringify({ query, variables }) });
  if (res.status === 401) throw new Error('This API needs a (valid) bearer token: enter it in the Token field. 需要令牌');
  const body = await res.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

function state() {
  return Object.fromEntries(new URLSearchParams(location.search));
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

// An entry's label: its region, with its class when there are classes.
function entryLabel(e) {
  return e.class ? `${e.region.name} (${e.class.code})` : e.region.name;
}

function drawTable(c) {
  const table = document.getElementById('assess-table');
  const head = document.createElement('tr');
  for (const h of ['class 分类', 'region 地区', 'points 得分', 'score 指数', 'rank 名次', 'tier 等次']) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const rows = c.entries.map((e) => {
    const tr = document.createElement('tr');
    tr.dataset.region = e.region.code;
    tr.append(cell(e.class ? e.class.code : ''), cell(e.region.name), cell(e.points ?? '', 'num'), cell(e.score, 'num'),
      cell(e.rank, 'num'), cell(e.tier ?? '', 'num'));
    return tr;
  });
  table.replaceChildren(head, ...rows);
}

// The breakdown as stacked bars: one bar per entry, one stack per indicator, in the rank's unit (points
// under POINTS, contribution under SCORE).
function drawBreakdown(c) {
  const byPoints = c.rankBy === 'POINTS';
  const labels = c.entries.map(entryLabel);
  const series = c.indicators.map((ind, i) => ({
    name: ind.indicator.code, type: 'bar', stack: 'total',
    data: c.entries.map((e) => {
      const b = e.breakdown[i];
      return byPoints ? b.points : b.contribution;
    }),
  }));
  charts.breakdown.setOption({
    tooltip: { trigger: 'axis' }, legend: { type: 'scroll' }, grid: { left: 140, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'value', name: byPoints ? 'points' : 'contribution' },
    yAxis: { type: 'category', data: labels, inverse: true }, series,
  }, true);
}

// Points by department: one bar per entry, stacked by department.
function drawDepartments(c) {
  const names = [];
  for (const e of c.entries) for (const d of e.departments) if (!names.includes(d.department)) names.push(d.department);
  const series = names.map((n) => ({
    name: n, type: 'bar', stack: 'dept',
    data: c.entries.map((e) => { const d = e.departments.find((x) => x.department === n); return d ? d.earned : null; }),
  }));
  charts.departments.setOption({
    tooltip: { trigger: 'axis' }, legend: { type: 'scroll' }, grid: { left: 140, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'value', name: 'points' }, yAxis: { type: 'category', data: c.entries.map(entryLabel), inverse: true }, series,
  }, true);
}

// The robustness interval: an invisible bar up to p05 and a visible one from p05 to p95 (stacked), and the
// median as a dot.
function drawRobustness(r) {
  const labels = r.entries.map(entryLabel);
  charts.robustness.setOption({
    tooltip: { trigger: 'axis' }, legend: { data: ['p05–p95', 'median'] }, grid: { left: 140, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'value', name: 'rank', minInterval: 1 }, yAxis: { type: 'category', data: labels, inverse: true },
    series: [
      { name: 'p05', type: 'bar', stack: 'range', itemStyle: { color: 'transparent' }, data: r.entries.map((e) => e.p05Rank) },
      { name: 'p05–p95', type: 'bar', stack: 'range', data: r.entries.map((e) => e.p95Rank - e.p05Rank) },
      { name: 'median', type: 'scatter', data: r.entries.map((e) => e.medianRank) },
    ],
  }, true);
}

function drawHistory(h) {
  charts.history.setOption({
    tooltip: { trigger: 'axis' }, legend: { type: 'scroll' }, grid: { left: 50, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: h.years.map(String) }, yAxis: { type: 'value', inverse: true, name: 'rank', minInterval: 1 },
    series: h.regions.map((rh) => ({
      name: rh.region.code, type: 'line',
      data: h.years.map((y) => { const p = rh.years.find((x) => x.year === y); return p ? p.rank : null; }),
    })),
  }, true);
}

async function render() {
  document.body.dataset.ready = '';
  const s = state();
  const { schemes } = await gql(Q.schemes);
  const scheme = s.scheme || (schemes[0] && schemes[0].code);
  form.scheme.replaceChildren(...schemes.map((x) => new Option(`${x.name} (${x.code})`, x.code, false, x.code === scheme)));
  const year = Number(s.year) || 2024;
  form.year.value = year;
  form.rankBy.value = s.rankBy || 'POINTS';
  form.classes.value = s.classes || '';
  form.from.value = s.from || year - 4;
  const input = { year, scheme, rankBy: form.rankBy.value };
  if (form.classes.value.trim()) input.classes = form.classes.value.split(',').map((x) => x.trim()).filter(Boolean);
  const [c, r, h] = await Promise.all([gql(Q.composite, { in: input }), gql(Q.robustness, { in: input }),
    gql(Q.history, { in: input, from: Number(form.from.value) })]);
  drawTable(c.composite);
  drawBreakdown(c.composite);
  drawDepartments(c.composite);
  drawRobustness(r.robustness);
  drawHistory(h.compositeHistory);
  status.textContent = `${c.composite.entries.length} regions scored, ranked by ${c.composite.rankBy}.`;
  document.body.dataset.ready = 'true';
}

form.addEventListener('change', () => {
  const p = new URLSearchParams();
  for (const k of ['scheme', 'year', 'rankBy', 'classes', 'from']) if (form[k].value) p.set(k, form[k].value);
  history.replaceState(null, '', `?${p}`);
  run();
});
tokenInput.addEventListener('change', () => sessionStorage.setItem(tokenKey, tokenInput.value.trim()));

function run() {
  render().catch((err) => {
    status.textContent = err.message;
    document.body.dataset.ready = 'error';
  });
}
run();
