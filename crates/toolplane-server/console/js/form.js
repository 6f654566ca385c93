// A form generated from a tool's JSON Schema. The browser does not validate
// (novalidate): the executor does, and its errors are put next to the fields
// their JSON pointers name.

import { h, fill, uid, announce, jsonBlock } from './dom.js';

const esc = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

function resolve(schema, root, depth = 0) {
  if (!schema || typeof schema !== 'object' || depth > 16) return schema || {};
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    let target = root;
    for (const part of schema.$ref.slice(2).split('/')) {
      target = target && target[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    }
    const { $ref, ...rest } = schema;
    return resolve({ ...(target || {}), ...rest }, root, depth + 1);
  }
  if (Array.isArray(schema.allOf)) {
    const merged = { ...schema, properties: { ...(schema.properties || {}) }, required: [...(schema.required || [])] };
    delete merged.allOf;
    for (const part of schema.allOf) {
      const p = resolve(part, root, depth + 1);
      Object.assign(merged.properties, p.properties || {});
      merged.required.push(...(p.required || []));
      if (!merged.type && p.type) merged.type = p.type;
    }
    return merged;
  }
  return schema;
}

function typeOf(schema) {
  let t = schema.type;
  if (Array.isArray(t)) t = t.find((x) => x !== 'null');
  if (!t && schema.properties) t = 'object';
  if (!t && schema.items) t = 'array';
  return t;
}

function constraints(s) {
  const bits = [];
  if (s.minimum !== undefined && s.maximum !== undefined) bits.push(`${s.minimum} to ${s.maximum}`);
  else if (s.minimum !== undefined) bits.push(`at least ${s.minimum}`);
  else if (s.maximum !== undefined) bits.push(`at most ${s.maximum}`);
  if (s.minLength) bits.push(`at least ${s.minLength} characters`);
  if (s.maxLength) bits.push(`at most ${s.maxLength} characters`);
  if (s.pattern) bits.push(`matches ${s.pattern}`);
  if (s.format) bits.push(s.format);
  if (s.default !== undefined) bits.push(`default ${JSON.stringify(s.default)}`);
  return bits.join('; ');
}

/** The form's state: fields by JSON pointer. */
class Fields {
  constructor() { this.byPointer = new Map(); }
  add(pointer, f) { this.byPointer.set(pointer, f); }
  clearErrors(formError) {
    for (const f of this.byPointer.values()) f.setError('');
    fill(formError);
  }
}

// One field: a wrapper with label, hint and error; returns {el, value()}.
function field(schemaIn, root, pointer, name, required, fields) {
  const schema = resolve(schemaIn, root);
  const type = typeOf(schema);
  const id = uid('f');
  const hintId = `${id}-hint`;
  const errId = `${id}-err`;
  const title = schema.title || name || (pointer ? 'value' : 'Arguments (JSON)');
  const errEl = h('p', { class: 'field-error', id: errId });
  const describe = [schema.description ? hintId : null, errId].filter(Boolean).join(' ');
  const hintText = [schema.description, constraints(schema)].filter(Boolean).join(' — ');
  const hint = hintText ? h('p', { class: 'hint', id: hintId }, hintText) : null;
  const labelEl = (forId) => h('label', { for: forId }, title, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null,
    required ? h('span', { class: 'sr-only' }, ' (required)') : null);
  let control;
  let read;
  let wrap;
  const common = { id, 'aria-describedby': hint ? `${hintId} ${errId}` : errId, 'aria-required': required ? 'true' : null, dataset: { pointer } };

  if (Array.isArray(schema.enum)) {
    const opts = schema.enum;
    control = h('select', common,
      required ? null : h('option', { value: '' }, '— not set —'),
      opts.map((v, i) => h('option', { value: String(i) }, typeof v === 'string' ? v : JSON.stringify(v))));
    if (required && schema.default !== undefined) {
      const i = opts.findIndex((v) => JSON.stringify(v) === JSON.stringify(schema.default));
      if (i >= 0) control.value = String(i);
    }
    read = () => (control.value === '' ? undefined : opts[Number(control.value)]);
  } else if (type === 'boolean') {
    if (required) {
      control = h('input', { ...common, type: 'checkbox', checked: schema.default === true });
      read = () => control.checked;
    } else {
      control = h('select', common, h('option', { value: '' }, '— not set —'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
      read = () => (control.value === '' ? undefined : control.value === 'true');
    }
  } else if (type === 'integer' || type === 'number') {
    control = h('input', { ...common, type: 'number', step: type === 'integer' ? '1' : 'any', inputmode: type === 'integer' ? 'numeric' : 'decimal' });
    read = () => (control.value.trim() === '' ? undefined : Number(control.value));
  } else if (type === 'string') {
    const big = (schema.maxLength || 0) > 300 || schema.format === 'textarea';
    control = big
      ? h('textarea', { ...common, rows: '3' })
      : h('input', { ...common, type: schema.format === 'date' ? 'date' : 'text', autocomplete: 'off' });
    read = () => (control.value === '' ? undefined : control.value);
  } else if (type === 'object' && schema.properties && Object.keys(schema.properties).length) {
    const req = new Set(schema.required || []);
    // Required fields first, each group in the schema's order.
    const children = Object.entries(schema.properties)
      .filter(([, s]) => !(s && s.readOnly))
      .sort(([a], [b]) => Number(req.has(b)) - Number(req.has(a)))
      .map(([k, s]) => ({ k, f: field(s, root, `${pointer}/${esc(k)}`, k, req.has(k), fields) }));
    wrap = h('fieldset', { class: 'object', 'aria-describedby': describe || null },
      pointer ? h('legend', {}, title, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null) : h('legend', { class: 'sr-only' }, 'Arguments'),
      hint, errEl, children.map((c) => c.f.el));
    read = () => {
      const out = {};
      for (const c of children) {
        const v = c.f.value();
        if (v !== undefined) out[c.k] = v;
      }
      return Object.keys(out).length || required || !pointer ? out : undefined;
    };
  } else if (type === 'array') {
    const items = [];
    const list = h('ol', { class: 'items' });
    const add = () => {
      const i = items.length;
      const f = field(schema.items || {}, root, `${pointer}/${i}`, `${title} item ${i + 1}`, true, fields);
      const remove = h('button', { type: 'button', class: 'link', onclick: () => {
        const at = items.indexOf(entry);
        items.splice(at, 1);
        li.remove();
        addBtn.focus();
      } }, `Remove item ${i + 1}`);
      const li = h('li', {}, f.el, remove);
      const entry = { f, li };
      items.push(entry);
      list.appendChild(li);
      const first = li.querySelector('input, select, textarea');
      if (first) first.focus();
    };
    const addBtn = h('button', { type: 'button', onclick: add }, `Add ${title} item`);
    wrap = h('fieldset', { class: 'array', 'aria-describedby': describe || null },
      h('legend', {}, title, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null), hint, errEl, list, addBtn);
    read = () => {
      if (!items.length) return required ? [] : undefined;
      return items.map((e) => e.f.value());
    };
  } else {
    // anyOf/oneOf, free-form objects, no type: JSON text.
    control = h('textarea', { ...common, rows: '3', class: 'mono', placeholder: 'JSON' });
    read = () => {
      const t = control.value.trim();
      if (!t) return undefined;
      try { return JSON.parse(t); } catch (e) { throw Object.assign(new Error(`not valid JSON: ${e.message}`), { pointer }); }
    };
  }

  if (!wrap) {
    const checkbox = control.type === 'checkbox';
    wrap = h('div', { class: checkbox ? 'field check' : 'field' },
      checkbox ? [control, labelEl(id)] : [labelEl(id), control], hint, errEl);
  }
  const f = {
    el: wrap,
    control,
    value: read,
    setError(msg) {
      errEl.textContent = msg;
      wrap.classList.toggle('invalid', !!msg);
      if (control) {
        if (msg) control.setAttribute('aria-invalid', 'true');
        else control.removeAttribute('aria-invalid');
      }
    },
    focus() { (control || wrap.querySelector('input, select, textarea, button'))?.focus(); },
  };
  fields.add(pointer, f);
  return f;
}

/** Validation errors of an ApiError, as [{pointer, message}] (both the executor's and the server's shapes). */
export function fieldErrors(err) {
  const d = err && err.details;
  if (!d) return [];
  const list = d.errors || d.violations || [];
  return list.map((e) => ({ pointer: e.path ?? e.pointer ?? '', message: e.message || String(e) }));
}

/** Puts `errors` next to their fields (or on the nearest parent, or the form); focuses the first. */
function showErrors(fields, formError, errors) {
  let first = null;
  const shown = new Map();
  for (const e of errors) {
    let p = e.pointer === '/' ? '' : e.pointer;
    while (p && !fields.byPointer.has(p)) p = p.slice(0, p.lastIndexOf('/'));
    const f = fields.byPointer.get(p);
    if (f && p !== '') {
      shown.set(f, [...(shown.get(f) || []), e.message]);
      if (!first) first = f;
    } else {
      formError.appendChild(h('li', {}, e.pointer && e.pointer !== '/' ? `${e.pointer}: ${e.message}` : e.message));
    }
  }
  for (const [f, msgs] of shown) f.setError(msgs.join('; '));
  return first;
}

function statusOf(output) {
  return output && typeof output === 'object' && Number.isInteger(output.status) && 'body' in output ? output.status : null;
}

/** The result of a call: HTTP status (OpenAPI tools), pretty JSON, collapsible. */
export function resultView(r) {
  const status = statusOf(r.output);
  const ok = !r.is_error && (status === null || (status >= 200 && status < 300));
  return h('section', { class: `result ${ok ? 'ok' : 'bad'}`, 'aria-label': 'Result' },
    h('h3', {}, 'Result ',
      status !== null ? h('span', { class: `badge ${ok ? 'ok' : 'bad'}` }, `HTTP ${status}`) : null,
      r.is_error ? h('span', { class: 'badge bad' }, 'tool error') : null,
      r.truncated ? h('span', { class: 'badge' }, 'truncated') : null),
    status !== null ? jsonBlock(r.output.body, { summary: 'Body' }) : null,
    jsonBlock(r.output, { summary: status !== null ? 'Whole output' : 'Output', open: status === null }));
}

/**
 * Renders the form for `tool` into `container`. `ctx`: {api, push(step), pop()} from the palette,
 * used for the approval step.
 */
export function toolForm(container, tool, ctx) {
  const root = tool.input_schema || { type: 'object' };
  const fields = new Fields();
  const rootField = field(root, root, '', '', true, fields);
  const formError = h('ul', { class: 'form-error' });
  const resultArea = h('div', { class: 'result-area', 'aria-live': 'polite' });
  const runBtn = h('button', { type: 'submit', class: 'primary' }, 'Run');
  const form = h('form', { class: 'tool-form', novalidate: true, 'aria-label': `Arguments of ${tool.name}` },
    rootField.el, h('div', { role: 'alert' }, formError), h('div', { class: 'actions' }, runBtn));

  async function call(args, approvalToken) {
    const headers = approvalToken ? { 'x-toolplane-approval': approvalToken } : {};
    runBtn.disabled = true;
    fill(resultArea, h('p', { class: 'muted' }, `Running ${tool.name}…`));
    try {
      const r = await ctx.api.request('POST', `/v1/tools/${encodeURIComponent(tool.name)}/call`, args, { headers });
      fill(resultArea, resultView(r.body));
      announce(`${tool.name} finished`);
      resultArea.querySelector('summary')?.focus();
    } catch (err) {
      fill(resultArea);
      if (err.code === 'approval_required' && !approvalToken) {
        ctx.push(approvalStep(tool, args, err, ctx, (token) => call(args, token), () => {
          fill(resultArea, h('p', { class: 'error' }, `You rejected the call to ${tool.name}; it did not run.`));
        }));
        return;
      }
      const errs = fieldErrors(err);
      const first = errs.length ? showErrors(fields, formError, errs) : null;
      if (!errs.length) formError.appendChild(h('li', {}, err.message));
      announce(`${tool.name} failed: ${err.message}`);
      if (first) {
        first.focus();
      } else {
        formError.setAttribute('tabindex', '-1');
        formError.focus();
      }
    } finally {
      runBtn.disabled = false;
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    fields.clearErrors(formError);
    let args;
    try {
      args = rootField.value() || {};
    } catch (err) {
      const f = fields.byPointer.get(err.pointer);
      if (f) { f.setError(err.message); f.focus(); } else formError.appendChild(h('li', {}, err.message));
      return;
    }
    call(args);
  });

  fill(container,
    h('p', { class: 'tool-desc' }, tool.description || 'No description.'),
    form, resultArea);
  return { focus: () => { const c = form.querySelector('input, select, textarea'); (c || runBtn).focus(); } };
}

/** The approval step: what would run, the rule and its explanation; Approve or Reject. */
function approvalStep(tool, args, err, ctx, onApproved, onRejected) {
  const a = err.approval || (err.details && err.details.approval) || {};
  return {
    title: `Approve ${tool.name}?`,
    render(el) {
      const status = h('p', { class: 'error', role: 'alert' });
      const decide = async (decision) => {
        if (!a.id) {
          status.textContent = `The server asks for an approval but sent no request id: ${err.message}`;
          return;
        }
        try {
          const r = await ctx.api.post(`/v1/tools/approvals/${encodeURIComponent(a.id)}`, { decision });
          ctx.pop();
          if (decision === 'approve') onApproved(r.token); else onRejected();
        } catch (e) {
          status.textContent = e.message;
        }
      };
      const approve = h('button', { type: 'button', class: 'primary', onclick: () => decide('approve') }, 'Approve');
      fill(el,
        h('p', {}, err.message),
        a.rule ? h('p', {}, 'Rule: ', h('code', {}, a.rule)) : null,
        a.explanation ? h('p', {}, a.explanation) : null,
        jsonBlock(a.arguments || args, { summary: 'Arguments' }),
        status,
        h('div', { class: 'actions' }, approve, h('button', { type: 'button', onclick: () => decide('reject') }, 'Reject')));
      return { focus: () => approve.focus() };
    },
  };
}
