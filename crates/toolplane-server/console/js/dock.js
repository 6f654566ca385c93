// The AI dock: a chat over server-side runs. Each question starts a run
// (POST /console/conversation, which is POST /v1/runs with the session's
// earlier turns); its events stream in over SSE; tool calls and approvals
// show as cards; the server keeps the conversation, so a reload replays it.

import { h, fill, uid, announce, jsonBlock } from './dom.js';

let instance = null;
/** The dock, once started. */
export function dock() { return instance; }

const MODEL_KEY = 'toolplane.dock.model';

function fmtUsd(x) {
  if (typeof x !== 'number' || !isFinite(x)) return '';
  return x === 0 ? '$0' : x < 0.01 ? `$${x.toFixed(6)}` : `$${x.toFixed(4)}`;
}

function fmtMs(us) { return `${(us / 1000).toFixed(us < 10000 ? 1 : 0)} ms`; }

/** Reads an SSE response body: calls onEvent({event, id, data}) per event. */
async function readSse(resp, onEvent) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let ev = { event: 'message', id: null, data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (ev.data.length) onEvent({ event: ev.event, id: ev.id, data: ev.data.join('\n') });
        ev = { event: 'message', id: null, data: [] };
      } else if (!line.startsWith(':')) {
        const i = line.indexOf(':');
        const field = i < 0 ? line : line.slice(0, i);
        let val = i < 0 ? '' : line.slice(i + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'data') ev.data.push(val);
        else if (field === 'event') ev.event = val;
        else if (field === 'id') ev.id = val;
      }
    }
  }
}

class Turn {
  constructor(dockRef, input, runId) {
    this.dock = dockRef;
    this.runId = runId;
    this.nextSeq = 0;
    this.cards = [];
    this.approvals = new Map();
    this.answerText = '';
    this.status = h('p', { class: 'turn-status muted', role: 'status' });
    this.answer = h('div', { class: 'answer', 'aria-live': 'polite', 'aria-busy': 'true' });
    this.tools = h('div', { class: 'tool-cards' });
    this.meta = h('div', { class: 'meta' });
    this.el = h('li', { class: 'turn' },
      h('div', { class: 'ask' }, h('span', { class: 'sr-only' }, 'You asked: '), input),
      h('div', { class: 'reply' }, h('span', { class: 'sr-only' }, 'Reply: '), this.tools, this.answer, this.status, this.meta));
  }

  apply(v) {
    switch (v.type) {
      case 'step_started':
        this.status.textContent = `Step ${v.step}…`;
        break;
      case 'text_delta':
        this.answerText += v.text;
        this.answer.textContent = this.answerText;
        break;
      case 'tool_call_started': this.toolStarted(v.call); break;
      case 'tool_call_finished': this.toolFinished(v); break;
      case 'routing':
        // Which expert answered this step (and why), as soon as it answers.
        this.routing = [...(this.routing || []), v];
        if (v.expert) this.status.textContent = `Step ${v.step ?? ''}: ${v.expert} answering…`;
        break;
      case 'usage':
        this.usage = v.total;
        this.cost = v.cost_usd;
        break;
      case 'approval_required':
        for (const a of v.approvals || []) this.approvalCard(a);
        break;
      case 'answered':
        if (!this.answerText) { this.answerText = v.text; this.answer.textContent = v.text; }
        break;
      case 'stopped':
        this.status.textContent = `Stopped: ${String(v.cause).replace(/_/g, ' ')}.`;
        break;
      case 'paused':
        this.status.textContent = 'Waiting for your approval.';
        this.answer.setAttribute('aria-busy', 'false');
        break;
      case 'done':
        this.answer.setAttribute('aria-busy', 'false');
        if (v.answer && !this.answerText) { this.answerText = v.answer; this.answer.textContent = v.answer; }
        this.status.textContent = v.status === 'answered' ? '' : v.error ? `Failed: ${v.error}` : `Run ${v.status}.`;
        if (v.usage) this.usage = v.usage;
        if (typeof v.cost_usd === 'number') this.cost = v.cost_usd;
        break;
      case 'error':
        this.status.textContent = v.message;
        break;
      default:
        break;
    }
  }

  toolStarted(call) {
    let args = call.arguments;
    try { args = JSON.parse(call.arguments); } catch { /* shown as text */ }
    const state = h('span', { class: 'badge' }, 'running');
    const body = h('div', { class: 'card-body' }, h('h4', {}, 'Arguments'), jsonBlock(args, { summary: 'Arguments', open: true }));
    const el = h('details', { class: 'card tool-card', open: true },
      h('summary', {}, h('span', { class: 'kind' }, 'Tool'), ' ', h('code', {}, call.name), ' ', state), body);
    this.tools.appendChild(el);
    this.cards.push({ id: call.id, name: call.name, el, state, body, filled: false });
  }

  toolFinished(v) {
    const card = [...this.cards].reverse().find((c) => c.id === v.call_id && !c.finished);
    if (!card) return;
    card.finished = true;
    const ok = v.outcome === 'ok';
    card.state.textContent = `${ok ? 'ok' : v.outcome.replace(/_/g, ' ')} · ${fmtMs(v.duration_us)}`;
    card.state.className = `badge ${ok ? 'ok' : 'bad'}`;
    // The event carries the result (masked, at most 8 KiB): shown at once. A
    // call held for approval gets its result when it runs; a cut result is
    // replaced by the whole one when the run rests.
    if (typeof v.result !== 'string' || v.outcome === 'approval_required') return;
    const label = v.is_error ? 'Error' : 'Result';
    const preview = h('div', { class: 'result-preview' }, h('h4', {}, label),
      jsonBlock(v.result, { summary: label, open: true }),
      v.result_truncated ? h('p', { class: 'muted' }, 'Cut at 8 KiB; the whole result follows when the run rests.') : null);
    card.body.appendChild(preview);
    if (v.result_truncated) card.preview = preview;
    else card.filled = true;
  }

  approvalCard(a) {
    if (this.approvals.has(a.call.id)) return;
    let args = a.call.arguments;
    try { args = JSON.parse(a.call.arguments); } catch { /* text */ }
    const note = h('p', { class: 'error', role: 'alert' });
    const approve = h('button', { type: 'button', class: 'primary', onclick: () => this.decide(a.call.id, 'approve') }, 'Approve');
    const reject = h('button', { type: 'button', onclick: () => this.decide(a.call.id, 'reject') }, 'Reject');
    const buttons = h('div', { class: 'actions' }, approve, reject);
    const el = h('section', { class: 'card approval-card', 'aria-label': `Approval for ${a.call.name}` },
      h('h4', {}, 'Approval needed: ', h('code', {}, a.call.name)),
      h('p', {}, a.message),
      jsonBlock(args, { summary: 'Arguments' }), buttons, note);
    this.tools.appendChild(el);
    this.approvals.set(a.call.id, { el, buttons, note, decision: null });
    announce(`Approval needed for ${a.call.name}`);
    approve.focus();
  }

  async decide(callId, decision) {
    const entry = this.approvals.get(callId);
    entry.decision = decision;
    const waiting = [...this.approvals.values()].filter((x) => !x.decision && !x.done);
    fill(entry.buttons, h('p', { class: 'muted' }, decision === 'approve' ? 'Approved.' : 'Rejected.'));
    if (waiting.length) return;
    const decisions = [...this.approvals.entries()].filter(([, x]) => !x.done)
      .map(([id, x]) => ({ call_id: id, decision: x.decision }));
    try {
      await this.dock.api.post(`/v1/runs/${encodeURIComponent(this.runId)}/approvals`, { decisions });
      for (const x of this.approvals.values()) x.done = true;
      this.answer.setAttribute('aria-busy', 'true');
      this.status.textContent = 'Resuming…';
      this.dock.follow(this);
    } catch (e) {
      entry.note.textContent = e.message;
      for (const x of this.approvals.values()) x.decision = null;
    }
  }

  /** Fills in what the events do not carry: results, expert, router decision, totals. */
  details(d) {
    // Matched from the end: a call held for approval shows twice (asked, then run) but has one result.
    const used = new Set();
    const results = d.tool_results || [];
    for (const card of [...this.cards].reverse()) {
      let i = results.length - 1;
      while (i >= 0 && (used.has(i) || results[i].call_id !== card.id)) i -= 1;
      if (i < 0) continue;
      used.add(i);
      // Filled from its tool_call_finished event already: the result is taken, nothing to add.
      if (card.filled) continue;
      const r = results[i];
      card.filled = true;
      if (card.preview) { card.preview.remove(); card.preview = null; }
      card.body.appendChild(h('h4', {}, r.is_error ? 'Error' : 'Result'));
      card.body.appendChild(jsonBlock(r.content, { summary: r.is_error ? 'Error' : 'Result', open: true }));
    }
    if (d.status === 'paused') for (const a of d.pending_approvals || []) this.approvalCard(a);
    const u = d.usage || this.usage || {};
    const bits = [];
    const routed = [...(this.routing || [])].reverse().find((r) => r.expert);
    if (!d.expert && routed) d.expert = { id: routed.expert, provider: routed.provider || '?', model: routed.model || '?' };
    if (d.expert) bits.push(h('span', { class: 'expert' }, 'Answered by ', h('strong', {}, d.expert.id), ` (${d.expert.provider} · ${d.expert.model})`));
    else if (d.status === 'answered') bits.push(h('span', {}, 'Expert unknown (the router’s log no longer has this run)'));
    if (u.input_tokens !== undefined) bits.push(h('span', {}, `${u.input_tokens} in · ${u.output_tokens} out tokens`));
    if (typeof d.cost_usd === 'number') bits.push(h('span', {}, fmtUsd(d.cost_usd)));
    const why = this.decision(d);
    fill(this.meta, h('p', { class: 'meta-line' }, bits.map((b, i) => [i ? ' · ' : '', b])), why);
  }

  decision(d) {
    if (!d.routed) return d.expert ? h('p', { class: 'muted' }, `You chose ${d.expert.id}; the router was not asked.`) : null;
    // The router's log for the run, else the routing events the run carried.
    let ds = d.dispatches || [];
    if (!ds.length) {
      ds = (this.routing || []).filter((r) => r.candidates).map((r) => ({
        task_type: r.task_type, ranked: r.candidates, attempts: r.attempts || [],
        excluded: (r.excluded || []).map((x) => [x.expert, x.reason]),
      }));
    }
    if (!ds.length) return null;
    return h('details', { class: 'why' }, h('summary', {}, 'Why this expert'),
      h('ol', {}, ds.map((x) => h('li', {},
        h('p', {}, `Task type ${x.task_type}; candidates: `, x.ranked.map((r, i) => [i ? ', ' : '', h('code', {}, r.expert), ` ${Number(r.score).toFixed(3)}`])),
        x.excluded && x.excluded.length ? h('p', {}, 'Excluded: ', x.excluded.map(([e, why], i) => [i ? '; ' : '', h('code', {}, e), ` (${why})`])) : null,
        h('p', {}, 'Tried: ', x.attempts.map((a, i) => [i ? ' → ' : '', h('code', {}, a.expert), ` ${a.outcome} in ${Number(a.latency_ms).toFixed(1)} ms`, a.message ? ` (${a.message})` : ''])),
        x.attempts.length > 1 ? h('p', {}, `${x.attempts.length - 1} fallback(s) taken.`) : null))));
  }
}

class Dock {
  constructor(el, api, session) {
    this.el = el;
    this.api = api;
    this.session = session;
    this.model = localStorage.getItem(MODEL_KEY) || 'auto';
    this.current = null;
    const sid = uid('dock-model');
    const qid = uid('dock-q');
    this.select = h('select', { id: sid, onchange: () => this.setModel(this.select.value) }, h('option', { value: this.model }, this.model));
    this.log = h('ol', { class: 'chat', 'aria-label': 'Conversation', tabindex: '0' });
    this.input = h('textarea', { id: qid, rows: '2', placeholder: 'Ask, e.g. “list my tasks”', required: true });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); this.form.requestSubmit(); }
    });
    this.send = h('button', { type: 'submit', class: 'primary' }, 'Send');
    this.stop = h('button', { type: 'button', hidden: true, onclick: () => this.cancel() }, 'Stop');
    this.form = h('form', { class: 'dock-form', onsubmit: (e) => { e.preventDefault(); this.ask(); } },
      h('label', { for: qid }, 'Ask the dock'), this.input, h('div', { class: 'actions' }, this.send, this.stop));
    this.note = h('p', { class: 'note' });
    fill(el,
      h('div', { class: 'dock-head' }, h('h2', {}, 'AI dock'),
        h('button', { type: 'button', class: 'link', onclick: () => this.clear() }, 'New chat')),
      h('div', { class: 'field' }, h('label', { for: sid }, 'Model or route'), this.select),
      this.note, this.log, this.form);
    if (session.scripted_only) {
      this.note.textContent = 'No provider keys are set: the dock uses the server’s scripted experts, which follow fixed rules and are not language models.';
    } else {
      this.note.hidden = true;
    }
    this.loadModels();
    this.restore();
  }

  async loadModels() {
    try {
      const r = await this.api.get('/v1/models');
      const ids = (r.data || []).map((m) => m.id);
      if (!ids.includes(this.model)) this.model = 'auto';
      fill(this.select, (r.data || []).map((m) => h('option', { value: m.id },
        m.toolplane && m.toolplane.kind === 'route' ? `${m.id} (route)` : `${m.id} (${m.owned_by})`)));
      this.select.value = this.model;
    } catch { /* the picker keeps `auto` */ }
  }

  setModel(id) {
    this.model = id;
    localStorage.setItem(MODEL_KEY, id);
    if ([...this.select.options].some((o) => o.value === id)) this.select.value = id;
  }

  focus() { this.input.focus(); }

  reset() { fill(this.log); this.current = null; }

  async clear() {
    try { await this.api.del('/console/conversation'); } catch { /* shown empty anyway */ }
    this.reset();
    announce('New conversation');
    this.input.focus();
  }

  async restore() {
    try {
      const r = await this.api.get('/console/conversation');
      for (const d of r.data || []) {
        const t = new Turn(this, d.input, d.id);
        this.log.appendChild(t.el);
        (d.events || []).forEach((v) => t.apply(v));
        t.nextSeq = (d.events || []).length;
        t.details(d);
        if (d.status === 'running') this.follow(t);
      }
      this.log.lastElementChild?.scrollIntoView({ block: 'end' });
    } catch { /* an empty dock */ }
  }

  busy(on) {
    this.send.disabled = on;
    this.stop.hidden = !on;
    if (!on && document.activeElement === this.stop) this.input.focus();
  }

  async ask() {
    const text = this.input.value.trim();
    if (!text) { this.input.focus(); return; }
    this.input.value = '';
    let run;
    try {
      run = await this.api.post('/console/conversation', { input: text, model: this.model });
    } catch (e) {
      const t = new Turn(this, text, null);
      t.status.textContent = e.message;
      t.answer.setAttribute('aria-busy', 'false');
      this.log.appendChild(t.el);
      return;
    }
    const t = new Turn(this, text, run.id);
    this.log.appendChild(t.el);
    t.el.scrollIntoView({ block: 'end' });
    this.follow(t);
  }

  async cancel() {
    if (!this.current) return;
    try { await this.api.del(`/v1/runs/${encodeURIComponent(this.current.runId)}`); } catch (e) { this.current.status.textContent = e.message; }
  }

  /** Streams a run's events from where the turn stands until it rests, then fetches its details. */
  async follow(t) {
    this.current = t;
    this.busy(true);
    try {
      const headers = { accept: 'text/event-stream' };
      if (t.nextSeq > 0) headers['last-event-id'] = String(t.nextSeq - 1);
      const resp = await fetch(`/v1/runs/${encodeURIComponent(t.runId)}/events`, { headers, credentials: 'same-origin' });
      if (!resp.ok) throw new Error(`the run's events answered HTTP ${resp.status}`);
      await readSse(resp, (e) => {
        const seq = e.id === null ? t.nextSeq : Number(e.id);
        if (seq < t.nextSeq) return;
        t.nextSeq = seq + 1;
        let v;
        try { v = JSON.parse(e.data); } catch { return; }
        t.apply(v);
      });
      const d = await this.api.get(`/console/runs/${encodeURIComponent(t.runId)}`);
      t.details(d);
      if (d.status === 'answered') announce('The dock answered');
    } catch (e) {
      t.status.textContent = e.message;
    } finally {
      if (this.current === t) this.current = null;
      this.busy(false);
    }
  }
}

/** Starts the dock in `el`. */
export function initDock(el, api, session) {
  instance = new Dock(el, api, session);
  return instance;
}
