// specd chat: a client of the WebSocket protocol of GET /v1/ws (README, "The WebSocket protocol")
// that shows how each token was produced. Plain browser JavaScript, no build step, nothing loaded
// from the network.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = 'specd.api_key';          // sessionStorage: the API key, for this tab only
  const FIRST_BACKOFF_MS = 500;
  const MAX_BACKOFF_MS = 10000;
  const SPARK_POINTS = 60;
  const RATE_WINDOW_MS = 300;

  const ui = {
    log: $('log'), status: $('status'), model: $('model'), prompt: $('prompt'),
    send: $('send'), stop: $('stop'), policy: $('policy'), temperature: $('temperature'),
    maxTokens: $('max-tokens'), chatTemplate: $('chat-template'), compare: $('compare'),
    newChat: $('new-chat'), keyForm: $('key-form'), key: $('api-key'), keyError: $('key-error'),
    liveRate: $('live-rate'), liveAccepted: $('live-accepted'),
    sparkRate: $('spark-rate'), sparkAccepted: $('spark-accepted'),
  };

  const history = [];   // the chat so far, sent with each request in chat mode
  const jobs = [];      // requests waiting for the one running: a connection runs them in turn
  let running = null;   // the job whose answer is streaming
  let socket = null;
  let health = null;
  let backoff = FIRST_BACKOFF_MS;
  let retry = null;

  // ---- small helpers ----

  function element(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setStatus(text, kind) {
    ui.status.textContent = text;
    ui.status.className = 'status' + (kind ? ' ' + kind : '');
  }

  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function percent(x) {
    return Math.round(100 * x) + '%';
  }

  function seconds(ms) {
    return (ms / 1000).toFixed(2) + ' s';
  }

  function describeDepth(depth) {
    return depth === 0 ? "the target's own token" : 'accepted from the draft at depth ' + depth;
  }

  // ---- the live panel: tokens/s and tokens per step while an answer streams ----

  class Sparkline {
    constructor(svg, label) {
      this.line = svg.querySelector('polyline');
      this.label = label;
      this.values = [];
    }

    reset() {
      this.values = [];
      this.line.setAttribute('points', '');
      this.label.textContent = '–';
    }

    add(value, shown) {
      this.values.push(value);
      if (this.values.length > SPARK_POINTS) this.values.shift();
      const max = Math.max(...this.values, 1e-9);
      const step = 120 / (SPARK_POINTS - 1);
      this.line.setAttribute('points', this.values
          .map((v, i) => (i * step).toFixed(1) + ',' + (23 - 22 * v / max).toFixed(1)).join(' '));
      this.label.textContent = shown;
    }
  }

  const live = {
    rate: new Sparkline(ui.sparkRate, ui.liveRate),
    accepted: new Sparkline(ui.sparkAccepted, ui.liveAccepted),
    arrivals: [],   // [time, tokens] of the recent frames
    run: 0,         // tokens of the step in progress
    steps: 0,
    tokens: 0,
    first: true,    // the prefill's token is no step

    reset() {
      this.rate.reset();
      this.accepted.reset();
      this.arrivals = [];
      this.run = 0;
      this.steps = 0;
      this.tokens = 0;
      this.first = true;
    },

    // Each step commits its accepted drafts (depth 1..k) and then the target's token (depth 0).
    frame(tokens) {
      const now = performance.now();
      this.arrivals.push([now, tokens.length]);
      while (this.arrivals.length > 1 && now - this.arrivals[0][0] > RATE_WINDOW_MS) {
        this.arrivals.shift();
      }
      const counted = this.arrivals.reduce((sum, a) => sum + a[1], 0);
      const span = Math.max(now - this.arrivals[0][0], 16);
      const rate = 1000 * counted / span;
      this.rate.add(rate, Math.round(rate).toString());
      for (const token of tokens) {
        this.run++;
        if (token.depth !== 0) continue;
        if (!this.first) {
          this.steps++;
          this.tokens += this.run;
          this.accepted.add(this.run, (this.tokens / this.steps).toFixed(2));
        }
        this.first = false;
        this.run = 0;
      }
    },
  };

  // ---- one answer in the log ----

  class Answer {
    constructor(parent) {
      this.turn = element('div', 'turn assistant');
      this.turn.append(element('span', 'who', 'specd: '));
      this.text = element('span', 'text');
      this.turn.append(this.text);
      this.stats = element('div', 'stats');
      this.content = '';
      this.started = performance.now();
      this.elapsed = null;
      parent.append(this.turn, this.stats);
    }

    token(frame) {
      this.content += frame.text;
      for (const span of frame.spans) {
        const depth = Math.min(span.depth, 4);
        const piece = element('span', 'd' + depth, span.text);
        piece.title = describeDepth(span.depth);
        this.text.append(piece);
      }
      live.frame(frame.tokens);
    }

    done(frame) {
      this.elapsed = performance.now() - this.started;
      const s = frame.usage.speculative;
      this.stats.textContent = [
        frame.usage.completion_tokens + ' tokens', frame.finish_reason,
        s.drafter + ' / ' + s.policy, s.mean_accepted.toFixed(2) + ' tokens/step',
        Math.round(s.tokens_per_second) + ' tokens/s', seconds(this.elapsed),
      ].join(' · ');
      if (s.acceptance_per_depth.length > 0) {
        const depths = element('div', 'depths');
        depths.textContent = 'accepted at depth ' + s.acceptance_per_depth
            .map((rate, i) => (i + 1) + ': ' + percent(rate)).join(' · ');
        this.stats.append(depths);
      }
    }

    // An error replaces an answer that has no text yet, so no empty line is left behind.
    error(message) {
      const line = element('div', 'turn error', 'error: ' + message);
      if (this.content === '') {
        this.turn.replaceWith(line);
        this.stats.remove();
      } else {
        this.stats.before(line);
      }
    }

    stopped() {
      this.text.classList.add('stopped');
    }
  }

  // ---- requests ----

  // A request to send; keep: its answer joins the chat history.
  function job(request, policy, parent, keep, after) {
    const body = Object.assign({}, request);
    if (policy) body.policy = policy;
    return {body, parent, keep, after, answer: null};
  }

  function submit() {
    const text = ui.prompt.value.trim();
    if (!text || !connected() || running) return;
    ui.prompt.value = '';
    const turn = element('div', 'turn user');
    turn.append(element('span', 'who', 'you: '), document.createTextNode(text));
    ui.log.append(turn);
    const chat = ui.chatTemplate.checked;
    if (chat) history.push({role: 'user', content: text});
    const request = {
      max_tokens: parseInt(ui.maxTokens.value, 10),
      temperature: parseFloat(ui.temperature.value),
    };
    if (chat) {
      request.messages = history.slice();
    } else {
      request.prompt = text;
    }
    if (ui.compare.checked) {
      compare(request, ui.policy.value, chat);
    } else {
      jobs.push(job(request, ui.policy.value, ui.log, chat, null));
    }
    next();
  }

  // The same request with speculation and with plain decoding, one after the other.
  function compare(request, policy, chat) {
    const grid = element('div', 'comparison');
    const left = element('div');
    const right = element('div');
    left.append(element('div', 'label', 'speculative (' + (policy || health.policy) + ')'));
    right.append(element('div', 'label', 'plain decoding (none)'));
    grid.append(left, right);
    const verdict = element('div', 'verdict');
    ui.log.append(grid, verdict);
    const speculative = job(request, policy, left, chat, null);
    jobs.push(speculative, job(request, 'none', right, false,
        (plain) => judge(verdict, speculative.answer, plain.answer, request.temperature)));
  }

  function judge(verdict, speculative, plain, temperature) {
    const same = speculative.content === plain.content;
    verdict.className = 'verdict ' + (same ? 'same' : 'differ');
    const speedup = plain.elapsed / speculative.elapsed;
    verdict.textContent = (same ? '✓ identical texts' : '✗ the texts differ'
        + (temperature > 0 ? ' (expected when sampling)' : ''))
        + ' · speculative ' + seconds(speculative.elapsed) + ', plain ' + seconds(plain.elapsed)
        + ': ' + speedup.toFixed(2) + '× as fast';
  }

  // Sends the next waiting request when none is running.
  function next() {
    if (!running && jobs.length > 0 && connected()) {
      running = jobs.shift();
      running.answer = new Answer(running.parent);
      live.reset();
      socket.send(JSON.stringify(running.body));
    }
    showBusy();
  }

  // The running request ended: its answer joins the history (or, without one, its question
  // leaves it); after a failure the requests waiting are dropped.
  function settle(ok) {
    const done = running;
    running = null;
    if (done.keep && done.answer.content) {
      history.push({role: 'assistant', content: done.answer.content});
    } else if (done.keep) {
      history.pop();
    }
    if (ok && done.after) {
      done.after(done);
    }
    if (!ok) {
      jobs.length = 0;
    }
  }

  function onFrame(message) {
    const frame = JSON.parse(message.data);
    if (!running) {
      if (frame.type === 'error') {
        ui.log.append(element('div', 'turn error', 'error: ' + frame.message));
      }
      return;
    }
    if (frame.type === 'token') {
      running.answer.token(frame);
    } else if (frame.type === 'done') {
      running.answer.done(frame);
      settle(true);
      next();
    } else if (frame.type === 'error') {
      running.answer.error(frame.message);
      settle(false);
      next();
    }
    scrollDown();
  }

  // Stop: closing the connection cancels the session on the server; a new connection follows.
  function stop() {
    if (!running) return;
    running.answer.stopped();
    settle(false);
    reconnectNow();
  }

  function newChat() {
    stop();
    history.length = 0;
    ui.log.replaceChildren();
    live.reset();
    ui.prompt.focus();
  }

  function showBusy() {
    ui.send.disabled = !connected() || running !== null;
    ui.stop.hidden = running === null;
    ui.send.hidden = running !== null;
  }

  // ---- the connection ----

  function connected() {
    return socket !== null && socket.readyState === WebSocket.OPEN;
  }

  function socketUrl() {
    const url = new URL('v1/ws', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const key = sessionStorage.getItem(KEY);
    url.search = key ? '?api_key=' + encodeURIComponent(key) : '';
    return url.href;
  }

  function connect() {
    clearTimeout(retry);
    setStatus('connecting…');
    const s = new WebSocket(socketUrl());
    let opened = false;
    s.onopen = () => {
      opened = true;
      backoff = FIRST_BACKOFF_MS;
      setStatus('connected', 'up');
      next();
    };
    s.onmessage = onFrame;
    s.onclose = () => {
      if (socket !== s) return;
      socket = null;
      if (running) {
        running.answer.error('the connection was lost');
        settle(false);
      }
      showBusy();
      if (!opened && health && health.api_key_required) {
        checkKey();
      } else {
        reconnectLater();
      }
    };
    socket = s;
    showBusy();
  }

  function reconnectNow() {
    const old = socket;
    socket = null;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.close();
    }
    connect();
  }

  function reconnectLater() {
    setStatus('disconnected: reconnecting in ' + seconds(backoff), 'down');
    retry = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
  }

  // A refused connection with a key required: ask again if the key is wrong, else retry.
  async function checkKey() {
    const key = sessionStorage.getItem(KEY);
    try {
      const response = await fetch('v1/models', {headers: {Authorization: 'Bearer ' + key}});
      if (response.status === 401) {
        sessionStorage.removeItem(KEY);
        askKey('the server refused this key');
        return;
      }
    } catch (e) {
      // the server is unreachable: retry below
    }
    reconnectLater();
  }

  function askKey(problem) {
    setStatus('API key needed', 'down');
    ui.keyForm.hidden = false;
    ui.keyError.hidden = !problem;
    ui.keyError.textContent = problem || '';
    ui.key.focus();
  }

  function useKey(event) {
    event.preventDefault();
    sessionStorage.setItem(KEY, ui.key.value.trim());
    ui.key.value = '';
    ui.keyForm.hidden = true;
    connect();
  }

  // ---- start ----

  async function start() {
    try {
      const response = await fetch('health');
      health = await response.json();
    } catch (e) {
      setStatus('server unreachable: retrying in ' + seconds(backoff), 'down');
      setTimeout(start, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      return;
    }
    ui.model.textContent = health.model + ' · drafter ' + health.drafter;
    ui.policy.options[0].textContent = 'server default (' + health.policy + ')';
    ui.chatTemplate.checked = health.chat_template === true;
    const fromUrl = new URLSearchParams(location.search).get('api_key');
    if (fromUrl) sessionStorage.setItem(KEY, fromUrl);
    if (health.api_key_required && !sessionStorage.getItem(KEY)) {
      askKey(null);
    } else {
      connect();
    }
  }

  ui.prompt.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  ui.stop.addEventListener('click', stop);
  ui.newChat.addEventListener('click', newChat);
  ui.keyForm.addEventListener('submit', useKey);
  start();
})();
