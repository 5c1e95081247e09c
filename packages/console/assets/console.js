// The console's page script. Plain DOM, no build step; every value from the server is set as
// text (never as HTML), so stored names and errors cannot inject markup.
const HEADERS = { 'content-type': 'application/json', 'x-tributary-console': '1' };

const $ = (selector) => document.querySelector(selector);

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('data-')) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, init = {}) {
  const response = await fetch(`/api${path}`, { ...init, headers: { ...HEADERS, ...init.headers } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');
const ms = (value) =>
  value === null || value === undefined
    ? ''
    : value < 1000
      ? `${value} ms`
      : `${(value / 1000).toFixed(1)} s`;

// ---- connectors ------------------------------------------------------------------------------

let connectors = [];

function progressCell(row) {
  const live = row.live;
  let percent = null;
  let label = '';
  if (live && (live.state === 'running' || live.state === 'finished')) {
    percent = live.percent;
    label =
      percent !== null
        ? `${percent}%`
        : live.listing
          ? `listing: ${live.done} documents so far`
          : `${live.done} documents`;
    if (live.state === 'finished' && live.status && live.status !== 'success') label += ` (${live.status})`;
  } else if (live && live.state === 'queued') {
    label = 'queued';
  } else if (live && live.state === 'cancelled') {
    label = 'cancelled';
  } else if (row.running) {
    // A run on another worker: its row's counts and the progress its heartbeat stored.
    const progress = row.running.progress;
    if (progress?.total > 0) percent = Math.min(99, Math.floor((row.running.done / progress.total) * 100));
    label =
      progress?.listing && row.running.done === 0
        ? `listing: ${progress.listed} documents so far`
        : `${row.running.done} documents${progress?.listing ? ` (${progress.listed} listed)` : ''}`;
  }
  const bar = el('div', { class: 'bar' });
  bar.style.width = `${percent ?? 0}%`;
  return el(
    'div',
    {
      class: 'progress',
      'data-testid': `progress-${row.id}`,
      'data-percent': percent === null ? '' : String(percent),
    },
    bar,
    el('span', { class: 'label' }, label),
  );
}

function statusOf(row) {
  if (row.live?.state === 'queued') return 'queued';
  if (row.running || row.live?.state === 'running') return 'running';
  return row.lastSyncStatus ?? 'never synced';
}

function renderConnectors() {
  const body = $('#connectors tbody');
  body.replaceChildren(
    ...connectors.map((row) => {
      const status = statusOf(row);
      const syncButton = el('button', { type: 'button', 'data-testid': `sync-${row.id}` }, 'Sync now');
      syncButton.addEventListener('click', () => syncNow(row.id, syncButton));
      const jobId =
        row.live && (row.live.state === 'queued' || row.live.state === 'running') ? row.live.jobId : null;
      const cancelButton = el(
        'button',
        { type: 'button', 'data-testid': `cancel-${row.id}`, disabled: !jobId },
        'Cancel',
      );
      cancelButton.addEventListener('click', () => cancel(jobId, cancelButton));
      const statusCell = el(
        'td',
        {},
        el('span', { class: `badge ${status}`, 'data-testid': `status-${row.id}` }, status),
      );
      if (row.lastError && status === 'failed')
        statusCell.append(el('div', { class: 'error' }, row.lastError));
      return el(
        'tr',
        { 'data-testid': `connector-${row.id}`, 'data-name': row.name },
        el('td', {}, row.name),
        el('td', {}, row.type),
        el('td', { class: 'muted' }, row.orgId),
        statusCell,
        el('td', { 'data-testid': `documents-${row.id}` }, row.documents),
        el('td', {}, progressCell(row)),
        el('td', { class: 'muted' }, row.syncFrequency === 'manual' ? 'manual' : when(row.nextSyncAt)),
        el('td', {}, syncButton, ' ', cancelButton),
      );
    }),
  );
  $('#no-connectors').hidden = connectors.length > 0;
  // Organisations for the search playground, keeping the current choice.
  const select = $('#search select[name=orgId]');
  const current = select.value;
  const orgs = [...new Set(connectors.map((row) => row.orgId))];
  select.replaceChildren(...orgs.map((org) => el('option', { value: org }, org)));
  if (orgs.includes(current)) select.value = current;
}

async function syncNow(connectorId, button) {
  button.disabled = true;
  try {
    await api(`/connectors/${connectorId}/sync`, { method: 'POST', body: '{}' });
  } catch (error) {
    alert(error.message);
  } finally {
    button.disabled = false;
  }
}

async function cancel(jobId, button) {
  if (!jobId) return;
  button.disabled = true;
  try {
    await api(`/jobs/${jobId}/cancel`, { method: 'POST', body: '{}' });
  } catch (error) {
    alert(error.message);
  }
}

// ---- runs and the chart ---------------------------------------------------------------------

function stagesText(stages) {
  if (!stages) return '';
  return ['list', 'load', 'extract', 'embed', 'write']
    .filter((stage) => stages[stage])
    .map((stage) => `${stage} ${stages[stage].ms}`)
    .join(' · ');
}

const RUNS_PAGE = 25;
let runsShown = [];
let runsCursor = null;

function runRow(run) {
  return el(
    'tr',
    { 'data-testid': `run-${run.id}` },
    el('td', {}, run.connectorName ?? '(deleted)'),
    el('td', {}, when(run.startedAt)),
    el('td', {}, `${run.syncType} / ${run.mode}`),
    el('td', {}, el('span', { class: `badge ${run.status}` }, run.status)),
    el('td', {}, ms(run.durationMs)),
    el(
      'td',
      {},
      `${run.counts.synced} new · ${run.counts.updated} updated · ${run.counts.skipped} skipped · ${run.counts.failed} failed · ${run.counts.deleted} deleted`,
    ),
    el('td', { class: 'stages', 'data-testid': `stages-${run.id}` }, stagesText(run.stages)),
    el('td', { class: 'error' }, run.error ?? ''),
  );
}

// A page of runs, newest first; the way to the next (older) page comes in X-Next-Cursor.
async function fetchRuns(query) {
  const response = await fetch(`/api/runs?${query}`, { headers: HEADERS });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return { runs: body, cursor: response.headers.get('x-next-cursor') };
}

function renderRuns() {
  $('#runs tbody').replaceChildren(...runsShown.map(runRow));
  $('#older-runs').hidden = !runsCursor;
}

// Reloads the newest runs, as many as are shown (older pages the operator opened stay open).
async function refreshRuns() {
  const limit = Math.min(500, Math.max(RUNS_PAGE, runsShown.length));
  const page = await fetchRuns(new URLSearchParams({ limit: String(limit) }));
  runsShown = page.runs;
  runsCursor = page.cursor;
  renderRuns();
}

$('#older-runs').addEventListener('click', async (event) => {
  const button = event.currentTarget;
  if (!runsCursor) return;
  button.disabled = true;
  try {
    const page = await fetchRuns(new URLSearchParams({ limit: String(RUNS_PAGE), before: runsCursor }));
    runsShown = [...runsShown, ...page.runs];
    runsCursor = page.cursor;
    renderRuns();
  } catch (error) {
    alert(error.message);
  } finally {
    button.disabled = false;
  }
});

let chart;
async function refreshChart() {
  const points = await api('/history?days=30');
  const data = [
    points.map((p) => p.startedAt),
    points.map((p) => p.durationMs / 1000),
    points.map((p) => p.documents),
  ];
  const container = $('#chart');
  if (!window.uPlot) return;
  if (!chart) {
    chart = new window.uPlot(
      {
        width: Math.max(400, container.clientWidth || 800),
        height: 220,
        // One run would otherwise spread over years: keep at least an hour either side.
        scales: {
          x: {
            time: true,
            range: (_u, min, max) => [Math.min(min, max - 3600) - 600, Math.max(max, min + 3600) + 600],
          },
        },
        series: [
          {},
          { label: 'Duration (s)', stroke: '#5b9bd5', scale: 's', points: { show: true } },
          { label: 'Documents', stroke: '#e07b39', scale: 'docs', points: { show: true } },
        ],
        axes: [
          {},
          { scale: 's', label: 'seconds' },
          { scale: 'docs', side: 1, label: 'documents', grid: { show: false } },
        ],
      },
      data,
      container,
    );
  } else {
    chart.setData(data);
  }
  container.dataset.points = String(points.length);
}

// ---- live updates ---------------------------------------------------------------------------

let lastRunsKey = '';
function onConnectors(rows) {
  connectors = rows;
  renderConnectors();
  // Runs and the chart change when a run starts or ends, not with every document.
  const key = JSON.stringify(
    rows.map((row) => [row.id, row.lastSyncAt, row.running?.runId, row.live?.state]),
  );
  if (key !== lastRunsKey) {
    lastRunsKey = key;
    refreshRuns().catch(() => undefined);
    refreshChart().catch(() => undefined);
  }
}

function listen() {
  const events = new EventSource('/api/events');
  events.addEventListener('connectors', (event) => onConnectors(JSON.parse(event.data)));
  // EventSource reconnects by itself; a poll keeps the page current meanwhile.
  events.onerror = () => api('/connectors').then(onConnectors, () => undefined);
}

async function refreshHealth() {
  try {
    const response = await fetch('/healthz');
    const report = await response.json();
    $('#health').textContent = report.status;
    $('#health').className = `badge ${report.status}`;
  } catch {
    $('#health').textContent = 'unreachable';
    $('#health').className = 'badge down';
  }
}

// ---- forms ----------------------------------------------------------------------------------

$('#add-connector').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = $('#add-result');
  result.className = '';
  let config;
  try {
    config = JSON.parse(String(form.get('config') || '{}'));
  } catch {
    result.className = 'error';
    result.textContent = 'Config is not valid JSON';
    return;
  }
  try {
    const row = await api('/connectors', {
      method: 'POST',
      body: JSON.stringify({
        type: form.get('type'),
        name: form.get('name'),
        orgId: form.get('orgId'),
        syncFrequency: form.get('syncFrequency'),
        config,
      }),
    });
    result.textContent = `Added ${row.name} (${row.id})`;
    onConnectors(await api('/connectors'));
  } catch (error) {
    result.className = 'error';
    result.textContent = error.message;
  }
});

// The search snippet marks matched words with `**`: shown as <mark>, built from text nodes.
function snippet(text) {
  return el(
    'div',
    {},
    ...String(text)
      .split('**')
      .map((part, index) => (index % 2 === 1 ? el('mark', {}, part) : part)),
  );
}

$('#search').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const params = new URLSearchParams({
    orgId: form.get('orgId') ?? '',
    q: form.get('q') ?? '',
    mode: form.get('mode') ?? 'hybrid',
  });
  $('#search-error').textContent = '';
  try {
    const response = await api(`/search?${params}`);
    $('#hits').replaceChildren(
      ...response.hits.map((hit) => {
        const parts = [];
        if (hit.explanation.fullText) {
          const f = hit.explanation.fullText;
          parts.push(
            `full text: rank ${f.rank}, bm25 ${f.score.toFixed(3)} × weight ${f.weight} → ${f.contribution.toFixed(4)}`,
          );
        }
        if (hit.explanation.semantic) {
          const s = hit.explanation.semantic;
          parts.push(
            `vector: rank ${s.rank}, cosine ${s.cosineSimilarity.toFixed(3)} (${s.strategy}) × weight ${s.weight} → ${s.contribution.toFixed(4)}`,
          );
        }
        return el(
          'li',
          { 'data-testid': 'hit' },
          el(
            'div',
            { class: 'hit-title' },
            hit.title ?? '(untitled)',
            el('span', { class: 'muted' }, `  score ${hit.score.toFixed(4)}`),
          ),
          snippet(hit.snippet),
          el('div', { class: 'explain', 'data-testid': 'hit-explanation' }, hit.explanation.summary),
          ...parts.map((part) => el('div', { class: 'explain' }, part)),
        );
      }),
    );
    if (response.hits.length === 0) $('#hits').replaceChildren(el('li', { class: 'muted' }, 'No hits.'));
  } catch (error) {
    $('#search-error').textContent = error.message;
  }
});

// ---- start ----------------------------------------------------------------------------------

const meta = await api('/meta');
$('#worker').textContent = `worker ${meta.workerId} · embedder ${meta.embedder}`;
$('#add-connector select[name=type]').replaceChildren(
  ...meta.connectorTypes.map((t) => el('option', { value: t.type }, `${t.displayName} (${t.type})`)),
);
$('#add-connector input[name=orgId]').value = meta.suggestedOrgId;
onConnectors(await api('/connectors'));
listen();
refreshHealth();
setInterval(refreshHealth, 10_000);
