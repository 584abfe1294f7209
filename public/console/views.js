/* global document */
/**
 * Small DOM helpers of the console: elements built with textContent only (a label or a
 * conference name is shown, never parsed as HTML), durations, times, and the SIP ladder — the
 * messages of a call between Conclave and its peers as arrows, as sngrep draws them.
 */

/** An element with attributes (`class`, `aria-*`, `data-*`, …) and children (nodes or text). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === 'onclick') node.addEventListener('click', value);
    else if (name === 'onsubmit') node.addEventListener('submit', value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** Sets text only when it changed, so screen readers and selection are not disturbed. */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** `m:ss` or `h:mm:ss` since `since` (a date string of the API). */
export function durationSince(since, now = Date.now()) {
  const start = Date.parse(since);
  if (Number.isNaN(start)) return '';
  return formatSeconds(Math.max(0, Math.floor((now - start) / 1000)));
}

export function formatSeconds(total) {
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** A time of day, to the millisecond, from a date string or epoch milliseconds. */
export function timeOfDay(value) {
  const date = new Date(typeof value === 'number' ? value : Date.parse(value));
  if (Number.isNaN(date.getTime())) return '';
  return `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * The SIP ladder: one row per message, Conclave on the left, the peer (source or destination)
 * on the right, the arrow pointing the way the message went; its full text opens below.
 */
export function sipLadder(messages) {
  if (messages.length === 0) return el('p', {}, 'No SIP messages for this call (a simulated call has none).');
  const rows = messages.map((message) => {
    const inbound = message.direction === 'in';
    const peer = inbound ? message.source : message.destination;
    return el(
      'li',
      { class: `sip ${inbound ? 'sip-in' : 'sip-out'}` },
      el('span', { class: 'sip-time' }, timeOfDay(message.time)),
      el(
        'span',
        { class: 'sip-arrow', title: inbound ? `from ${peer} to Conclave` : `from Conclave to ${peer}` },
        ...(inbound ? [el('span', { 'aria-hidden': 'true' }, '◀── '), el('span', { class: 'sip-line' }, message.firstLine)] : [el('span', { class: 'sip-line' }, message.firstLine), el('span', { 'aria-hidden': 'true' }, ' ──▶')]),
        el('span', { class: 'visually-hidden' }, inbound ? ` (received from ${peer})` : ` (sent to ${peer})`),
      ),
      el('span', { class: 'sip-peer' }, `${peer} (${message.transport})`),
      el('details', {}, el('summary', {}, 'Message'), el('pre', {}, message.text)),
    );
  });
  return el('div', { class: 'ladder' }, el('div', { class: 'ladder-head', 'aria-hidden': 'true' }, el('span', {}, 'Conclave'), el('span', {}, 'Peer')), el('ol', { class: 'ladder-rows' }, ...rows));
}
